"""Capture real TCP connections on the loopback with tcpdump, one behaviour per file.

    python traces/capture_loopback.py OUT.pcap                    request, reply, close (the default)
    python traces/capture_loopback.py OUT.pcap --scenario NAME    one behaviour (see --list)
    python traces/capture_loopback.py --all DIR [--netns]         every behaviour into DIR/NAME.pcap
    python traces/capture_loopback.py --list

Python sockets on both ends of 127.0.0.1; tcpdump writes what the loopback carries. `--all`
also writes DIR/index.json: for each behaviour its file, the connection that shows it
(`--conn A:P-B:Q`; a file may hold failed attempts too, as `simultaneous_close` does) or why
it was skipped. `--netns` runs everything in a fresh network namespace (`ip netns`), so that the
iptables rule that drops a packet touches no one else's loopback. Needs tcpdump and the right
to capture on `lo` (root, or CAP_NET_RAW); `retransmission`, `mid_stream_loss`, `syn_ack_lost` and
`last_ack_lost` need iptables (root), `simultaneous_open` a namespace (--netns) and `tc`.
Used by tests/test_replay_corpus.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from capture_base import (HOST, Capture, Scenario, Skip, drop, drop_marked, empty_bucket, join, read_all, serve,
                          slow_loopback, undrop)

# ---------------------------------------------------------------- behaviours


def request_response(cap: Capture) -> None:
    """The client sends 5 octets, the server answers 5 and closes; then the client closes."""
    def server(c: socket.socket) -> None:
        c.sendall(c.recv(100).upper())
        time.sleep(0.2)

    t = serve(cap, server)
    cli = cap.connect()
    cli.sendall(b"hello")
    cli.recv(100)
    time.sleep(0.3)  # the server's FIN arrives
    cli.close()
    join(t)


def client_closes_first(cap: Capture) -> None:
    """Request and reply, then the client closes first (TIME-WAIT on the client)."""
    def server(c: socket.socket) -> None:
        c.sendall(c.recv(100)[::-1])
        read_all(c)  # until the client's FIN
        time.sleep(0.1)

    t = serve(cap, server)
    cli = cap.connect()
    cli.sendall(b"GET /index")
    cli.recv(100)
    cli.close()
    join(t)


def half_close(cap: Capture) -> None:
    """The client sends its request and shuts down its side (FIN); the server reads to the end,
    answers on the half-open connection, and closes."""
    def server(c: socket.socket) -> None:
        data = read_all(c)
        time.sleep(0.05)
        c.sendall(b"got " + str(len(data)).encode())

    t = serve(cap, server)
    cli = cap.connect()
    cli.sendall(b"a request of some length")
    cli.shutdown(socket.SHUT_WR)
    read_all(cli)
    cli.close()
    join(t)


def abortive_close(cap: Capture) -> None:
    """SO_LINGER with a zero timeout: close() resets the connection (RST,ACK on Linux)."""
    def server(c: socket.socket) -> None:
        c.recv(100)
        c.sendall(b"bye")
        time.sleep(0.3)

    t = serve(cap, server)
    cli = cap.connect()
    cli.sendall(b"hi")
    cli.recv(100)
    cli.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    cli.close()
    join(t)


def data_after_close(cap: Capture) -> None:
    """The server reads the request and close()s while the client still sends: the text that
    reaches the closed end is answered with a reset, RST seq=SEG.ACK (RFC 1122 §4.2.2.13)."""
    def server(c: socket.socket) -> None:
        c.recv(5)

    t = serve(cap, server)
    cli = cap.connect()
    cli.sendall(b"hello")
    join(t)
    time.sleep(0.05)  # the server's FIN has arrived
    try:
        cli.sendall(b"more")
        time.sleep(0.05)
        cli.sendall(b"again")  # the reset has arrived: EPIPE or ECONNRESET
    except OSError:
        pass
    cli.close()


def refused(cap: Capture) -> str:
    """A SYN to a port where nothing listens: answered RST,ACK seq=0 (RFC 9293 §3.10.7.1). The
    capture's port is bound but not listening, so no one else can take it meanwhile."""
    cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        cli.connect((HOST, cap.port))
    except ConnectionRefusedError:
        pass
    else:
        raise RuntimeError("connect() to a port with no listener succeeded")
    finally:
        port = cli.getsockname()[1]
        cli.close()
    return f"{HOST}:{port}-{HOST}:{cap.port}"


def data_fin(cap: Capture) -> None:
    """The server corks its answer and shuts down: the last data and the FIN go in one segment."""
    def server(c: socket.socket) -> None:
        c.recv(100)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        c.sendall(b"x" * 111)
        c.shutdown(socket.SHUT_WR)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
        read_all(c)

    t = serve(cap, server)
    cli = cap.connect()
    cli.sendall(b"request")
    read_all(cli)
    cli.close()
    join(t)


def bulk_transfer(cap: Capture) -> None:
    """The server sends 8 MiB in large writes; the client reads as fast as it can."""
    def server(c: socket.socket) -> None:
        c.recv(100)
        block = b"z" * (1 << 20)
        for _ in range(8):
            c.sendall(block)
        c.shutdown(socket.SHUT_WR)
        read_all(c)

    t = serve(cap, server)
    cli = cap.connect()
    cli.sendall(b"send me a lot")
    got = len(read_all(cli))
    cli.close()
    join(t)
    if got != 8 << 20:
        raise RuntimeError(f"bulk transfer: got {got} octets")


def small_writes(cap: Capture) -> None:
    """The client writes 30 short messages one by one (TCP_NODELAY), the server echoes each."""
    def server(c: socket.socket) -> None:
        for _ in range(30):
            c.sendall(c.recv(100))
        read_all(c)

    t = serve(cap, server, TCP_NODELAY=1)
    cli = cap.connect(TCP_NODELAY=1)
    for i in range(30):
        cli.sendall(f"msg{i:02d}".encode())
        cli.recv(100)
    cli.close()
    join(t)


def keepalive(cap: Capture) -> None:
    """SO_KEEPALIVE with TCP_KEEPIDLE=1 and TCP_KEEPINTVL=1 on the client, idle for 2.6 s: the
    client sends keep-alive probes (seq = SND.NXT - 1, no data) and the server acknowledges them."""
    def server(c: socket.socket) -> None:
        c.sendall(c.recv(100))
        read_all(c)

    t = serve(cap, server)
    cli = cap.connect(SO_KEEPALIVE=1, TCP_KEEPIDLE=1, TCP_KEEPINTVL=1)
    cli.sendall(b"ping")
    cli.recv(100)
    time.sleep(2.6)
    cli.close()
    join(t)


def retransmission(cap: Capture) -> None:
    """The server's loopback input drops the client's request (iptables, for 0.1 s): the capture
    shows the request, then its retransmission after the RTO, then the answer."""
    iptables, rule = drop_marked(cap)

    def server(c: socket.socket) -> None:
        c.sendall(c.recv(100).lower())
        read_all(c)

    try:
        t = serve(cap, server)
        cli = cap.connect()
        cli.sendall(b"DROPME please")
        time.sleep(0.1)
    finally:
        undrop(iptables, rule)
    cli.recv(100)
    cli.close()
    join(t)


def mid_stream_loss(cap: Capture) -> None:
    """The server's loopback input drops one 1000-octet segment of 30 in the middle of a transfer
    (iptables, by a string only that segment carries, for 0.05 s after two more were sent): the
    server holds the later segments out of order and acknowledges the hole again (with SACK), the
    client sends the lost octets again, and the server's next ACK jumps past what it held."""
    iptables, rule = drop_marked(cap)

    def server(c: socket.socket) -> None:
        c.sendall(str(len(read_all(c))).encode())

    undo = threading.Timer(0.05, lambda: undrop(iptables, rule))
    try:
        t = serve(cap, server)
        cli = cap.connect(TCP_MAXSEG=1000)
        for i in range(30):
            cli.sendall((b"DROPME" if i == 10 else b"x" * 6) + b"y" * 994)
            if i == 12:
                undo.start()
        cli.shutdown(socket.SHUT_WR)
        read_all(cli)
        cli.close()
    finally:
        undo.cancel()
        if undo.is_alive():
            undo.join()
        undrop(iptables, rule)
    join(t)


def syn_ack_lost(cap: Capture) -> None:
    """The server's SYN,ACK is dropped for 0.5 s (iptables): the server sends it again, and the
    client its SYN, before the handshake completes."""
    iptables, rule = drop(["--sport", str(cap.port), "--tcp-flags", "SYN,ACK", "SYN,ACK"])
    undo = threading.Timer(0.5, undrop, (iptables, rule))
    undo.start()

    def server(c: socket.socket) -> None:
        c.sendall(c.recv(100).upper())
        read_all(c)

    try:
        t = serve(cap, server)
        cli = cap.connect()
        cli.sendall(b"hello")
        cli.recv(100)
        cli.close()
        join(t)
    finally:
        undo.cancel()
        undrop(iptables, rule)


def last_ack_lost(cap: Capture) -> None:
    """The client closes first; the server's input drops everything for 0.15 s once it closes
    too, so the client's last ACK is lost: the server, in LAST-ACK, sends its FIN again and the
    client acknowledges it again from TIME-WAIT."""
    rules: list[tuple[str, list[str]]] = []

    def server(c: socket.socket) -> None:
        c.sendall(c.recv(100).upper())
        read_all(c)
        rules.append(drop(["--dport", str(cap.port)]))
        threading.Timer(0.15, undrop, rules[0]).start()
        c.close()

    try:
        t = serve(cap, server)
        cli = cap.connect()
        cli.sendall(b"hello")
        cli.recv(100)
        cli.shutdown(socket.SHUT_WR)
        read_all(cli)
        cli.close()
        join(t)
        time.sleep(1.0)  # the FIN sent again after the RTO, and its ACK
    finally:
        for r in rules:
            undrop(*r)


def simultaneous_open(cap: Capture) -> None:
    """Both ends connect() to each other at once and each SYN is sent before the other arrives
    (RFC 9293 §3.5): each end, in SYN-SENT, answers the other's SYN with a SYN,ACK. The loopback
    delivers a segment at once, so the SYNs cross only behind the token bucket of a namespace of
    our own (see `simultaneous_close`): it holds each ~45 ms, far from any timer. (Crossing them by
    dropping the first SYNs until both were sent again raced: the two SYN timers fire together,
    on two CPUs, and the loopback then delivers one end's two segments in the other order.)"""
    with slow_loopback() as slow:
        if not slow:
            raise Skip("the SYNs cross only behind a token bucket in a network namespace of our own (--netns, tc)")
        cap.listener.close()
        a, b = socket.socket(), socket.socket()
        a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        a.bind((HOST, cap.port))
        b.bind((HOST, 0))
        empty_bucket()
        go = threading.Barrier(2)
        errors: list[OSError] = []

        def connect(s: socket.socket, to: socket.socket) -> None:
            go.wait()
            try:
                s.connect(to.getsockname())
            except OSError as e:
                errors.append(e)

        ts = [threading.Thread(target=connect, args=(a, b)), threading.Thread(target=connect, args=(b, a))]
        for th in ts:
            th.start()
        for th in ts:
            th.join(timeout=10)
        if errors:
            raise RuntimeError(f"simultaneous open failed: {errors[0]}")
        a.sendall(b"from a")
        b.recv(100)
        b.sendall(b"from b")
        a.recv(100)
        a.shutdown(socket.SHUT_WR)
        read_all(b)
        b.close()
        read_all(a)
        a.close()
        time.sleep(0.3)


def slow_reader(cap: Capture) -> None:
    """The server has a 2048-octet receive buffer and reads 700 octets every 3 ms while the client
    sends 60000 and shuts down: the window closes and opens again and again, and the ACK of the
    FIN may keep the right edge where it was."""
    def server(c: socket.socket) -> None:
        got = 0
        while chunk := c.recv(700):
            got += len(chunk)
            time.sleep(0.003)
        c.sendall(str(got).encode())

    t = serve(cap, server, SO_RCVBUF=2048)
    cli = cap.connect()
    cli.sendall(b"q" * 60000)
    cli.shutdown(socket.SHUT_WR)
    read_all(cli)
    cli.close()
    join(t)


def zero_window(cap: Capture) -> None:
    """The server has a small receive buffer and does not read for 1.5 s while the client sends
    256 KiB: the window closes, the client probes it, then the server reads and it reopens."""
    def server(c: socket.socket) -> None:
        time.sleep(1.5)
        got = len(read_all(c))
        c.sendall(str(got).encode())

    t = serve(cap, server, SO_RCVBUF=4096)
    cli = cap.connect()
    cli.sendall(b"w" * (256 << 10))
    cli.shutdown(socket.SHUT_WR)
    read_all(cli)
    cli.close()
    join(t)


def simultaneous_close(cap: Capture) -> str | None:
    """Both ends shut down at once and each FIN is sent before the other arrives: both go
    through CLOSING. The loopback delivers a segment at once, so in a network namespace of our
    own a token bucket (tc tbf, 16 kbit/s) holds segments ~33 ms each, and the two shutdowns
    (threads released by one barrier, after 1900 octets have emptied the bucket) cross.
    Elsewhere, two processes spin to one deadline, up to 40 times (all in the file); the first
    connection whose FINs crossed is the one returned."""
    with slow_loopback() as slow:
        if slow:
            return _crossing_by_queue(cap)
    cap.listener.listen(1)
    for _ in range(40):
        peer = subprocess.Popen([sys.executable, __file__, "--sim-close-client", str(cap.port)])
        c, _ = cap.listener.accept()
        deadline = time.monotonic() + 0.1
        c.sendall(struct.pack("d", deadline))
        c.recv(10)
        while time.monotonic() < deadline:
            pass
        c.shutdown(socket.SHUT_WR)
        read_all(c)
        c.close()
        peer.wait(timeout=10)
        time.sleep(0.05)
        crossed = _crossed_fins(cap.out, cap.port)
        if crossed:
            return crossed
    raise Skip("the two FINs never crossed in 40 tries (the loopback delivers each at once)")


def _crossing_by_queue(cap: Capture) -> str | None:
    cap.listener.listen(1)
    cli = socket.create_connection((HOST, cap.port))
    srv, _ = cap.listener.accept()
    time.sleep(1.0)  # the handshake has gone through the bucket, which fills up again
    go = threading.Barrier(2)

    def server() -> None:
        go.wait()
        srv.shutdown(socket.SHUT_WR)
        read_all(srv)

    t = threading.Thread(target=server)
    t.start()
    cli.sendall(b"d" * 1900)
    go.wait()
    cli.shutdown(socket.SHUT_WR)
    read_all(cli)
    t.join()
    time.sleep(0.5)
    crossed = _crossed_fins(cap.out, cap.port)
    if crossed is None:
        raise Skip("the FINs did not cross behind the token bucket")
    return None


def _crossed_fins(pcap: str, port: int) -> str | None:
    """The first connection in `pcap` (raw loopback frames) where each side sent its FIN before
    any segment acknowledged the other's FIN."""
    import dpkt

    fins: dict[tuple[tuple[str, int], tuple[str, int]], dict[tuple[str, int], int]] = {}
    done: set[tuple[tuple[str, int], tuple[str, int]]] = set()
    with open(pcap, "rb") as f:
        try:
            packets = list(dpkt.pcap.Reader(f))
        except (ValueError, dpkt.dpkt.NeedData):
            return None
    for _, buf in packets:
        ip = dpkt.ethernet.Ethernet(buf).data
        if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, dpkt.tcp.TCP):
            continue
        tcp = ip.data
        a, b = (socket.inet_ntoa(ip.src), tcp.sport), (socket.inet_ntoa(ip.dst), tcp.dport)
        key = (a, b) if a[1] != port else (b, a)
        if key in done:
            continue
        sent = fins.setdefault(key, {})
        peer_fin = sent.get(b)
        if peer_fin is not None and tcp.flags & dpkt.tcp.TH_ACK and (tcp.ack - peer_fin - 1) % (1 << 32) < (1 << 31):
            done.add(key)  # a FIN was acknowledged: did both go out before?
            if len(sent) == 2:
                return f"{key[0][0]}:{key[0][1]}-{key[1][0]}:{key[1][1]}"
            continue
        if tcp.flags & dpkt.tcp.TH_FIN and a not in sent:
            sent[a] = tcp.seq + len(tcp.data) if ip.len == 0 else tcp.seq + ip.len - ip.hl * 4 - tcp.off * 4
    return None


def _sim_close_client(port: int) -> None:
    """The client of `simultaneous_close`: spin to the server's deadline and shut down."""
    s = socket.create_connection((HOST, port))
    deadline = struct.unpack("d", s.recv(8))[0]
    s.sendall(b"k")
    while time.monotonic() < deadline:
        pass
    s.shutdown(socket.SHUT_WR)
    read_all(s)
    s.close()


SCENARIOS: dict[str, Scenario] = {
    "request_response": request_response,
    "client_closes_first": client_closes_first,
    "half_close": half_close,
    "simultaneous_close": simultaneous_close,
    "abortive_close": abortive_close,
    "data_after_close": data_after_close,
    "refused": refused,
    "data_fin": data_fin,
    "bulk_transfer": bulk_transfer,
    "small_writes": small_writes,
    "keepalive": keepalive,
    "retransmission": retransmission,
    "zero_window": zero_window,
    "mid_stream_loss": mid_stream_loss,
    "syn_ack_lost": syn_ack_lost,
    "last_ack_lost": last_ack_lost,
    "simultaneous_open": simultaneous_open,
    "slow_reader": slow_reader,
}


EXCLUSIVE = {"simultaneous_close", "simultaneous_open"}


def capture(out: str, scenario: str = "request_response", interface: str = "lo") -> str | None:
    """Run one behaviour under tcpdump; the connection that shows it (None: the file's only one)."""
    cap = Capture(out, interface)
    try:
        cap.start()
        return SCENARIOS[scenario](cap)
    finally:
        cap.stop()


def capture_all(directory: str, names: list[str]) -> dict[str, dict[str, str]]:
    """Every behaviour at once (threads), each into its own file; the index of what was made."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    index: dict[str, dict[str, str]] = {}

    def one(name: str) -> None:
        out = str(Path(directory) / f"{name}.pcap")
        try:
            conn = capture(out, name)
            index[name] = {"file": out, **({"conn": conn} if conn else {})}
        except Skip as e:
            index[name] = {"skipped": str(e)}
        except Exception as e:  # noqa: BLE001 - recorded, the others go on
            index[name] = {"skipped": f"failed: {type(e).__name__}: {e}"}

    threads = [threading.Thread(target=one, args=(n,)) for n in names if n not in EXCLUSIVE]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in names:  # alone on the loopback: they change its queueing
        if n in EXCLUSIVE:
            one(n)
    return index


def _in_netns(argv: list[str]) -> int:
    """Run this script with `argv` inside a fresh network namespace with its loopback up."""
    ip = shutil.which("ip")
    if ip is None or os.geteuid() != 0:
        return subprocess.run([sys.executable, __file__, *argv]).returncode
    ns = f"tcpspec-capture-{os.getpid()}"
    if subprocess.run([ip, "netns", "add", ns], capture_output=True).returncode != 0:
        return subprocess.run([sys.executable, __file__, *argv]).returncode
    try:
        subprocess.run([ip, "netns", "exec", ns, ip, "link", "set", "lo", "up"], check=True)
        return subprocess.run([ip, "netns", "exec", ns, sys.executable, __file__, *argv],
                              env={**os.environ, "TCPSPEC_CAPTURE_NETNS": ns}).returncode
    finally:
        subprocess.run([ip, "netns", "del", ns], capture_output=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", nargs="?", help="the capture to write")
    p.add_argument("--scenario", default="request_response", choices=sorted(SCENARIOS))
    p.add_argument("--interface", default="lo", help="tcpdump's interface (`any`: LINUX_SLL2)")
    p.add_argument("--all", metavar="DIR", help="every behaviour into DIR, with DIR/index.json")
    p.add_argument("--only", nargs="*", default=None, help="with --all: these behaviours only")
    p.add_argument("--netns", action="store_true", help="with --all: in a fresh network namespace")
    p.add_argument("--list", action="store_true")
    p.add_argument("--sim-close-client", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.sim_close_client:
        _sim_close_client(args.sim_close_client)
        return 0
    if args.list:
        for name, fn in SCENARIOS.items():
            print(f"{name:<20} {(fn.__doc__ or '').split('.')[0]}")
        return 0
    if args.all:
        if args.netns:
            rest = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--netns"]
            return _in_netns(rest)
        index = capture_all(args.all, args.only or list(SCENARIOS))
        (Path(args.all) / "index.json").write_text(json.dumps(index, indent=2) + "\n")
        return 0
    if not args.out:
        p.error("give OUT.pcap, --all DIR or --list")
    try:
        conn = capture(args.out, args.scenario, args.interface)
    except Skip as e:
        print(f"skipped: {e}", file=sys.stderr)
        return 2
    if conn:
        print(conn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
