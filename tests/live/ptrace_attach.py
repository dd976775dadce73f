#!/usr/bin/python3
"""Makes one ptrace attach and detach: runs /bin/sh -c "sleep 0.5" LABEL, attaches to it, waits for the stop and detaches, so the connector reports a ptrace event of a labelled process.

usage: ptrace_attach.py LABEL
"""

import ctypes, os, subprocess, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
child = subprocess.Popen(["/bin/sh", "-c", "sleep 0.5", sys.argv[1]])
time.sleep(0.2)
if libc.ptrace(16, child.pid, None, None) != 0:	# PTRACE_ATTACH
    sys.exit("ptrace attach: errno %d" % ctypes.get_errno())
os.waitpid(child.pid, 0)
libc.ptrace(17, child.pid, None, None)	# PTRACE_DETACH
child.wait()
