"""Proves what an agent sends a hostile RELP collector is exactly its frames: every syslog frame a whole JSON line, transactions and event.sequence in order, never freed heap, even when the collector answers transactions it has not read yet.

relpcol.py: a RELP-over-TLS test collector for test_relp_early_ack.sh. It
listens on loopback only. On its first --hostile connections it answers the
agent's open, then stops reading for --stall seconds (with a small receive
buffer, so the agent's lines pile up in its own memory, as on a slow network)
and answers "200 OK" for the next --acks transaction numbers, which it can
predict, before it has read them; then it reads again. Later connections
behave as an honest collector that answers each frame once it has read it.

Every frame received is parsed strictly and checked: consecutive transaction
numbers from 1, a known command, syslog data that is one valid UTF-8 JSON
object without a newline, event.sequence increasing and event.id not repeated
within the connection. The syslog lines go to --out, one per line. Counters
(connections, frames_ok, frames_bad, first_bad, early_acks) go to
--stats-file as JSON, rewritten atomically. It writes its PID to --pid-file
once listening, exits on SIGTERM or SIGINT and after --max-seconds.
Standard library only (Debian's /usr/bin/python3).
"""

import argparse
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time

STOP = threading.Event()
LOCK = threading.Lock()
HEADER = re.compile(rb"(\d{1,9}) ([A-Za-z]{1,32}) (\d{1,9})([ \n])")
PARTIAL = re.compile(rb"\d{0,9}( [A-Za-z]{0,32}( \d{0,9})?)?")
STATS = {"connections": 0, "frames_ok": 0, "frames_bad": 0, "first_bad": "",
         "early_acks": 0, "hostile_done": 0}


def log(msg):
    """Prints one timestamped log line."""
    print("%.3f relpcol: %s" % (time.time(), msg), flush=True)


def save_stats(path):
    """Writes the counters to the stats file."""
    if not path:
        return
    with LOCK:
        text = json.dumps(STATS, sort_keys=True)
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.replace(path + ".tmp", path)


def parse_frame(buf):
    """Parses one RELP frame at the start of buf: (txnr, command, data,
    consumed), None when more bytes are needed; ValueError when bad."""
    m = HEADER.match(buf)
    if m is None:
        if len(buf) < 64 and PARTIAL.fullmatch(buf):
            return None
        raise ValueError("bad frame header %r" % bytes(buf[:48]))
    txnr, cmd, dlen = int(m[1]), m[2].decode(), int(m[3])
    pos = m.end()
    if m[4] == b"\n":
        if dlen != 0:
            raise ValueError("frame %d: length %d but no data" % (txnr, dlen))
        return txnr, cmd, b"", pos
    if len(buf) < pos + dlen + 1:
        return None
    if buf[pos + dlen] != 0x0A:
        raise ValueError("frame %d: not terminated by LF" % txnr)
    return txnr, cmd, bytes(buf[pos:pos + dlen]), pos + dlen + 1


class Conn:
    """The checks of one connection: what was expected next, what was seen."""

    def __init__(self, cid, preacked):
        self.cid = cid
        self.expect = 1
        self.last_seq = None
        self.ids = set()
        self.preacked = preacked   # transactions answered before they were read
        self.broken = False

    def bad(self, why):
        """Counts a bad frame; the rest of the connection is not checked."""
        self.broken = True
        with LOCK:
            STATS["frames_bad"] += 1
            if not STATS["first_bad"]:
                STATS["first_bad"] = "conn %d: %s" % (self.cid, why)
        log("conn %d: BAD: %s" % (self.cid, why))

    def check_line(self, txnr, data):
        """Checks one syslog frame's data; returns True if it is a whole event line."""
        try:
            text = data.decode("utf-8")
            obj = json.loads(text)
        except (UnicodeDecodeError, ValueError) as e:
            self.bad("frame %d: data is not a JSON line (%s): %r" % (txnr, e, data[:80]))
            return False
        if "\n" in text or not isinstance(obj, dict):
            self.bad("frame %d: data is not one JSON object" % txnr)
            return False
        ev = obj.get("event") or {}
        seq, eid = ev.get("sequence"), ev.get("id")
        if isinstance(seq, int):
            if self.last_seq is not None and seq <= self.last_seq:
                self.bad("frame %d: event.sequence %d after %d" % (txnr, seq, self.last_seq))
                return False
            self.last_seq = seq
        if eid is not None:
            if eid in self.ids:
                self.bad("frame %d: event.id %s repeated" % (txnr, eid))
                return False
            self.ids.add(eid)
        return True


def answer(tls, txnr):
    """Sends "200 OK" for one transaction."""
    tls.sendall(b"%d rsp 6 200 OK\n" % txnr)


def handle_frame(tls, conn, frame, args):
    """Checks one frame and answers it unless it was answered in advance."""
    txnr, cmd, data, _ = frame
    if txnr != conn.expect:
        conn.bad("transaction %d, expected %d" % (txnr, conn.expect))
        return
    conn.expect += 1
    if cmd == "syslog":
        if conn.check_line(txnr, data):
            with LOCK:
                STATS["frames_ok"] += 1
                with open(args.out, "ab") as f:
                    f.write(data + b"\n")
    elif cmd not in ("open", "close"):
        conn.bad("frame %d: unknown command %r" % (txnr, cmd))
        return
    if txnr > conn.preacked:
        answer(tls, txnr)


def early_acks(tls, conn, args):
    """Stops reading for --stall seconds, then answers the next --acks
    transactions before reading them."""
    log("conn %d: not reading for %.1f s" % (conn.cid, args.stall))
    if STOP.wait(args.stall):
        return
    first = conn.expect
    conn.preacked = first + args.acks - 1
    tls.sendall(b"".join(b"%d rsp 6 200 OK\n" % t for t in range(first, conn.preacked + 1)))
    with LOCK:
        STATS["early_acks"] += args.acks
    log("conn %d: answered transactions %d..%d unread" % (conn.cid, first, conn.preacked))


def serve(tls, conn, hostile, args):
    """Reads, checks and answers frames until the peer goes away."""
    buf = bytearray()
    tls.settimeout(0.5)
    stalled = False
    while not STOP.is_set():
        try:
            data = tls.recv(65536)
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError) as e:
            log("conn %d: read ended: %s" % (conn.cid, e))
            return
        if not data:
            log("conn %d: peer closed" % conn.cid)
            return
        buf += data
        while not conn.broken:
            try:
                frame = parse_frame(buf)
            except ValueError as e:
                conn.bad(str(e))
                break
            if frame is None:
                break
            del buf[:frame[3]]
            handle_frame(tls, conn, frame, args)
            if hostile and not stalled and frame[1] == "open":
                stalled = True
                early_acks(tls, conn, args)
        if conn.broken:
            buf.clear()


def handle_conn(sock, ctx, args, cid):
    """Runs one connection: hostile for the first --hostile ones."""
    with LOCK:
        STATS["connections"] += 1
    hostile = cid <= args.hostile
    log("conn %d: accepted (%s)" % (cid, "hostile" if hostile else "honest"))
    tls = None
    try:
        sock.settimeout(10)
        tls = ctx.wrap_socket(sock, server_side=True)
        serve(tls, Conn(cid, 0), hostile, args)
    except (ssl.SSLError, OSError) as e:
        log("conn %d: %s" % (cid, e))
    finally:
        (tls or sock).close()
        if hostile:
            with LOCK:
                STATS["hostile_done"] += 1
        log("conn %d: closed" % cid)


def main():
    """Runs the collector until SIGTERM, SIGINT or --max-seconds."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--stats-file", required=True)
    p.add_argument("--pid-file", required=True)
    p.add_argument("--hostile", type=int, default=1, help="connections that answer early")
    p.add_argument("--stall", type=float, default=4.0, help="seconds without reading")
    p.add_argument("--acks", type=int, default=128, help="transactions answered unread")
    p.add_argument("--rcvbuf", type=int, default=4096)
    p.add_argument("--max-seconds", type=float, default=300.0)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Before listen(), so accepted sockets inherit it and autotuning is off.
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    lsock.bind(("127.0.0.1", args.port))
    lsock.listen(16)
    lsock.settimeout(0.2)
    open(args.out, "ab").close()
    save_stats(args.stats_file)
    with open(args.pid_file + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.replace(args.pid_file + ".tmp", args.pid_file)
    log("listening on 127.0.0.1:%d" % args.port)
    deadline = time.monotonic() + args.max_seconds
    cid = 0
    while not STOP.is_set() and time.monotonic() < deadline:
        save_stats(args.stats_file)
        try:
            sock, _ = lsock.accept()
        except socket.timeout:
            continue
        cid += 1
        threading.Thread(target=handle_conn, args=(sock, ctx, args, cid), daemon=True).start()
    STOP.set()
    lsock.close()
    time.sleep(0.6)
    save_stats(args.stats_file)
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
