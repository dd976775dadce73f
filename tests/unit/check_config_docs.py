#!/usr/bin/python3
"""Proves that the example config and hids-agent.conf(5) list exactly the config key table's keys, each in its section with the table's default.

usage: check_config_docs.py DUMP_BINARY EXAMPLE_CONF MAN_PAGE

DUMP_BINARY prints the table (tests/unit/config_table_dump.c). A key whose
table default is "-" has none, or one derived at run time: only its presence
is checked. Sections named "filter NAME" are rules, whose keys filter.c
owns; they are not compared.
"""
import re
import subprocess
import sys

MULTI = object()  # an entry naming several keys, which gives no single default


def load_table(dump):
    """Returns {(section, key): default or None} from the dump program."""
    out = subprocess.run([dump], check=True, capture_output=True, text=True).stdout
    table = {}
    for line in out.splitlines():
        section, name, _type, default, _reload = line.split("\t")
        table[(section, name)] = None if default == "-" else default
    return table


def parse_example(path, errors):
    """Returns {(section, key): value} of the example config, commented or not."""
    keys = {}
    section = None
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        m = re.match(r"^#?\[([^\]]+)\]\s*$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^#?([a-z0-9_]+) =(.*)$", line)
        if not m or section is None or " " in section:
            continue
        k = (section, m.group(1))
        if k in keys:
            errors.append(f"{path}:{n}: [{k[0]}] {k[1]} listed twice")
        keys[k] = m.group(2).strip()
    return keys


def parse_man(path, errors):
    """Returns {(section, key): default or None} of the man page's key entries."""
    lines = open(path, encoding="utf-8").read().splitlines()
    entries = []  # (section, [names], first line index, last line index)
    section = None
    for i, line in enumerate(lines):
        if line.startswith(".Sh "):
            section = None
            continue
        m = re.match(r"^\.Ss \\&\[([^\]]+)\]", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^\.Cm \[([^\]]+)\]", line)
        if m and i > 0 and lines[i - 1].startswith("Keys of"):
            section = m.group(1)
            continue
        if section is None:
            continue
        if (line.startswith(".It") or line.startswith(".El")) and entries and \
                entries[-1][3] is None:
            entries[-1][3] = i
        if line.startswith(".It Cm "):
            names = re.findall(r"(?:^\.It|\s,)\s+Cm (\S+)", line)
            entries.append([section, names, i, None])
    keys = {}
    for section, names, first, last in entries:
        if " " in section:
            continue
        body = lines[first + 1:last if last is not None else len(lines)]
        default = None
        for j, line in enumerate(body):
            m = re.match(r"^Default: (\S+)\.$", line)
            if m:
                default = m.group(1)
            elif line.startswith("Default:") and j + 1 < len(body):
                m = re.match(r"^\.(?:Cm|Li) (\S+) \.$", body[j + 1])
                if m:
                    default = m.group(1)
        for name in names:
            k = (section, name)
            if k in keys:
                errors.append(f"{path}:{first + 1}: [{section}] {name} described twice")
            keys[k] = default if len(names) == 1 else MULTI
    return keys


def compare(what, table, found, errors):
    """Reports keys missing from or extra in found, and defaults that differ."""
    for k in sorted(table.keys() - found.keys()):
        errors.append(f"{what}: [{k[0]}] {k[1]} is in the table but not listed")
    for k in sorted(found.keys() - table.keys()):
        errors.append(f"{what}: [{k[0]}] {k[1]} is listed but is not a key")
    for k in sorted(table.keys() & found.keys()):
        want = table[k]
        if want is not None and found[k] is not MULTI and found[k] != want:
            errors.append(f"{what}: [{k[0]}] {k[1]} default is '{found[k]}', "
                          f"the table says '{want}'")


def main():
    dump, example, man = sys.argv[1:4]
    table = load_table(dump)
    errors = []
    compare(example, table, parse_example(example, errors), errors)
    compare(man, table, parse_man(man, errors), errors)
    for e in errors:
        print(e)
    print(f"{len(table)} keys checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
