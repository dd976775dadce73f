#!/usr/bin/python3
"""Hostile and ordinary HTTP clients for the agent's metrics endpoint (tests/integration/test_metrics.sh).

Each subcommand prints one line the shell test checks:
  get PORT                       the body of GET /metrics
  query PORT EXPR                the value Prometheus on PORT answers for EXPR ("none": no result)
  status PORT METHOD PATH        the HTTP status code (0: no answer)
  bigheader PORT BYTES           the status code for a GET carrying a header of BYTES, and
                                 whether the server closed the connection
  slowloris PORT MAX_S           seconds until the server closed a connection that sends
                                 one byte of a request per second ("open" if it never did)
  flood PORT N HOLD_S            opens N connections that send half a request and hold them
                                 HOLD_S seconds; prints how many the kernel let connect
"""
import json
import select
import socket
import sys
import time
import urllib.parse
import urllib.request


def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_status(s):
    """Returns the status code of the answer on s, 0 when the server sent none."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    parts = data.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/"):
        try:
            return int(parts[1])
        except ValueError:
            return 0
    return 0


def closed_by_peer(s, wait_s):
    """Says whether the server closes s within wait_s seconds (reading what it sends)."""
    end = time.monotonic() + wait_s
    s.settimeout(0.5)
    while time.monotonic() < end:
        try:
            if not s.recv(65536):
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def cmd_get(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        sys.stdout.write(r.read().decode())


def cmd_query(port, expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            answer = json.load(r)
    except OSError:
        print("none")
        return
    result = answer.get("data", {}).get("result", [])
    print(result[0]["value"][1] if answer.get("status") == "success" and result else "none")


def cmd_status(port, method, path):
    s = connect(int(port))
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".encode())
    print(read_status(s))
    s.close()


def cmd_bigheader(port, size):
    s = connect(int(port))
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * int(size) +
                  b"\r\n\r\n")
    except OSError:
        pass  # the server may close while we still send
    status = read_status(s)
    print(status, "closed" if closed_by_peer(s, 5) else "open")
    s.close()


def cmd_slowloris(port, max_s):
    s = connect(int(port))
    request = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
    start = time.monotonic()
    s.settimeout(1.0)
    for i in range(len(request)):
        if time.monotonic() - start > float(max_s):
            print("open")
            return
        try:
            s.sendall(request[i:i + 1])
            if s.recv(65536) == b"":
                break
        except socket.timeout:
            continue
        except OSError:
            break
    print(f"{time.monotonic() - start:.1f}")


def cmd_flood(port, n, hold_s):
    """Connects n sockets at once (non-blocking: the kernel queues only a backlog)."""
    pending, conns = [], []
    for _ in range(int(n)):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", int(port)))
        pending.append(s)
    end = time.monotonic() + 3
    while pending and time.monotonic() < end:
        _, writable, _ = select.select([], pending, [], 0.2)
        for s in writable:
            pending.remove(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                try:
                    s.send(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    conns.append(s)
                    continue
                except OSError:
                    pass
            s.close()
    print(len(conns), flush=True)
    time.sleep(float(hold_s))
    for s in conns + pending:
        s.close()


if __name__ == "__main__":
    cmds = {"get": cmd_get, "query": cmd_query, "status": cmd_status, "bigheader": cmd_bigheader, "slowloris": cmd_slowloris,
            "flood": cmd_flood}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
