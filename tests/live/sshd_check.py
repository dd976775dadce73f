#!/usr/bin/python3
"""Proves, from test_sshd.sh's capture of logins to a private sshd, the entry leader of type sshd with its source.ip, user.audit.id, the parent command line and interactive sessions: prints one ok/bad line per check.

usage: sshd_check.py CAPTURE MARKER1 MARKER2 UID
"""
import json, sys
path, m1, m2, uid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

from check_util import get, report

execs = {}
for line in open(path):
    d = json.loads(line)
    args = get(d, "process.args") or []
    if d["event"]["action"] == "exec" and args[:1] == ["/bin/echo"]:
        for m in (m1, m2):
            if m in args:
                execs[m] = d
for m, tty in ((m1, False), (m2, True)):
    d = execs.get(m)
    name = "ssh -tt" if tty else "ssh"
    report(d is not None, f"{name}: the exec of the command is reported")
    if d is None:
        continue
    el = get(d, "process.entry_leader") or {}
    report(get(el, "entry_meta.type") == "sshd",
           f"{name}: entry_meta.type is sshd: {get(el, 'entry_meta')}")
    report(get(el, "entry_meta.source.ip") == "127.0.0.1", f"{name}: source.ip is 127.0.0.1")
    report(el.get("pid") == get(d, "process.parent.pid") and el.get("executable") == "/usr/bin/dash",
           f"{name}: the entry leader is the user's shell, whole: {el.get('pid')} {el.get('executable')}")
    report(get(el, "user.id") == uid, f"{name}: the entry leader runs as the user")
    report(get(d, "user.audit.id") == uid, f"{name}: user.audit.id is the user's uid: {get(d, 'user.audit')}")
    report(get(d, "user.id") == uid, f"{name}: user.id is the user's uid")
    report(m in (get(d, "process.parent.command_line") or ""),
           f"{name}: parent.command_line is the shell's: {get(d, 'process.parent.command_line')}")
    report(get(d, "process.parent.user.id") == uid, f"{name}: parent.user.id")
    report(get(d, "auditd.session") is not None, f"{name}: auditd.session is set")
    report(get(d, "process.interactive") is tty, f"{name}: process.interactive is {tty}")
    report(get(d, "process.parent.interactive") is tty, f"{name}: parent.interactive is {tty}")
    report(get(el, "interactive") is tty, f"{name}: entry_leader.interactive is {tty}")
    if tty:
        report(136 <= (get(d, "process.tty.char_device.major") or 0) <= 143,
               f"{name}: the tty is a pts: {get(d, 'process.tty')}")
    sl = get(d, "process.session_leader") or {}
    report(sl.get("pid") == el.get("pid") and sl.get("name") is not None,
           f"{name}: the session leader is the shell, whole")
