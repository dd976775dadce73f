#!/usr/bin/python3
"""Helper of test_spool.sh: prints how many of the expected event.ids (one a line in WANT) are in the received FILE.

usage: ids_arrived.py WANT FILE
"""
import json, sys
want = set(open(sys.argv[1]).read().split())
got = set()
for line in open(sys.argv[2], "rb"):
    try:
        got.add(json.loads(line)["event"]["id"])
    except Exception:
        pass
print(len(want & got))
