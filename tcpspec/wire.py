"""Traces seen on the wire: the plain text format and packet captures, as observed segments.

Text, one segment a line (`#` starts a comment):

    <from> -> <to> <FLAGS> seq=<n> [ack=<n>] [len=<n>]

FLAGS is a comma-separated subset of SYN, ACK, FIN, RST, PSH; `len` defaults to 0. Numbers
are absolute, as written (decimal or 0x hex). Errors are positioned like model errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tcpspec.diagnostics import Diagnostic, ModelError, Span, UsageError

FLAGS = ("SYN", "ACK", "FIN", "RST", "PSH")
_LINE = re.compile(r"^\s*(?P<src>[A-Za-z_][\w.]*)\s*->\s*(?P<dst>[A-Za-z_][\w.]*)\s+(?P<flags>[A-Za-z,]+)(?P<rest>.*)$")
_FIELD = re.compile(r"\s*(?P<key>[A-Za-z_]+)\s*=\s*(?P<val>0[xX][0-9a-fA-F]+|\d+)\s*")


@dataclass(frozen=True)
class Segment:
    """One observed segment: who sent it to whom, its flags and numbers, where it was read."""

    src: str
    dst: str
    flags: frozenset[str]
    seq: int
    ack: int | None = None
    length: int = 0
    where: str = ""  # `file:line` or `packet N`
    fields: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        flags = ",".join(f for f in FLAGS if f in self.flags) or "-"
        ack = f" ack={self.ack}" if self.ack is not None else ""
        return f"{self.src} -> {self.dst} {flags} seq={self.seq}{ack} len={self.length}"


def read_text_trace(path: str, text: str) -> list[Segment]:
    segments: list[Segment] = []
    errors: list[Diagnostic] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m is None:
            col = len(line) - len(line.lstrip()) + 1
            errors.append(Diagnostic(Span(path, n, col, n, len(line) + 1),
                                     "expected `<from> -> <to> <FLAGS> seq=<n> [ack=<n>] [len=<n>]`"))
            continue
        flags = [f.strip().upper() for f in m.group("flags").split(",") if f.strip()]
        bad = [f for f in flags if f not in FLAGS]
        if bad:
            col = m.start("flags") + 1
            errors.append(Diagnostic(Span(path, n, col, n, m.end("flags") + 1),
                                     f"unknown flag '{bad[0]}' (flags: {', '.join(FLAGS)})"))
            continue
        values: dict[str, int] = {}
        rest, pos = m.group("rest"), m.start("rest")
        i = 0
        ok = True
        while i < len(rest):
            fm = _FIELD.match(rest, i)
            if fm is None or fm.end() == i:
                if rest[i:].strip():
                    errors.append(Diagnostic(Span(path, n, pos + i + 1 + (len(rest[i:]) - len(rest[i:].lstrip())), n, len(line) + 1),
                                             "expected `seq=<n>`, `ack=<n>` or `len=<n>`"))
                    ok = False
                break
            key = fm.group("key").lower()
            if key not in ("seq", "ack", "len") or key in values:
                what = "repeated" if key in values else "unknown"
                errors.append(Diagnostic(Span(path, n, pos + fm.start("key") + 1, n, pos + fm.end("key") + 1),
                                         f"{what} field '{fm.group('key')}' (fields: seq, ack, len)"))
                ok = False
                break
            val = fm.group("val")
            # A number of 25 digits is past 32 bits already; past 4300, int() itself refuses.
            values[key] = 1 << 32 if len(val) > 24 else int(val, 16) if val[:2] in ("0x", "0X") else int(val)
            if values[key] >= 1 << 32:  # a 32-bit field on the wire: wrapping it would hide a typo
                errors.append(Diagnostic(Span(path, n, pos + fm.start("val") + 1, n, pos + fm.end("val") + 1),
                                         f"{key}={val if len(val) <= 24 else val[:20] + '...'} does not fit in 32 bits (at most {(1 << 32) - 1})"))
                ok = False
                break
            i = fm.end()
        if not ok:
            continue
        if "seq" not in values:
            errors.append(Diagnostic(Span(path, n, len(line) + 1), "missing `seq=<n>`"))
            continue
        segments.append(Segment(m.group("src"), m.group("dst"), frozenset(flags), values["seq"] % (1 << 32),
                                None if "ack" not in values else values["ack"] % (1 << 32), values.get("len", 0),
                                f"{path}:{n}"))
    if errors:
        err = ModelError(errors)
        err.sources = {path: text}  # type: ignore[attr-defined]
        raise err
    if not segments:
        raise UsageError(f"{path}: no segments in the trace")
    return segments


def read_pcap(path: str, conn: str | None = None, names: tuple[str, str] = ("client", "server")) -> list[Segment]:
    """One TCP connection of a capture (the first SYN's, or `conn` = `A:P-B:Q`); the side that
    sends the first SYN is `names[0]`."""
    try:
        import dpkt
    except ImportError:
        raise UsageError("reading captures needs dpkt: pip install dpkt") from None
    import socket

    def addr(ip: bytes) -> str:
        return socket.inet_ntop(socket.AF_INET6 if len(ip) == 16 else socket.AF_INET, ip)

    from tcpspec.inputs import MAX_CAPTURE_BYTES, open_binary

    f = open_binary(path, MAX_CAPTURE_BYTES, "capture")  # a regular file within the limit (InputRefused)
    with f:
        cut = None if path.endswith(".pcapng") else _pcap_cut_short(f)
        if cut is not None:  # dpkt yields the short record as it is, or stops without a word
            raise UsageError(f"{path}: packet {cut} is cut short (a truncated capture?)")
        try:
            reader = dpkt.pcapng.Reader(f) if path.endswith(".pcapng") else dpkt.pcap.Reader(f)
        except (ValueError, dpkt.dpkt.Error) as e:
            raise UsageError(f"{path}: not a packet capture ({e})") from None
        linktype = reader.datalink()
        segments: list[Segment] = []
        ends: tuple[tuple[str, int], tuple[str, int]] | None = None
        if conn:
            try:
                a, b = conn.split("-")
                ha, pa = a.rsplit(":", 1)
                hb, pb = b.rsplit(":", 1)
                ends = ((ha.strip("[]"), int(pa)), (hb.strip("[]"), int(pb)))
            except ValueError:
                raise UsageError(f"--conn {conn}: expected ADDR:PORT-ADDR:PORT") from None
        for n, (_ts, buf) in _records(dpkt, reader, path):
            try:
                ip = _ip_of(dpkt, linktype, buf)
            except dpkt.dpkt.NeedData:
                raise UsageError(f"{path}: packet {n} is cut short (a truncated capture?)") from None
            if ip is None or not isinstance(ip.data, dpkt.tcp.TCP):
                continue
            tcp = ip.data
            src, dst = (addr(ip.src), tcp.sport), (addr(ip.dst), tcp.dport)
            syn = bool(tcp.flags & dpkt.tcp.TH_SYN)
            ack = bool(tcp.flags & dpkt.tcp.TH_ACK)
            if ends is None:
                if not (syn and not ack):
                    continue
                ends = (src, dst)
            if {src, dst} != set(ends):
                continue
            flags = {name for bit, name in ((dpkt.tcp.TH_SYN, "SYN"), (dpkt.tcp.TH_ACK, "ACK"), (dpkt.tcp.TH_FIN, "FIN"),
                                            (dpkt.tcp.TH_RST, "RST"), (dpkt.tcp.TH_PUSH, "PSH")) if tcp.flags & bit}
            who = (names[0], names[1]) if src == ends[0] else (names[1], names[0])
            segments.append(Segment(who[0], who[1], frozenset(flags), tcp.seq, tcp.ack if ack else None,
                                    len(tcp.data), f"{path}: packet {n}"))
    if not segments:
        raise UsageError(f"{path}: no TCP connection found" + (f" for {conn}" if conn else ""))
    return segments


def _pcap_cut_short(f) -> int | None:  # type: ignore[no-untyped-def]
    """The number of the first record of a classic pcap file (open, binary) that the file does
    not hold whole, from the record headers alone (seeking past the data); the file is left
    at its start, for the reader."""
    import os
    import struct

    size = os.fstat(f.fileno()).st_size
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\x4d\x3c\xb2\xa1": "<",
             b"\xa1\xb2\x3c\x4d": ">"}.get(f.read(4))
    try:
        if order is None:
            return None
        off, n = 24, 0
        while off < size:
            n += 1
            f.seek(off)
            header = f.read(16)
            if len(header) < 16:
                return n
            off += 16 + struct.unpack(order + "I", header[8:12])[0]
            if off > size:
                return n
        return None
    finally:
        f.seek(0)


def _records(dpkt, reader, path: str):  # type: ignore[no-untyped-def]
    """(packet number, (time, bytes)) of each record; a file cut inside a record is an error,
    never a silently shorter capture."""
    n = 0
    it = iter(reader)
    while True:
        try:
            record = next(it)
        except StopIteration:
            return
        except (dpkt.dpkt.Error, ValueError) as e:
            raise UsageError(f"{path}: the capture is cut short after packet {n} ({e})") from None
        n += 1
        yield n, record


def _ip_of(dpkt, linktype: int, buf: bytes):  # type: ignore[no-untyped-def]
    """The IP packet in a link-layer frame; None when it is not IP. Raises dpkt's NeedData when
    the frame is an IP packet cut short."""
    try:
        if linktype == 1:  # Ethernet
            frame = dpkt.ethernet.Ethernet(buf)
            return frame.data if isinstance(frame.data, (dpkt.ip.IP, dpkt.ip6.IP6)) else None
        if linktype == 113:  # Linux cooked capture (tcpdump -i any)
            frame = dpkt.sll.SLL(buf)
            return frame.data if isinstance(frame.data, (dpkt.ip.IP, dpkt.ip6.IP6)) else None
        if linktype == 0:  # BSD loopback
            frame = dpkt.loopback.Loopback(buf)
            return frame.data if isinstance(frame.data, (dpkt.ip.IP, dpkt.ip6.IP6)) else None
        if linktype in (101, 12, 228):  # raw IP
            return dpkt.ip.IP(buf) if buf and buf[0] >> 4 == 4 else dpkt.ip6.IP6(buf)
    except dpkt.dpkt.NeedData:
        raise
    except (dpkt.dpkt.Error, IndexError, ValueError):
        return None
    return None
