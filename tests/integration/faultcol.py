#!/usr/bin/python3
"""faultcol.py: a fault-injecting TLS collector for the integration tests.

It listens on loopback only and behaves, per --mode, like a healthy collector
or like a broken one, so that the agent's forwarding can be tested against
faults a real collector rarely shows on demand. It is not a collector to
deploy: it keeps no framing, no acks, and writes raw bytes to a file.

Modes:
  accept          complete the TLS handshake, append every received byte to --out
  stall           complete the handshake, then never read (with a small receive
                  buffer, so the sender's window closes quickly)
  close-mid       on the first --close-count connections, read --close-after
                  bytes then reset the connection; later connections act as accept
  garbage         send endless random bytes inside TLS while reading normally;
                  with --raw, write them under TLS (a corrupt record stream)
  refuse          no listener: exit at once
  slow-handshake  accept TCP, wait --delay seconds, then act as accept
  tls11           accept, but the server speaks only TLS 1.1
  giant           send one --giant-bytes line with no newline, read normally

With --tls12 the server speaks TLS 1.2 at most, and --ciphers limits its
TLS 1.2 suites. With --split-out, each connection's bytes also go to OUT.N. It writes its
PID to --pid-file once listening, keeps counters in
--stats-file (JSON, rewritten atomically), logs one line per connection on
stdout, exits on SIGTERM or SIGINT, and exits by itself after --max-seconds.
Standard library only (Debian's /usr/bin/python3).
"""

import argparse
import json
import os
import select
import signal
import socket
import ssl
import sys
import threading
import time

STOP = threading.Event()
OUT_LOCK = threading.Lock()
SPLIT_OUT = False


class Stats:
    """Counters shared by the connection threads, saved atomically to a file."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.dirty = True
        self.values = {
            "connections": 0,
            "handshakes_completed": 0,
            "handshakes_failed": 0,
            "bytes_received": 0,
            "bytes_sent": 0,
            "closed_mid": 0,
            "peer_closed": 0,
            "last_handshake_error": "",
            "last_error": "",
            "tls_versions": [],
        }

    def add(self, key, n=1):
        """Adds n to a counter."""
        with self.lock:
            self.values[key] += n
            self.dirty = True

    def set(self, key, value):
        """Sets a value (a string or a list)."""
        with self.lock:
            self.values[key] = value
            self.dirty = True

    def note_version(self, version):
        """Remembers a negotiated protocol version."""
        with self.lock:
            if version not in self.values["tls_versions"]:
                self.values["tls_versions"].append(version)
                self.dirty = True

    def save(self, force=False):
        """Writes the counters to the stats file if they changed."""
        if not self.path:
            return
        with self.lock:
            if not (self.dirty or force):
                return
            text = json.dumps(self.values, sort_keys=True)
            self.dirty = False
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, self.path)


def log(msg):
    """Prints one timestamped log line."""
    print("%.3f faultcol: %s" % (time.time(), msg), flush=True)


def make_context(args):
    """Builds the server-side SSL context for the mode."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if args.mode == "tls11":
        # TLS 1.1 needs SHA-1 signatures, which only security level 0 allows.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    if args.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if args.ciphers:
        ctx.set_ciphers(args.ciphers)
    ctx.load_cert_chain(args.cert, args.key)
    if args.require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=args.require_client_cert)
    return ctx


def append_out(path, data, cid=None):
    """Appends received bytes to the output file, and with --split-out also
    to OUT.CID, the file of this connection alone."""
    if not path:
        return
    with OUT_LOCK:
        with open(path, "ab") as f:
            f.write(data)
        if cid is not None and SPLIT_OUT:
            with open("%s.%d" % (path, cid), "ab") as f:
                f.write(data)


def random_chunks(size=16384):
    """Yields endless chunks of random bytes from a pre-made pool."""
    pool = os.urandom(1 << 20)
    off = 0
    while True:
        if off + size > len(pool):
            off = 0
        yield memoryview(pool)[off:off + size]
        off += size


def giant_chunks(total, size=65536):
    """Yields one line of total bytes with no newline, in pieces, then stops."""
    line = memoryview(b"G" * total)
    for off in range(0, total, size):
        yield line[off:off + size]


def serve_io(tls, args, stats, cid, source=None):
    """Reads everything the peer sends into --out while sending what source
    yields; returns when the peer closes, on an error, or on stop."""
    tls.setblocking(False)
    pending = None
    while not STOP.is_set():
        want_write = source is not None or pending is not None
        try:
            r, w, _ = select.select([tls], [tls] if want_write else [], [], 0.2)
        except (OSError, ValueError):
            return
        if r or tls.pending():
            while True:
                try:
                    data = tls.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    break
                except (ssl.SSLError, OSError) as e:
                    stats.set("last_error", str(e))
                    log("conn %d: read error: %s" % (cid, e))
                    return
                if not data:
                    stats.add("peer_closed")
                    log("conn %d: peer closed" % cid)
                    return
                append_out(args.out, data, cid)
                stats.add("bytes_received", len(data))
        if w:
            if pending is None and source is not None:
                pending = next(source, None)
                if pending is None:
                    source = None
                    log("conn %d: finished sending" % cid)
            if pending is not None:
                try:
                    n = tls.send(pending)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    n = 0
                except (ssl.SSLError, OSError) as e:
                    stats.set("last_error", str(e))
                    log("conn %d: write error: %s" % (cid, e))
                    return
                stats.add("bytes_sent", n)
                pending = pending[n:] if n < len(pending) else None


def send_raw_garbage(tls, stats, cid):
    """Writes random bytes under the TLS layer until the peer goes away."""
    raw = socket.socket(fileno=os.dup(tls.fileno()))
    raw.settimeout(0.5)
    chunks = random_chunks(4096)
    try:
        while not STOP.is_set():
            try:
                stats.add("bytes_sent", raw.send(next(chunks)))
            except socket.timeout:
                continue
    except OSError as e:
        log("conn %d: raw garbage stopped: %s" % (cid, e))
        stats.set("last_error", str(e))
    finally:
        raw.close()


def close_mid(tls, args, stats, cid):
    """Reads exactly --close-after bytes, then resets the connection."""
    got = 0
    tls.settimeout(0.5)
    while got < args.close_after and not STOP.is_set():
        try:
            data = tls.recv(min(65536, args.close_after - got))
        except socket.timeout:
            continue
        except (ssl.SSLError, OSError) as e:
            log("conn %d: read error before the cut: %s" % (cid, e))
            return
        if not data:
            stats.add("peer_closed")
            return
        append_out(args.out, data, cid)
        stats.add("bytes_received", len(data))
        got += len(data)
    # SO_LINGER 0: close sends a RST, as a crashed or killed collector would.
    tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    stats.add("closed_mid")
    log("conn %d: cut after %d bytes" % (cid, got))


def alert_mid(tls, args, stats, cid):
    """Reads a little, then ends TLS with an alert (close_notify) while the
    TCP connection stays open, as a collector shutting TLS down would."""
    tls.settimeout(2)
    try:
        data = tls.recv(4096)
        if data:
            append_out(args.out, data, cid)
            stats.add("bytes_received", len(data))
        raw = tls.unwrap()      # sends the alert; TCP stays up
        stats.add("alerts_sent")
        log("conn %d: sent a close_notify alert mid-stream" % cid)
        STOP.wait(3)
        raw.close()
    except (ssl.SSLError, OSError) as e:
        stats.set("last_error", str(e))
        log("conn %d: alert mode: %s" % (cid, e))


def relp_bad(tls, args, stats, cid):
    """Answers a RELP open with what --relp-reply names: garbage, the
    start of a frame far larger than any answer, or (refuse) a 500 refusal
    whose text holds terminal escapes, a newline, a bidirectional override
    and bytes that are not UTF-8."""
    tls.settimeout(2)
    try:
        data = tls.recv(4096)
        append_out(args.out, data, cid)
        if args.relp_reply == "huge":
            tls.sendall(b"1 rsp 999999999 200 OK\n" + b"x" * 200000)
        elif args.relp_reply == "refuse":
            text = (b"500 go away\x1b[2J\nhids-agent: info: forged line \xe2\x80\xae\xff"
                    + b"z" * 1000)
            tls.sendall(b"1 rsp %d %s\n" % (len(text), text))
        else:
            tls.sendall(b"\x00garbage that is not RELP\n" * 100)
        stats.add("bad_relp_sent")
        STOP.wait(3)
    except (ssl.SSLError, OSError) as e:
        stats.set("last_error", str(e))
        log("conn %d: relp-bad mode: %s" % (cid, e))


def handle_conn(sock, peer, ctx, args, stats, cid, closer_slots):
    """Runs one accepted connection through the mode's behaviour."""
    stats.add("connections")
    log("conn %d: from %s" % (cid, peer))
    tls = None
    try:
        if args.mode == "slow-handshake":
            if STOP.wait(args.delay):
                return
        sock.settimeout(args.handshake_timeout)
        tls = ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as e:
            stats.add("handshakes_failed")
            stats.set("last_handshake_error", str(e))
            log("conn %d: handshake failed: %s" % (cid, e))
            return
        stats.add("handshakes_completed")
        stats.note_version(tls.version())
        log("conn %d: handshake done, %s %s" % (cid, tls.version(), tls.cipher()[0]))
        mode = args.mode
        if mode == "stall":
            STOP.wait()
        elif mode == "close-mid" and closer_slots.acquire(blocking=False):
            close_mid(tls, args, stats, cid)
        elif mode == "garbage" and args.raw:
            send_raw_garbage(tls, stats, cid)
        elif mode == "garbage":
            serve_io(tls, args, stats, cid, random_chunks())
        elif mode == "giant":
            serve_io(tls, args, stats, cid, giant_chunks(args.giant_bytes))
        elif mode == "alert":
            alert_mid(tls, args, stats, cid)
        elif mode == "relp-bad":
            relp_bad(tls, args, stats, cid)
        else:
            serve_io(tls, args, stats, cid)
    finally:
        (tls or sock).close()
        log("conn %d: closed" % cid)


def listen(args):
    """Opens the listening socket on loopback."""
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("faultcol: refusing to listen on a non-loopback address")
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    rcvbuf = args.rcvbuf if args.rcvbuf is not None else (4096 if args.mode == "stall" else 0)
    if rcvbuf:
        # Set before listen() so accepted sockets inherit it (and autotuning is off).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((args.host, args.port))
    s.listen(64)
    s.settimeout(0.2)
    return s


def parse_args():
    """Reads the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", required=True, choices=["accept", "stall", "close-mid",
                   "garbage", "refuse", "slow-handshake", "tls11", "giant", "alert",
                   "relp-bad"])
    p.add_argument("--relp-reply", choices=["garbage", "huge", "refuse"], default="garbage",
                   help="relp-bad: what to answer the open with")
    p.add_argument("--host", default="127.0.0.1", help="127.0.0.1 or ::1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", help="server certificate (chain) PEM")
    p.add_argument("--key", help="server key PEM")
    p.add_argument("--require-client-cert", metavar="CAFILE",
                   help="demand a client certificate issued by CAFILE")
    p.add_argument("--tls12", action="store_true", help="speak TLS 1.2 at most")
    p.add_argument("--ciphers", help="the only TLS 1.2 cipher suites offered (OpenSSL list)")
    p.add_argument("--out", help="file that receives every application byte")
    p.add_argument("--split-out", action="store_true",
                   help="also write each connection's bytes to OUT.N (N counts from 1)")
    p.add_argument("--stats-file")
    p.add_argument("--pid-file")
    p.add_argument("--close-after", type=int, default=4096, help="close-mid: bytes read before the cut")
    p.add_argument("--close-count", type=int, default=1, help="close-mid: connections to cut")
    p.add_argument("--delay", type=float, default=10.0, help="slow-handshake: seconds before the handshake")
    p.add_argument("--giant-bytes", type=int, default=10 * 1024 * 1024)
    p.add_argument("--raw", action="store_true", help="garbage: write under TLS")
    p.add_argument("--rcvbuf", type=int, help="SO_RCVBUF of accepted sockets (stall: 4096)")
    p.add_argument("--handshake-timeout", type=float, default=10.0)
    p.add_argument("--max-seconds", type=float, default=600.0, help="exit by itself after this")
    return p.parse_args()


def stats_writer(stats):
    """Saves the counters every 100 ms until stopped."""
    while not STOP.wait(0.1):
        stats.save()


def main():
    """Runs the collector until SIGTERM, SIGINT or --max-seconds."""
    global SPLIT_OUT
    args = parse_args()
    SPLIT_OUT = args.split_out
    stats = Stats(args.stats_file)
    for path in (args.pid_file, args.stats_file):
        if path and os.path.exists(path):
            os.unlink(path)
    if args.mode == "refuse":
        stats.save(force=True)
        log("refuse: no listener")
        return 0
    if not args.cert or not args.key:
        sys.exit("faultcol: --cert and --key are needed")
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    ctx = make_context(args)
    lsock = listen(args)
    closer_slots = threading.Semaphore(args.close_count)
    writer = threading.Thread(target=stats_writer, args=(stats,), daemon=True)
    writer.start()
    stats.save(force=True)
    if args.pid_file:
        with open(args.pid_file + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.replace(args.pid_file + ".tmp", args.pid_file)
    log("listening on %s:%d, mode %s" % (args.host, args.port, args.mode))
    deadline = time.monotonic() + args.max_seconds
    threads = []
    cid = 0
    while not STOP.is_set():
        if time.monotonic() > deadline:
            log("max-seconds reached; exiting")
            break
        try:
            sock, peer = lsock.accept()
        except socket.timeout:
            continue
        except OSError as e:
            log("accept failed: %s" % e)
            continue
        cid += 1
        t = threading.Thread(target=handle_conn, daemon=True,
                             args=(sock, peer, ctx, args, stats, cid, closer_slots))
        t.start()
        threads.append(t)
    STOP.set()
    lsock.close()
    for t in threads:
        t.join(timeout=2)
    stats.save(force=True)
    if args.pid_file and os.path.exists(args.pid_file):
        os.unlink(args.pid_file)
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
