#!/usr/bin/python3
"""Proves, from test_clock.sh's capture, how far the marked exec's @timestamp lies outside the wall-clock window it ran in: prints the seconds (0.000 inside), or none.

usage: clock_skew.py CAPTURE MARK T0 T1
"""
import datetime, json, sys
path, mark, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
for line in open(path, "rb"):
    if mark.encode() not in line:
        continue
    ev = json.loads(line)
    if ev["event"]["action"] != "exec":
        continue
    ts = ev["@timestamp"]
    whole, frac = ts.rstrip("Z").split(".")
    t = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp() + float("0." + frac)
    # Inside [t0, t1] is no skew; outside, the distance to it.
    print("%.3f" % (t - t1 if t > t1 else t - t0 if t < t0 else 0.0))
    sys.exit(0)
print("none")
