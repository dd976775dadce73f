#!/usr/bin/python3
"""Helper of test_exe.sh: prints the first exec event of /bin/sh whose argv holds MARKER.

usage: exe_find.py CAPTURE MARKER
"""
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    args = d.get("process", {}).get("args") or []
    if d["event"]["action"] == "exec" and args[:1] == ["/bin/sh"] and sys.argv[2] in args:
        print(json.dumps(d))
        break
