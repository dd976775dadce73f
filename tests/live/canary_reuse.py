#!/usr/bin/python3
"""Helper of test_canary.sh: runs a payload under the pid of the agent's canary as soon as that pid is free.

usage: canary_reuse.py AGENT_PID MARKER [TIMEOUT_S]

It listens to the process-events connector itself, waits for the agent's
next canary (a fork whose parent is the agent, a process rather than a
thread) and that canary's exit, then forks until a child gets the
canary's pid (writing pid - 1 to /proc/sys/kernel/ns_last_pid before
each try, as an attacker with root would); that child execs a Python
that sleeps 0.3 s, with MARKER as its last argument. It prints one JSON
object: the pid, how long the pid stayed taken after the canary's exit
(held_ms, while the agent keeps its zombie) and how many forks it took.
Needs root. Exits 1 on a timeout.
"""
import json
import os
import socket
import struct
import sys
import time

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
PROC_CN_MCAST_LISTEN = 1
PROC_CN_MCAST_IGNORE = 2
NLMSG_DONE = 3
PROC_EVENT_FORK = 0x00000001
PROC_EVENT_EXIT = 0x80000000
NLMSG_HDR = struct.Struct("=IHHII")
CN_MSG = struct.Struct("=IIIIHH")
PROC_EV_HDR = struct.Struct("=IIQ")


def control(sock, op):
    """Sends one multicast op (listen or ignore) to the connector."""
    body = struct.pack("=I", op)
    cn = CN_MSG.pack(CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(body), 0) + body
    sock.send(NLMSG_HDR.pack(NLMSG_HDR.size + len(cn), NLMSG_DONE, 0, 0, os.getpid()) + cn)


def events(sock, deadline):
    """Yields (what, fields) for every proc_event until the deadline."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            buf = sock.recv(65536)
        except socket.timeout:
            return
        except OSError:
            continue    # ENOBUFS: lost some; the canary comes again
        off = 0
        while off + NLMSG_HDR.size <= len(buf):
            nlen = NLMSG_HDR.unpack_from(buf, off)[0]
            if nlen < NLMSG_HDR.size or off + nlen > len(buf):
                break
            body = off + NLMSG_HDR.size + CN_MSG.size
            if body + PROC_EV_HDR.size + 24 <= off + nlen:
                what = PROC_EV_HDR.unpack_from(buf, body)[0]
                fields = struct.unpack_from("=6I", buf, body + PROC_EV_HDR.size)
                yield what, fields
            off += (nlen + 3) & ~3


def wait_canary(sock, agent, deadline):
    """Returns the pid of the agent's next canary once it has exited, or None."""
    canary = None
    for what, f in events(sock, deadline):
        if what == PROC_EVENT_FORK and f[1] == agent and f[2] == f[3] and f[3] != agent:
            canary = f[3]
        elif what == PROC_EVENT_EXIT and canary and f[0] == canary and f[1] == canary:
            return canary
    return None


def take_pid(pid, marker, deadline):
    """Forks until a child gets pid and runs the payload; returns (forks made or 0, when)."""
    tries = 0
    while time.monotonic() < deadline:
        if os.path.exists("/proc/%d" % pid):
            time.sleep(0.0005)   # still taken: the agent's zombie, or a reuser
            continue
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        child = os.fork()
        if child == 0:
            if os.getpid() == pid:
                # Lives long enough for its argv to be read even under load.
                os.execv(sys.executable, [sys.executable, "-c",
                                          "import time; time.sleep(0.3)", marker])
            os._exit(0)
        tries += 1
        got = time.monotonic()
        os.waitpid(child, 0)
        if child == pid:
            return tries, got
    return 0, time.monotonic()


def main():
    agent, marker = int(sys.argv[1]), sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
    deadline = time.monotonic() + timeout
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((os.getpid(), CN_IDX_PROC))
    control(sock, PROC_CN_MCAST_LISTEN)
    try:
        pid = wait_canary(sock, agent, deadline)
    finally:
        control(sock, PROC_CN_MCAST_IGNORE)
        sock.close()
    if pid is None:
        print(json.dumps({"error": "no canary of process %d seen" % agent}))
        return 1
    exited = time.monotonic()
    tries, got = take_pid(pid, marker, deadline)
    held_ms = int((got - exited) * 1000)
    print(json.dumps({"pid": pid, "held_ms": held_ms, "forks": tries, "helper": os.getpid()}))
    return 0 if tries else 1


if __name__ == "__main__":
    sys.exit(main())
