#!/usr/bin/python3
"""Helper of test_exe.sh: runs a binary from a memfd (fexecve), as fileless malware does, with argv [memfd-true, MARKER]: the agent must hash what ran.

usage: memfd_exec.py BINARY MARKER
"""
import os, sys
fd = os.memfd_create("hidsexe")
os.write(fd, open(sys.argv[1], "rb").read())
os.execve(fd, ["memfd-true", sys.argv[2]], {})
