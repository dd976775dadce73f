#!/usr/bin/python3
"""Proves that the example config and hids-agent.conf(5) list exactly the config key table's keys, each in its section with the table's default, and that hids-agent(8) names the keys only a restart applies.

usage: check_config_docs.py DUMP_BINARY EXAMPLE_CONF MAN_PAGE [AGENT_MAN_PAGE]

With AGENT_MAN_PAGE (hids-agent(8)), its SIGHUP list of what takes effect
only at the next start must name exactly the table's restart-only keys.

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
    """Returns {(section, key): default or None} and the restart-only keys."""
    out = subprocess.run([dump], check=True, capture_output=True, text=True).stdout
    table = {}
    restart = set()
    for line in out.splitlines():
        section, name, _type, default, reload = line.split("\t")
        table[(section, name)] = None if default == "-" else default
        if reload == "restart":
            restart.add((section, name))
    return table, restart


def check_restart_list(path, table, restart, errors):
    """Checks hids-agent(8)'s SIGHUP list of keys that need a restart."""
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^Changes to\n(.*?)take effect at the next start", text, re.S | re.M)
    if not m:
        errors.append(f"{path}: no \"Changes to ... take effect at the next start\" list")
        return
    listed = set()
    for item in re.findall(r"^\.Cm (.+?)(?: ,)?$", m.group(1), re.M):
        sm = re.match(r"^\[(\w+)\](?: (\w+))?$", item)
        if sm and sm.group(2):
            keys = {(sm.group(1), sm.group(2))}
        elif sm:
            keys = {k for k in table if k[0] == sm.group(1)}
        else:
            keys = {k for k in table if k[1] == item}
        if not keys:
            errors.append(f"{path}: the restart list names '{item}', which is no key")
        for k in sorted(keys - restart):
            errors.append(f"{path}: the restart list covers [{k[0]}] {k[1]}, "
                          "which a reload applies")
        listed |= keys
    for k in sorted(restart - listed):
        errors.append(f"{path}: [{k[0]}] {k[1]} needs a restart but the list omits it")


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
    table, restart = load_table(dump)
    errors = []
    if len(sys.argv) > 4:
        check_restart_list(sys.argv[4], table, restart, errors)
    compare(example, table, parse_example(example, errors), errors)
    compare(man, table, parse_man(man, errors), errors)
    for e in errors:
        print(e)
    print(f"{len(table)} keys checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
