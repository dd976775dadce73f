#!/usr/bin/python3
"""Helper of the RELP and spool tests: parses spool segments as the format is documented (resyncing on the next magic after a bad header or CRC) and prints every valid payload, or with records one TSV row per record: segment, offset, end, event.id.

usage: spool_dump.py DIR [lines|records]
"""
import glob, json, os, struct, sys, zlib
d, mode = sys.argv[1], sys.argv[2]
MAGIC = b"HSR1"
out = sys.stdout.buffer
for path in sorted(glob.glob(os.path.join(d, "seg-*.hsp"))):
    try:
        data = open(path, "rb").read()
    except OSError:
        continue
    off = 0
    while off + 12 <= len(data):
        magic, ln, crc = struct.unpack_from("<4sII", data, off)
        end = off + 12 + ln
        if magic == MAGIC and end <= len(data) and zlib.crc32(data[off + 12:end]) == crc:
            payload = data[off + 12:end].rstrip(b"\n")
            if mode == "records":
                try:
                    eid = json.loads(payload)["event"]["id"]
                except Exception:
                    eid = "-"
                out.write(("%s\t%d\t%d\t%s\n" % (os.path.basename(path), off, end, eid)).encode())
            else:
                out.write(payload + b"\n")
            off = end
            continue
        nxt = data.find(MAGIC, off + 1)
        off = nxt if nxt >= 0 else len(data)
