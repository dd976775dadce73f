#!/usr/bin/python3
"""Proves that a capture of real events fills every field tests/fields.txt promises for each action.

usage: fields_check.py FIELDS CAPTURE MARKER

FIELDS is tests/fields.txt: lines "ACTION FIELD [if CONDITION]". ACTION is
an event.action, "process" (every process action) or "any" (every line,
agent records included). The events checked are the lines whose
process.args hold an argument starting with MARKER (the test's labelled
runs); "any" rows are checked on every line. A row with "if CONDITION"
is checked on the events whose args hold MARKER-CONDITION, the run that
meets it; a condition no run met is listed as not checked here (another
test covers it). Every action named in FIELDS must occur among the
events. Prints what is missing, exit 1; or a summary, exit 0.
"""

import json
import sys

PROCESS_ACTIONS = ("fork", "exec", "end", "uid_change", "gid_change",
                   "session_id_change", "ptrace", "comm", "coredump")


def load_rows(path):
    """Returns [(action, field, condition or None, line number)] from the field list."""
    rows = []
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            words = raw.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) == 2:
                rows.append((words[0], words[1], None, n))
            elif len(words) == 4 and words[2] == "if":
                rows.append((words[0], words[1], words[3], n))
            else:
                sys.exit("%s:%d: expected ACTION FIELD [if CONDITION]" % (path, n))
            act = words[0]
            if act not in ("any", "process") + PROCESS_ACTIONS + ("heartbeat", "lost", "suppressed"):
                sys.exit("%s:%d: unknown action %r" % (path, n, act))
    return rows


def get(doc, path):
    """Returns the value at a dotted path, or None."""
    cur = doc
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def filled(v):
    """Whether a value counts as filled: present and not empty."""
    return v is not None and v != "" and v != [] and v != {}


def labels(doc, marker):
    """The labels (MARKER or MARKER-x) among an event's args."""
    args = get(doc, "process.args") or []
    return {a for a in args if isinstance(a, str) and a.startswith(marker)}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    rows = load_rows(sys.argv[1])
    marker = sys.argv[3]
    docs = []
    with open(sys.argv[2], "rb") as f:
        for raw in f:
            docs.append(json.loads(raw))
    ours = [d for d in docs if get(d, "event.action") in PROCESS_ACTIONS and labels(d, marker)]
    missing = []
    checked = unchecked = 0
    seen = {get(d, "event.action") for d in ours}
    for act in sorted({r[0] for r in rows} - {"any", "process", "heartbeat", "lost", "suppressed"}):
        if act not in seen:
            missing.append("no %s event of the test's runs in the capture" % act)
    if not any(get(d, "event.action") == "heartbeat" for d in docs):
        missing.append("no heartbeat in the capture")
    not_checked = set()
    for act, field, cond, n in rows:
        if act == "any":
            pool = docs
        elif act == "process":
            pool = ours
        elif act in PROCESS_ACTIONS:
            pool = [d for d in ours if get(d, "event.action") == act]
        else:
            pool = [d for d in docs if get(d, "event.action") == act]
        if cond is not None:
            pool = [d for d in pool if "%s-%s" % (marker, cond) in labels(d, marker)]
            if not pool:
                not_checked.add("%s %s if %s" % (act, field, cond))
                unchecked += 1
                continue
        checked += 1
        for d in pool:
            if not filled(get(d, field)):
                missing.append("line %d of fields.txt: %s event (pid %s, args %s) has no %s" % (
                    n, get(d, "event.action"), get(d, "process.pid"),
                    json.dumps(get(d, "process.args")), field))
                break
    for m in missing:
        print("missing: " + m)
    for u in sorted(not_checked):
        print("not checked here (no run meets the condition): " + u)
    print("%d rows checked on %d lines (%d events of the test's runs), %d rows left to other tests, %d missing"
          % (checked, len(docs), len(ours), unchecked, len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
