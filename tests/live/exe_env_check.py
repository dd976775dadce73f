#!/usr/bin/python3
"""Proves, from the exec event test_exe.sh found, that process.env_vars holds the listed variables (LD_PRELOAD escaped, GLIBC_TUNABLES, SUDO_USER) and no others: prints one word per finding.

usage: exe_env_check.py EXEC_JSON
"""
import json, sys
d = json.load(open(sys.argv[1]))
env = d["process"].get("env_vars", [])
esc = d.get("hids", {}).get("escaped", [])
print("preload" if "LD_PRELOAD=/tmp/\\xff\x1b[2J.so" in env else "no-preload")
print("tunables" if "GLIBC_TUNABLES=glibc.malloc.check=3" in env else "no-tunables")
print("sudo" if "SUDO_USER=alice" in env else "no-sudo")
print("secret" if any(e.startswith("SECRET_TOKEN") or e.startswith("PATH=") for e in env) else "no-secret")
print("escaped" if "process.env_vars" in esc else "not-escaped")
