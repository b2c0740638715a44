"""Traces seen on the wire: the plain text format and packet captures, as observed segments.

Text, one segment a line (`#` starts a comment):

    <from> -> <to> <FLAGS> seq=<n> [ack=<n>] [len=<n>] [win=<n>] [mss=<n>] [wscale=<n>]

FLAGS is a comma-separated subset of SYN, ACK, FIN, RST, PSH; `len` defaults to 0; `win` is
the window field as sent (scaled by the sender's `wscale`, given on its SYN, as on the wire);
`mss` and `wscale` are a SYN's options. Numbers are absolute, as written (decimal or 0x hex).
Errors are positioned like model errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from tcpspec.core.diagnostics import Diagnostic, ModelError, Span, UsageError

if TYPE_CHECKING:
    from tcpspec.traffic.capture import Connection

FLAGS = ("SYN", "ACK", "FIN", "RST", "PSH")
_LINE = re.compile(r"^\s*(?P<src>[A-Za-z_][\w.]*)\s*->\s*(?P<dst>[A-Za-z_][\w.]*)\s+(?P<flags>[A-Za-z,]+)(?P<rest>.*)$")
_KEYS = {"seq": (1 << 32) - 1, "ack": (1 << 32) - 1, "len": (1 << 32) - 1, "win": (1 << 16) - 1,
         "mss": (1 << 16) - 1, "wscale": 14}  # field -> its largest value on the wire
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
    window: int | None = None  # the window field as sent (unscaled)
    mss: int | None = None  # options: MSS, window scale (SYNs)
    wscale: int | None = None
    time: float | None = field(default=None, compare=False)
    options_cut: bool = field(default=False, compare=False)  # a capture's snap length cut its options

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
            if key not in _KEYS or key in values:
                what = "repeated" if key in values else "unknown"
                errors.append(Diagnostic(Span(path, n, pos + fm.start("key") + 1, n, pos + fm.end("key") + 1),
                                         f"{what} field '{fm.group('key')}' (fields: {', '.join(_KEYS)})"))
                ok = False
                break
            val = fm.group("val")
            # A number of 25 digits is past 32 bits already; past 4300, int() itself refuses.
            values[key] = 1 << 32 if len(val) > 24 else int(val, 16) if val[:2] in ("0x", "0X") else int(val)
            if values[key] > _KEYS[key]:  # a field on the wire: wrapping it would hide a typo
                bits = _KEYS[key].bit_length()
                shown = val if len(val) <= 24 else val[:20] + "..."
                errors.append(Diagnostic(Span(path, n, pos + fm.start("val") + 1, n, pos + fm.end("val") + 1),
                                         f"{key}={shown} does not fit in {bits} bits (at most {_KEYS[key]})"
                                         if bits in (16, 32) else f"{key}={shown} is more than {_KEYS[key]}"))
                ok = False
                break
            i = fm.end()
        if not ok:
            continue
        if "seq" not in values:
            errors.append(Diagnostic(Span(path, n, len(line) + 1), "missing `seq=<n>`"))
            continue
        segments.append(Segment(m.group("src"), m.group("dst"), frozenset(flags), values["seq"],
                                values.get("ack"), values.get("len", 0), f"{path}:{n}", window=values.get("win"),
                                mss=values.get("mss"), wscale=values.get("wscale")))
    if errors:
        err = ModelError(errors)
        err.sources = {path: text}  # type: ignore[attr-defined]
        raise err
    if not segments:
        raise UsageError(f"{path}: no segments in the trace")
    return segments


def read_pcap(path: str, conn: str | None = None, names: tuple[str, str] = ("client", "server")) -> list[Segment]:
    """One TCP connection of a capture (`conn` = `A:P-B:Q`, else the first that opens with a
    SYN): its segments in order, the end that sent the first SYN named `names[0]`."""
    from tcpspec.traffic.capture import connections, read_packets, select

    chosen = select(connections(read_packets(path)), path, conn)
    return segments_of(chosen, path, names)


def segments_of(conn: "Connection", path: str, names: tuple[str, str] = ("client", "server")) -> list[Segment]:
    """The connection's packets as observed segments (flags the wire has beyond FLAGS dropped)."""
    out: list[Segment] = []
    for p in conn.packets:
        who = (names[0], names[1]) if p.src == conn.client else (names[1], names[0])
        out.append(Segment(who[0], who[1], frozenset(p.flags & set(FLAGS)), p.seq, p.ack if "ACK" in p.flags else None,
                           p.length, f"{path}: packet {p.number}", window=p.window, mss=p.options.get("mss"),
                           wscale=p.options.get("wscale"), time=p.time, options_cut="cut" in p.options))
    return out


@dataclass
class Loaded:
    """A trace as read: its segments and, for a capture, which connection of how many."""

    segments: list[Segment]
    connection: str = ""  # `A:P-B:Q` (client first)
    connections: int = 0  # in the capture


def load_trace(path: str, conn: str | None = None) -> Loaded:
    """A trace file: a capture (told by its magic number, whatever its name) or the text format."""
    from tcpspec.traffic.capture import connections, is_capture, read_packets, select

    if is_capture(path):
        conns = connections(read_packets(path))
        chosen = select(conns, path, conn)
        return Loaded(segments_of(chosen, path), chosen.label, len(conns))
    if path.lower().endswith((".pcap", ".pcapng", ".cap")):
        raise UsageError(f"{path}: not a packet capture (neither pcap nor pcapng)")
    if conn is not None:
        raise UsageError("--conn picks a connection of a packet capture; a text trace has one")
    from tcpspec.core.inputs import MAX_TRACE_BYTES, read_bytes

    try:  # a regular file within the limit (InputRefused otherwise)
        text = read_bytes(path, MAX_TRACE_BYTES, "trace").decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text, nor a pcap or pcapng capture") from None
    return Loaded(read_text_trace(path, text))


def load_segments(path: str, conn: str | None = None) -> list[Segment]:
    return load_trace(path, conn).segments


def idle_times(segments: list[Segment]) -> list[float | None]:
    """For each segment, the seconds since its sender last received a segment other than a
    probe (None without times, or before it received any). A stack's keep-alive and persist
    timers measure this idle time (Linux: since the last data or ACK it accepted), so a probe
    the peer sends meanwhile -- an ACK one below all the peer had sent, at most one octet,
    which the receiver drops as unacceptable -- does not restart them: both ends' keep-alive
    probes may cross."""
    top: dict[str, int] = {}  # sender -> the end of all it had sent
    heard: dict[str, float] = {}  # receiver -> when it last received a segment other than a probe
    out: list[float | None] = []
    for s in segments:
        out.append(None if s.time is None or s.src not in heard else s.time - heard[s.src])
        end = s.seq + s.length + ("SYN" in s.flags) + ("FIN" in s.flags)
        t = top.get(s.src)
        probe = (t is not None and "ACK" in s.flags and not {"SYN", "FIN", "RST"} & s.flags and s.length <= 1
                 and signed(s.seq - t) == -1)
        if not probe and s.time is not None:
            heard[s.dst] = s.time
        if t is None or signed(end - t) > 0:
            top[s.src] = end
    return out


def signed(d: int) -> int:
    """A difference of sequence numbers, in -2^31..2^31-1 (RFC 1982)."""
    d %= 1 << 32
    return d - (1 << 32) if d >= 1 << 31 else d
