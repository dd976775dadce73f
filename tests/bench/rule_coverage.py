#!/usr/bin/python3
"""Proves how many of Elastic's prebuilt Linux process rules can fire on our events: those whose every field we fill and whose event.action/event.type values we emit.

usage: rule_coverage.py [--fields FILE | --events FILE] [--index NAME]
                        [--list] [--missing] RULES_DIR

RULES_DIR is a checkout of github:elastic/detection-rules (the script
reads RULES_DIR/rules/linux/*.toml; it never needs the network). What we
fill comes from one of:
  --fields FILE   the field list the project keeps (tests/fields.txt,
                  the default): its fields, and the event.action values
                  it names;
  --events FILE   a capture of the agent's JSON lines: every field path
                  and every event.action/event.type value in it (so the
                  figures of an older build can be measured from what it
                  wrote).

A rule counts as a Linux process rule when its query asks for process
events (EQL "process where", or event.category process). Of those, the
ones that also need another data source (file, network, auditd,
kubernetes, ... events or fields) are reported apart. A rule is covered
when every field its query (and its new_terms or threshold fields)
references is one we fill, and, where it constrains event.action or
event.type, at least one value it accepts is one we emit. --index NAME
also counts the rules whose index patterns match NAME (the data stream
docs/siem.md suggests). The figures are an upper bound on what fires: a
covered rule also needs the values it matches to occur.

Uses only Debian's python3 (tomllib, Python 3.11).
"""

import argparse
import fnmatch
import glob
import json
import os
import re
import sys
import tomllib
from collections import Counter

# Roots of ECS fields (and of the other sources' fields) a query can name.
ROOTS = ("process", "event", "host", "user", "group", "file", "network",
         "destination", "source", "container", "agent", "data_stream",
         "dns", "url", "auditd", "kubernetes", "orchestrator", "cloud",
         "related", "powershell", "registry", "Effective_process",
         "Target", "dll", "tls", "http", "server", "client", "service",
         "system", "winlog", "endgame", "threat", "rule", "package",
         "observer", "log", "labels", "tags", "message", "error", "ecs",
         "Events", "Endpoint", "tty", "device")
OTHER_SOURCES = ("file", "network", "destination", "source", "dns", "url",
                 "auditd", "kubernetes", "orchestrator", "cloud", "dll",
                 "tls", "http", "server", "client", "registry", "package",
                 "powershell", "winlog", "system", "Effective_process",
                 "Target", "Events", "Endpoint", "endgame", "service")
OTHER_CATEGORIES = ("file", "network", "library", "authentication", "iam",
                    "driver", "configuration", "session", "api", "host",
                    "intrusion_detection")
FIELD_RE = re.compile(r"(?<![\w.@$-])([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_@]+)+)(?![\w(])")
STRING_RE = re.compile(r'"""(?:.|\n)*?"""|\?"(?:[^"\\]|\\.)*"|"(?:[^"\\\n]|\\.)*"'
                       r"|'(?:[^'\\\n]|\\.)*'", re.S)
VALUES_RE = re.compile(
    r"\bevent\.(action|type)\s*(?:==|:|\bin\b|:\s*\(|\bin~|:~|like~?)\s*\(?\s*"
    r"((?:\"[^\"]*\"|[A-Za-z_*]+)(?:\s*(?:,|\bor\b)\s*(?:\"[^\"]*\"|[A-Za-z_*]+))*)", re.I)


def load_fields(path):
    """Reads tests/fields.txt: the fields we fill and the actions we emit."""
    fields, actions = set(), set()
    with open(path) as f:
        for raw in f:
            line = raw.split("#", 1)[0].split()
            if len(line) < 2:
                continue
            act, field = line[0], line[1]
            fields.add(field)
            if act not in ("any", "process"):
                actions.add(act)
    types = {"start", "end", "change", "access", "info"}
    return fields, {"action": actions, "type": types}


def walk(prefix, obj, out):
    """Adds every leaf path of a JSON object to out (arrays count as leaves)."""
    for k, v in obj.items():
        p = prefix + k
        if isinstance(v, dict):
            out.add(p)
            walk(p + ".", v, out)
        else:
            out.add(p)


def load_events(path):
    """Reads a capture of JSON lines: the fields and action/type values in it."""
    fields, actions, types = set(), set(), set()
    with open(path, "rb") as f:
        for raw in f:
            try:
                d = json.loads(raw)
            except ValueError:
                continue
            walk("", d, fields)
            ev = d.get("event", {})
            if ev.get("action"):
                actions.add(ev["action"])
            for t in ev.get("type", []) or []:
                types.add(t)
    return fields, {"action": actions, "type": types}


def rule_fields(rule):
    """Returns the fields a rule's query (and new_terms/threshold) references."""
    q = rule.get("query", "") or ""
    if rule.get("language") == "esql":
        q = re.sub(r"(?im)^\s*from\s+[^|\n]*", "", q)
    q = STRING_RE.sub('""', q)
    out = set()
    for m in FIELD_RE.finditer(q):
        name = m.group(1)
        if name.split(".")[0] in ROOTS:
            out.add(name.rstrip("."))
    nt = rule.get("new_terms") or {}
    for v in nt.get("value", []) or []:
        out.add(v)
    th = rule.get("threshold") or {}
    for v in th.get("field", []) or []:
        out.add(v)
    return out


def rule_values(rule):
    """Returns {"action": set, "type": set} of the values a rule accepts, where it constrains them."""
    q = rule.get("query", "") or ""
    got = {}
    for m in VALUES_RE.finditer(q):
        vals = set(re.findall(r'"([^"]*)"|([A-Za-z_*]+)', m.group(2)))
        vals = {a or b for a, b in vals} - {"or", "and", "in"}
        got.setdefault(m.group(1).lower(), set()).update(vals)
    return got


def rule_indexes(rule):
    """The index patterns a rule searches: its index list, or an ES|QL query's FROM."""
    if rule.get("index"):
        return rule["index"]
    m = re.search(r"(?im)^\s*from\s+([^|\n]*)", rule.get("query", "") or "")
    return [p.strip() for p in m.group(1).split(",")] if m else []


def is_process_rule(rule):
    """Whether a rule's query asks for process events."""
    q = rule.get("query", "") or ""
    return bool(re.search(r"\bprocess\s+where\b", q) or
                re.search(r'event\.category\s*(?:==|:)\s*\(?\s*"?process"?', q) or
                re.search(r'event\.category\s+in\s*\([^)]*"process"', q))


def other_source(rule, fields):
    """Whether a process rule also needs another data source; returns why, or None."""
    q = STRING_RE.sub('""', rule.get("query", "") or "")
    for cat in OTHER_CATEGORIES:
        if re.search(r"\b%s\s+where\b" % cat, q):
            return cat + " events"
    raw = rule.get("query", "") or ""
    for cat in OTHER_CATEGORIES:
        if re.search(r'event\.category\s*(?:==|:)\s*\(?\s*"?%s"?\b' % cat, raw):
            return cat + " events"
    for f in sorted(fields):
        if f.split(".")[0] in OTHER_SOURCES:
            return f.split(".")[0] + ".*"
    return None


def filled(field, have):
    """Whether we fill a field: itself, or (for an object or wildcard) something under it."""
    if field in have:
        return True
    if field.endswith("*"):
        pre = field.rstrip("*")
        return any(h.startswith(pre) for h in have)
    return any(h.startswith(field + ".") for h in have)


def accepts(want, emit):
    """Whether one of the values a rule accepts (maybe with wildcards) is one we emit."""
    for w in want:
        for e in emit:
            if w == e or fnmatch.fnmatchcase(e, w):
                return True
    return False


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rules_dir")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--fields", default=os.path.join(here, "..", "fields.txt"))
    g.add_argument("--events")
    ap.add_argument("--index", help="a data stream name to test the rules' index patterns against")
    ap.add_argument("--list", action="store_true", help="list every process rule and its verdict")
    ap.add_argument("--missing", action="store_true", help="rank the fields that block rules")
    a = ap.parse_args()

    if a.events:
        have, emit = load_events(a.events)
    else:
        have, emit = load_fields(a.fields)
    files = sorted(glob.glob(os.path.join(a.rules_dir, "rules", "linux", "*.toml")))
    if not files:
        sys.stderr.write("rule_coverage: no rules under %s/rules/linux\n" % a.rules_dir)
        return 2
    total = proc = linux = other = covered = index_ok = index_inscope = index_covered = 0
    blocking = Counter()
    only_one = Counter()
    for path in files:
        with open(path, "rb") as f:
            rule = tomllib.load(f).get("rule", {})
        total += 1
        if not is_process_rule(rule):
            continue
        proc += 1
        fields = rule_fields(rule)
        if "host.os.type" in fields:
            linux += 1
        why = other_source(rule, fields)
        if why:
            other += 1
            verdict = "other source (%s)" % why
        else:
            miss = sorted(f for f in fields if not filled(f, have))
            vals = rule_values(rule)
            bad_vals = ["event.%s in %s" % (k, sorted(v)) for k, v in vals.items()
                        if k in emit and not accepts(v, emit[k])]
            for m in miss:
                blocking[m] += 1
            if len(miss) + len(bad_vals) == 1:
                only_one[(miss + bad_vals)[0]] += 1
            for b in bad_vals:
                blocking[b] += 1
            if not miss and not bad_vals:
                covered += 1
                verdict = "covered"
            else:
                verdict = "missing " + ", ".join(miss + bad_vals)
        if a.index and any(fnmatch.fnmatchcase(a.index, p) for p in rule_indexes(rule)):
            index_ok += 1
            index_inscope += not why
            index_covered += verdict == "covered"
        elif a.index and a.list:
            verdict += " (index %s)" % (rule.get("index") or rule.get("language"))
        if a.list:
            print("%s: %s" % (os.path.basename(path), verdict))
    inscope = proc - other
    print("rules in rules/linux: %d" % total)
    print("Linux process rules: %d (%d of them require host.os.type)" % (proc, linux))
    print("  needing another data source as well: %d" % other)
    print("  in scope: %d" % inscope)
    print("  covered (every field filled, action/type values emitted): %d (%.0f %%)"
          % (covered, 100.0 * covered / inscope if inscope else 0))
    if a.index:
        print("process rules whose index patterns match %s: %d of %d (in scope %d of %d, covered %d of %d)"
              % (a.index, index_ok, proc, index_inscope, inscope, index_covered, covered))
    if a.missing:
        print("fields or values blocking in-scope rules (rules; rules blocked by it alone):")
        for f, n in blocking.most_common(40):
            print("  %4d %4d  %s" % (n, only_one[f], f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
