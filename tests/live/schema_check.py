#!/usr/bin/python3
"""Proves that every line the agent wrote is one UTF-8 JSON object valid against the schema.

usage: schema_check.py [--require-actions fork,exec,end] SCHEMA FILE

Checks, for each line of FILE (FILE may be - for standard input):
  - it is valid UTF-8 and ends with a newline (the agent never writes a
    partial line);
  - it is exactly one JSON object: no trailing data, no duplicate keys,
    no NaN or Infinity;
  - it validates against SCHEMA (JSON Schema draft 2020-12);
  - event.id is agent.ephemeral_id-event.sequence, no event.id repeats,
    and event.sequence goes up within one agent run.
Stops at the first bad line with FILE:LINE and the reason, exit 1. On
success prints "N lines valid", exit 0. With --require-actions, also fails
if one of the listed event.action values never occurs. Exit 2 on usage,
I/O or schema errors.

Uses only Debian's python3 and python3-jsonschema (4.10).
"""

import argparse
import json
import sys

try:
    import jsonschema
    from jsonschema.exceptions import best_match
except ImportError:
    sys.stderr.write("schema_check: python3-jsonschema is not installed\n")
    sys.exit(2)

ACTIONS = ("fork", "exec", "end", "uid_change", "gid_change", "session_id_change", "ptrace", "comm",
           "coredump", "lost", "heartbeat", "suppressed")


class LineError(Exception):
    """A line that is not what the agent must write."""


def no_duplicates(pairs):
    """object_pairs_hook that rejects a key given twice in one object."""
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise LineError("duplicate key %r" % key)
        obj[key] = value
    return obj


def no_constants(name):
    """parse_constant hook: NaN and Infinity are not JSON."""
    raise LineError("%s is not valid JSON" % name)


def parse_line(raw):
    """Decodes one line (without its newline) into a dict, or raises LineError."""
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise LineError("not valid UTF-8 at byte %d: %s" % (e.start, e.reason))
    if text.strip() == "":
        raise LineError("empty line")
    try:
        doc = json.loads(text, object_pairs_hook=no_duplicates,
                         parse_constant=no_constants)
    except json.JSONDecodeError as e:
        raise LineError("not one JSON value: %s" % e)
    if not isinstance(doc, dict):
        raise LineError("not a JSON object but %s" % type(doc).__name__)
    return doc


def error_path(err):
    """Renders where in the document a validation error is."""
    path = "$"
    for part in err.absolute_path:
        path += "[%d]" % part if isinstance(part, int) else ".%s" % part
    return path


# Validators whose failure says little by itself; a concrete one is shown first.
WEAK = ("not", "oneOf", "anyOf", "if", "then", "else")


def required_names(schema):
    """Lists the property names a subschema requires, at any depth of anyOf."""
    names = []
    if isinstance(schema, dict):
        names.extend(schema.get("required", []))
        for sub in schema.get("anyOf", []):
            names.extend(required_names(sub))
    return names


def describe(err):
    """Words for one validation error, without dumping the whole document."""
    if err.validator == "not":
        present = [n for n in required_names(err.validator_value)
                   if isinstance(err.instance, dict) and n in err.instance]
        if present:
            return "must not have %s for this event.action" % ", ".join(present)
        return "matches a form that is forbidden here"
    if err.validator in ("oneOf", "anyOf"):
        if not err.context:
            return "matches more than one of the allowed forms"
        forms = {}
        for sub in err.context:
            forms.setdefault(sub.relative_schema_path[0], sub)
        return "matches none of the allowed forms: " + "; or ".join(
            "%s: %s" % (error_path(e), describe(e)) for e in forms.values())
    msg = err.message
    if len(msg) > 300:
        msg = msg[:300] + "..."
    return msg


def schema_error(validator, doc):
    """Returns a one-line description of why doc is invalid, or None."""
    errors = list(validator.iter_errors(doc))
    if not errors:
        return None
    concrete = [e for e in errors if e.validator not in WEAK]
    err = best_match(concrete or errors)
    rule = "/".join(str(p) for p in err.absolute_schema_path)
    return "%s: %s (schema rule %s)" % (error_path(err), describe(err), rule)


class Identity:
    """Cross-line checks on event.id and event.sequence."""

    def __init__(self):
        self.ids = {}
        self.last_seq = {}

    def check(self, doc, lineno):
        """Raises LineError if the line's id is malformed, reused or out of order."""
        ev = doc["event"]
        eph = doc["agent"]["ephemeral_id"]
        want = "%s-%d" % (eph, ev["sequence"])
        if ev["id"] != want:
            raise LineError("event.id %r is not agent.ephemeral_id-event.sequence (%r)"
                            % (ev["id"], want))
        if ev["id"] in self.ids:
            raise LineError("event.id %r already used on line %d"
                            % (ev["id"], self.ids[ev["id"]]))
        self.ids[ev["id"]] = lineno
        last = self.last_seq.get(eph)
        if last is not None and ev["sequence"] <= last:
            raise LineError("event.sequence %d does not follow %d of the same run"
                            % (ev["sequence"], last))
        self.last_seq[eph] = ev["sequence"]


def load_schema(path):
    """Reads and checks the schema; returns a validator."""
    with open(path, "rb") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def read_lines(path):
    """Returns the raw lines of path and whether the last one lacked a newline."""
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    lines = data.split(b"\n")
    partial = lines[-1] != b""
    if not partial:
        lines.pop()
    return lines, partial


def parse_actions(arg):
    """Parses the --require-actions list."""
    wanted = [a.strip() for a in arg.split(",") if a.strip()]
    bad = [a for a in wanted if a not in ACTIONS]
    if bad or not wanted:
        raise argparse.ArgumentTypeError(
            "unknown action %s (expected a comma list of %s)"
            % (", ".join(bad) or "list", ", ".join(ACTIONS)))
    return wanted


def main():
    ap = argparse.ArgumentParser(
        description="Validate hids-agent JSON lines against the event schema.")
    ap.add_argument("--require-actions", type=parse_actions, default=[],
                    metavar="A,B,...",
                    help="fail unless each listed event.action occurs")
    ap.add_argument("schema", help="proto/event.schema.json")
    ap.add_argument("file", help="the agent's output, one JSON object a line (- for stdin)")
    args = ap.parse_args()

    try:
        validator = load_schema(args.schema)
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        print("schema_check: %s: bad schema: %s" % (args.schema, e), file=sys.stderr)
        return 2
    try:
        lines, partial = read_lines(args.file)
    except OSError as e:
        print("schema_check: %s" % e, file=sys.stderr)
        return 2

    name = "<stdin>" if args.file == "-" else args.file
    identity = Identity()
    seen = {}
    for i, raw in enumerate(lines, 1):
        try:
            if partial and i == len(lines):
                raise LineError("no newline at the end: a partial line")
            doc = parse_line(raw)
            why = schema_error(validator, doc)
            if why is not None:
                raise LineError(why)
            identity.check(doc, i)
        except LineError as e:
            print("%s:%d: %s" % (name, i, e), file=sys.stderr)
            return 1
        action = doc["event"]["action"]
        seen[action] = seen.get(action, 0) + 1

    missing = [a for a in args.require_actions if a not in seen]
    if missing:
        print("%s: no line with event.action %s (found: %s)"
              % (name, ", ".join(missing),
                 ", ".join("%s %d" % kv for kv in sorted(seen.items())) or "none"),
              file=sys.stderr)
        return 1
    print("%d lines valid" % len(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
