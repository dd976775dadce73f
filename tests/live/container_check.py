#!/usr/bin/python3
"""Proves, from test_container.sh's capture, that the exec inside a podman container carries podman's container.id, container.runtime, an entry leader of type container (the container's first process, whole), hids.ns_pid and the container's shell as parent: prints one ok/bad line per check.

usage: container_check.py CAPTURE MARKER CONTAINER_ID
"""
import json, sys
path, mark, cid = sys.argv[1:]

from check_util import get, report

ex = None
for line in open(path):
    d = json.loads(line)
    if d["event"]["action"] == "exec" and mark in (get(d, "process.args") or []):
        ex = d
report(ex is not None, "the exec in the container is reported")
if ex is not None:
    report(len(cid) == 64 and get(ex, "container.id") == cid,
           f"container.id is podman's: {get(ex, 'container.id')}")
    report(get(ex, "container.runtime") == "podman", f"container.runtime: {get(ex, 'container.runtime')}")
    el = get(ex, "process.entry_leader") or {}
    report(get(el, "entry_meta.type") == "container", f"entry_meta.type: {get(el, 'entry_meta')}")
    report(el.get("pid") == get(ex, "process.parent.pid") and el.get("args", [])[:2] == ["/bin/busybox", "sh"],
           f"the entry leader is the container's first process, whole: {el.get('pid')} {el.get('args')}")
    ns = get(ex, "hids.ns_pid")
    report(isinstance(ns, int) and 1 < ns < get(ex, "process.pid"),
           f"hids.ns_pid is the pid in the container: {ns}")
    report(get(ex, "process.parent.executable") == "/bin/busybox",
           "the parent is the container's shell")
