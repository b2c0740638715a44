"""The loopback capture's machinery, shared by the behaviours of capture_loopback.py: tcpdump on
`lo` for one listening port, a server thread per connection, an iptables rule that drops
chosen segments, and a token bucket that slows the loopback down."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

HOST = "127.0.0.1"
Scenario = Callable[["Capture"], str | None]  # returns the connection it shows, or None for "the only one"


class Skip(Exception):
    """The behaviour cannot be provoked here (the reason is the message)."""


class Capture:
    """tcpdump on `lo` for one listening port, from start() to stop()."""

    def __init__(self, out: str, interface: str = "lo", snaplen: int = 256) -> None:
        self.out, self.interface, self.snaplen = out, interface, snaplen
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.dump: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        tcpdump = shutil.which("tcpdump")
        if tcpdump is None:
            raise Skip("tcpdump not found")
        self.dump = subprocess.Popen([tcpdump, "-i", self.interface, "--immediate-mode", "-U", "-n", "-w", self.out, "-s", str(self.snaplen),
                                      f"tcp port {self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.dump.stderr is not None
        said = ""
        while "listening on" not in said:  # "listening on lo, ..." once it captures
            line = self.dump.stderr.readline().decode(errors="replace")
            if not line:
                self.dump.wait(timeout=10)
                raise Skip(f"tcpdump cannot capture on {self.interface}: {said.strip()}")
            said += line
        threading.Thread(target=self.dump.stderr.read, daemon=True).start()

    def stop(self) -> None:
        time.sleep(0.3)  # the last segments reach the file
        self.listener.close()
        if self.dump is not None:
            self.dump.terminate()
            self.dump.wait(timeout=10)

    def connect(self, **opts: int) -> socket.socket:
        """A client socket connected to the listener; `opts` are (level, name) socket options
        set before connecting, written as TCP_MAXSEG=536 or SO_RCVBUF=4096."""
        cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        for name, value in opts.items():
            level = socket.IPPROTO_TCP if name.startswith("TCP_") else socket.SOL_SOCKET
            cli.setsockopt(level, getattr(socket, name), value)
        cli.connect((HOST, self.port))
        return cli


def serve(cap: Capture, handler: Callable[[socket.socket], None], **opts: int) -> threading.Thread:
    """Accept one connection in a thread and run `handler` on it (options set on the listener
    are inherited by the accepted socket)."""
    for name, value in opts.items():
        level = socket.IPPROTO_TCP if name.startswith("TCP_") else socket.SOL_SOCKET
        cap.listener.setsockopt(level, getattr(socket, name), value)
    cap.listener.listen(1)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            conn, _ = cap.listener.accept()
            with conn:
                handler(conn)
        except BaseException as e:  # noqa: BLE001 - reported by join()
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.errors = errors  # type: ignore[attr-defined]
    t.start()
    return t


def join(t: threading.Thread) -> None:
    t.join(timeout=30)
    if t.is_alive():
        raise RuntimeError("the server side did not finish")
    errors = t.errors  # type: ignore[attr-defined]
    if errors:
        raise errors[0]


def read_all(s: socket.socket) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def drop(match: list[str]) -> tuple[str, list[str]]:
    """An iptables rule, added, that drops the loopback's incoming TCP segments `match` selects
    (iptables options): (the iptables command, the rule, to delete it with `-D`)."""
    iptables = shutil.which("iptables")
    if iptables is None or os.geteuid() != 0:
        raise Skip("dropping a packet needs iptables and root")
    rule = ["INPUT", "-i", "lo", "-p", "tcp", *match, "-j", "DROP"]
    added = subprocess.run([iptables, "-I", *rule], capture_output=True, text=True)
    if added.returncode != 0:
        raise Skip(f"iptables cannot add a rule: {added.stderr.strip()}")
    return iptables, rule


def undrop(iptables: str, rule: list[str]) -> None:
    subprocess.run([iptables, "-D", *rule], capture_output=True)


def drop_marked(cap: Capture) -> tuple[str, list[str]]:
    """Drop every segment to the listener carrying the string DROPME."""
    return drop(["--dport", str(cap.port), "-m", "string", "--string", "DROPME", "--algo", "bm"])


@contextlib.contextmanager
def slow_loopback() -> Iterator[bool]:
    """In a namespace of our own (--netns): a token bucket on the loopback (tc tbf, 16 kbit/s,
    a 2000-octet burst) for the time of the block, which is told whether there is one."""
    tc = shutil.which("tc")
    if not os.environ.get("TCPSPEC_CAPTURE_NETNS") or tc is None or subprocess.run(
            [tc, "qdisc", "add", "dev", "lo", "root", "tbf", "rate", "16kbit", "burst", "2000", "latency", "5s"],
            capture_output=True).returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run([tc, "qdisc", "del", "dev", "lo", "root"], capture_output=True)


def empty_bucket() -> None:
    """Use up the token bucket's burst with UDP datagrams on the loopback, so that what is sent
    next waits its turn (~45 ms for a SYN)."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind((HOST, 0))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as src:
        src.sendto(b"x" * 1900, sink.getsockname())
        src.sendto(b"x" * 150, sink.getsockname())
    threading.Timer(2.0, sink.close).start()
