#!/usr/bin/python3
"""Helper of test_spool.sh: damages a spool on purpose, flipping 64 bytes of one segment at an offset and cutting another mid-record.

usage: spool_damage.py SEGMENT OFFSET LAST_SEGMENT CUT_TO
"""
import os, sys
path, off, last, cut = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with open(path, "r+b") as f:
    f.seek(off)
    b = bytearray(f.read(64))
    f.seek(off)
    f.write(bytes(x ^ 0xA5 for x in b))
os.truncate(last, cut)
