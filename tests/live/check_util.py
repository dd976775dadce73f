"""Helpers of the live tests' check scripts (container_check.py, sshd_check.py): a dotted-path lookup in an event, and one TAP-like ok/bad line per check for the shell test to count."""


def get(d, path):
    """Returns the value at a dotted ECS path of event d, or None."""
    for k in path.split("."):
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def report(cond, what):
    """Prints "ok WHAT" or "bad WHAT"."""
    print("ok" if cond else "bad", what)
