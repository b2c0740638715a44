"""Packet captures as users take them: the TCP packets of a pcap or pcapng file, by connection.

Link types: Ethernet (VLAN tags too), Linux cooked captures v1 and v2 (`tcpdump -i any`), BSD
and OpenBSD loopback, raw IPv4/IPv6; IPv4 and IPv6 (extension headers skipped by dpkt). A
pcapng file may hold several interfaces of different link types, and several sections. The
format is told by the file's magic number, not its name.

Lengths come from the IP headers, not from the bytes captured: a capture taken with a small
snap length (`tcpdump -s 96`) still says how much data each segment carried. A `tcpdump -i
any` capture on older kernels holds each loopback packet twice (outgoing, then incoming):
the incoming copy of a packet just seen outgoing on the same interface is dropped.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from tcpspec.core.diagnostics import UsageError
from tcpspec.core.inputs import MAX_CAPTURE_BYTES, open_binary

# TCP flags, as dpkt numbers them.
FLAG_BITS = (("SYN", 0x02), ("ACK", 0x10), ("FIN", 0x01), ("RST", 0x04), ("PSH", 0x08), ("URG", 0x20),
             ("ECE", 0x40), ("CWR", 0x80))
LINKTYPES = {0: "BSD loopback", 1: "Ethernet", 12: "raw IP", 14: "raw IP", 101: "raw IP", 108: "OpenBSD loopback",
             113: "Linux cooked (SLL)", 228: "raw IPv4", 229: "raw IPv6", 276: "Linux cooked v2 (SLL2)"}
_PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_OUTGOING = 4  # SLL / SLL2 packet type: sent by this host


@dataclass(frozen=True)
class Packet:
    """One TCP segment of a capture: `number` is its record number in the file (1-based, as
    Wireshark counts frames); `length` the octets of data it carried."""

    number: int
    time: float
    src: tuple[str, int]
    dst: tuple[str, int]
    flags: frozenset[str]
    seq: int
    ack: int
    window: int
    length: int
    options: dict[str, int] = field(default_factory=dict, compare=False)  # mss, wscale, sack_ok, ts; cut: options cut off


@dataclass
class Connection:
    """The packets of one TCP connection, in file order; `client` is the end that sent the
    first SYN (or, without one, the first packet)."""

    client: tuple[str, int]
    server: tuple[str, int]
    packets: list[Packet]
    nth: int = 1  # the how-manieth connection on this address pair (a port reused)

    @property
    def label(self) -> str:
        return f"{_end(self.client)}-{_end(self.server)}" + (f"#{self.nth}" if self.nth > 1 else "")

    def summary(self) -> str:
        flags = {f for p in self.packets for f in p.flags}
        octets = sum(p.length for p in self.packets)
        what = [w for w, f in (("SYN", "SYN"), ("FIN", "FIN"), ("RST", "RST")) if f in flags]
        span = self.packets[-1].time - self.packets[0].time
        return (f"{len(self.packets)} segments, {octets} octets of data, {span:.3f} s"
                + (f", {' '.join(what)}" if what else "") + ("" if "SYN" in flags else " (no SYN: opened before the capture)"))


def _end(e: tuple[str, int]) -> str:
    return f"[{e[0]}]:{e[1]}" if ":" in e[0] else f"{e[0]}:{e[1]}"


def is_capture(path: str) -> bool:
    """Whether the file starts as a pcap or pcapng file does."""
    with open_binary(path, MAX_CAPTURE_BYTES, "trace") as f:  # a regular file within the limit (InputRefused)
        magic = f.read(4)
    return magic == _PCAPNG_MAGIC or magic in _PCAP_MAGICS


def read_packets(path: str) -> list[Packet]:
    """Every TCP packet of the capture at `path`, in file order. Raises UsageError for a file
    that is not a capture, is cut short, or has no link type this module reads."""
    with open_binary(path, MAX_CAPTURE_BYTES, "capture") as f:
        magic = f.read(4)
        f.seek(0)
        if magic == _PCAPNG_MAGIC:
            records = _pcapng_records(f, path)
        elif magic in _PCAP_MAGICS:
            records = _pcap_records(f, path, _PCAP_MAGICS[magic])
        else:
            raise UsageError(f"{path}: not a packet capture (neither pcap nor pcapng)")
        return list(_tcp_packets(records, path))


def connections(packets: list[Packet]) -> list[Connection]:
    """The connections, in the order of their first packet. One address pair carries a new
    connection when a SYN with another sequence number starts after the previous one was
    closed or reset (a port reused)."""
    out: list[Connection] = []
    live: dict[frozenset[tuple[str, int]], Connection] = {}
    count: dict[frozenset[tuple[str, int]], int] = {}
    for p in packets:
        key = frozenset((p.src, p.dst))
        conn = live.get(key)
        starts = "SYN" in p.flags and "ACK" not in p.flags
        if conn is not None and starts and _ended(conn) and not any(
                "SYN" in q.flags and q.src == p.src and q.seq == p.seq for q in conn.packets):
            conn = None
        if conn is None:
            client, server = (p.dst, p.src) if {"SYN", "ACK"} <= p.flags else (p.src, p.dst)
            count[key] = count.get(key, 0) + 1
            conn = Connection(client, server, [], count[key])
            live[key] = conn
            out.append(conn)
        conn.packets.append(p)
    return out


def _ended(conn: Connection) -> bool:
    return any("RST" in p.flags for p in conn.packets) or {p.src for p in conn.packets if "FIN" in p.flags} == {
        conn.client, conn.server}


def parse_conn(text: str) -> tuple[tuple[str, int], tuple[str, int], int]:
    """`A:P-B:Q` (IPv6 addresses in brackets: `[::1]:P-[::1]:Q`) as two (address, port) ends,
    and which connection on that pair: `#N` after it names the N-th (a port reused), else 1."""
    try:
        pair, _, nth = text.partition("#")
        a, b = _split_pair(pair)
        n = int(nth) if nth else 1
        if n < 1:
            raise ValueError(nth)
        return _parse_end(a), _parse_end(b), n
    except ValueError:
        raise UsageError(f"--conn {text}: expected ADDR:PORT-ADDR:PORT[#N], e.g. 127.0.0.1:40000-127.0.0.1:8080 "
                         "or [::1]:40000-[::1]:8080#2 (the second connection on that pair)") from None


def _split_pair(text: str) -> tuple[str, str]:
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "-" and depth == 0:
            return text[:i], text[i + 1:]
    raise ValueError(text)


def _parse_end(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    host = socket.inet_ntop(family, socket.inet_pton(family, host))  # canonical spelling; raises ValueError
    n = int(port)
    if not 0 <= n < 65536:
        raise ValueError(port)
    return host, n


def select(conns: list[Connection], path: str, conn: str | None) -> Connection:
    """The connection `conn` names (either direction), or the first that opens with a SYN,
    or else the first."""
    if not conns:
        raise UsageError(f"{path}: no TCP connection found")
    if conn is not None:
        a, b, nth = parse_conn(conn)
        hits = [c for c in conns if {c.client, c.server} == {a, b} and c.nth == nth]
        if not hits:
            listed = ", ".join(c.label for c in conns[:5]) + (" ..." if len(conns) > 5 else "")
            raise UsageError(f"{path}: no TCP connection {conn} (it has: {listed}; see --list-conns)")
        return hits[0]
    opened = [c for c in conns if "SYN" in c.packets[0].flags]
    return (opened or conns)[0]


# ---------------------------------------------------------------- containers


Record = tuple[int, float, int, bytes, bool]  # number, time, link type, frame, cut by the snap length


def _pcap_records(f: IO[bytes], path: str, order: str) -> Iterator[Record]:
    """Classic pcap: the file header's link type for every record. A record the file does not
    hold whole is an error (a truncated file), never a silently shorter capture."""
    import dpkt

    cut = _pcap_cut_short(f, order)
    if cut is not None:
        raise UsageError(f"{path}: packet {cut} is cut short (a truncated capture?)")
    try:
        reader = dpkt.pcap.Reader(f)
    except (ValueError, dpkt.dpkt.Error) as e:
        raise UsageError(f"{path}: not a packet capture ({e})") from None
    linktype = reader.datalink()
    snaplen = reader.snaplen
    n = 0
    it = iter(reader)
    while True:
        try:
            ts, buf = next(it)
        except StopIteration:
            return
        except (dpkt.dpkt.Error, ValueError, struct.error) as e:
            raise UsageError(f"{path}: the capture is cut short after packet {n} ({e})") from None
        n += 1
        yield n, float(ts), linktype, buf, len(buf) >= snaplen


def _pcap_cut_short(f: IO[bytes], order: str) -> int | None:
    """The number of the first record the file does not hold whole, from the record headers
    alone (seeking past the data); the file is left at its start, for the reader."""
    size = os.fstat(f.fileno()).st_size
    try:
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


def _pcapng_records(f: IO[bytes], path: str) -> Iterator[Record]:
    """pcapng, block by block (dpkt's reader knows only the first interface): each section's
    interfaces in order, each packet with its own interface's link type and time resolution."""
    import dpkt.pcapng as ng

    data = f.read()
    off, n, le = 0, 0, True
    interfaces: list[tuple[int, float, int]] = []  # link type, ticks per second, snap length
    while off < len(data):
        if off + 12 > len(data):
            raise UsageError(f"{path}: the capture is cut short after packet {n}")
        btype = struct.unpack("<I", data[off:off + 4])[0]
        if btype == ng.PCAPNG_BT_SHB:
            bom = data[off + 8:off + 12]
            le = bom == b"\x4d\x3c\x2b\x1a"
            if not le and bom != b"\x1a\x2b\x3c\x4d":
                raise UsageError(f"{path}: not a pcapng file (bad byte-order magic)")
            interfaces = []
        blen = struct.unpack("<I" if le else ">I", data[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(data):
            raise UsageError(f"{path}: the capture is cut short after packet {n}")
        block = data[off:off + blen]
        off += blen
        btype = struct.unpack("<I" if le else ">I", block[:4])[0]
        try:
            if btype == ng.PCAPNG_BT_IDB:
                idb = ng.InterfaceDescriptionBlockLE(block) if le else ng.InterfaceDescriptionBlock(block)
                interfaces.append((idb.linktype, _ticks(idb), idb.snaplen or 262144))
            elif btype in (ng.PCAPNG_BT_EPB, ng.PCAPNG_BT_PB):
                cls = ((ng.EnhancedPacketBlockLE, ng.EnhancedPacketBlock) if btype == ng.PCAPNG_BT_EPB
                       else (ng.PacketBlockLE, ng.PacketBlock))
                pb: Any = cls[0](block) if le else cls[1](block)
                iface = pb.iface_id
                if iface >= len(interfaces):
                    raise UsageError(f"{path}: packet {n + 1} names interface {iface}, which the file never describes")
                linktype, ticks, snaplen = interfaces[iface]
                n += 1
                yield n, ((pb.ts_high << 32) | pb.ts_low) / ticks, linktype, pb.pkt_data, pb.caplen < pb.pkt_len
            elif btype == ng.PCAPNG_BT_SPB:
                if not interfaces:
                    raise UsageError(f"{path}: a packet before any interface description")
                linktype, _, snaplen = interfaces[0]
                n += 1
                orig = struct.unpack("<I" if le else ">I", block[8:12])[0]
                frame = block[12:12 + min(orig, snaplen)]
                yield n, 0.0, linktype, frame, len(frame) < orig
        except (dpkt_errors() + (struct.error, ValueError)) as e:
            raise UsageError(f"{path}: block at offset {off - blen} is malformed ({e})") from None


def dpkt_errors() -> tuple[type[Exception], ...]:
    import dpkt

    return (dpkt.dpkt.Error,)


def _ticks(idb: Any) -> float:
    """Timestamp units per second of an interface (if_tsresol; microseconds by default)."""
    for opt in idb.opts:
        if opt.code == 9 and opt.data:  # if_tsresol
            v = opt.data[0]
            return float(2 ** (v & 0x7F)) if v & 0x80 else float(10 ** (v & 0x7F))
    return 1e6


# ---------------------------------------------------------------- frames


def _tcp_packets(records: Iterator[Record], path: str) -> Iterator[Packet]:
    import dpkt

    recent: list[tuple[bytes, int, int]] = []  # (ip bytes, interface, packet type) of the last frames
    for n, ts, linktype, frame, cut in records:
        try:
            found = _ip_of(dpkt, linktype, frame)
        except dpkt.dpkt.NeedData:
            if cut:
                raise UsageError(f"{path}: packet {n}: the capture's snap length cut its IP or TCP header "
                                 "(capture with a larger -s)") from None
            raise UsageError(f"{path}: packet {n} is cut short (a truncated capture?)") from None
        if found is None:
            continue
        ip, raw, iface, ptype = found
        if ptype is not None:
            twin = any(r == raw and i == iface and (t == _OUTGOING) != (ptype == _OUTGOING) for r, i, t in recent)
            recent = (recent + [(raw, iface, ptype)])[-8:]
            if twin:
                continue
        tcp = ip.data
        if not isinstance(tcp, dpkt.tcp.TCP):
            if ip.p == dpkt.ip.IP_PROTO_TCP and getattr(ip, "offset", 0) == 0:
                what = "the capture's snap length cut its TCP header (capture with a larger -s)" if cut else \
                    "its TCP header is malformed or cut short"
                raise UsageError(f"{path}: packet {n}: {what}")
            continue
        packet = _packet(dpkt, n, ts, ip, tcp)
        if packet is not None:
            yield packet


_ETHERTYPES = {0x0800, 0x86DD}
_VLAN = {0x8100, 0x88A8, 0x9100}


def _ip_of(dpkt: Any, linktype: int, buf: bytes) -> tuple[Any, bytes, int, int | None] | None:
    """(the IP packet, its bytes, interface index, SLL packet type) of a frame; None when it
    is not IP. Raises dpkt's NeedData when the frame is an IP packet cut short."""
    ptype: int | None = None
    iface = 0
    try:
        if linktype == 1:  # Ethernet: type at 12, after any VLAN tags
            off, etype = 14, struct.unpack(">H", buf[12:14])[0]
            while etype in _VLAN:
                etype, off = struct.unpack(">H", buf[off + 2:off + 4])[0], off + 4
            if etype not in _ETHERTYPES:
                return None
        elif linktype == 113:  # SLL: packet type, ARPHRD, address length, address[8], protocol
            ptype, off = struct.unpack(">H", buf[:2])[0], 16
        elif linktype == 276:  # SLL2: protocol, reserved, interface index, ARPHRD, packet type, ...
            iface, ptype, off = struct.unpack(">i", buf[4:8])[0], buf[10], 20
        elif linktype in (0, 108):  # the address family (in either byte order): told by the IP version
            off = 4
        elif linktype in (12, 14, 101, 228, 229):
            off = 0
        else:
            raise UsageError(f"link type {linktype} is not one replay reads (it reads: "
                             + ", ".join(sorted(set(LINKTYPES.values()))) + ")")
    except (struct.error, IndexError):
        return None
    if off >= len(buf):
        return None
    raw = buf[off:]
    version = raw[0] >> 4
    try:
        if version == 4:
            ip = dpkt.ip.IP(raw)
        elif version == 6:
            ip = dpkt.ip6.IP6(raw)
        else:
            return None
    except dpkt.dpkt.NeedData:
        raise
    except (dpkt.dpkt.Error, IndexError, ValueError, struct.error):
        return None
    return ip, raw, iface, ptype


def _packet(dpkt: Any, n: int, ts: float, ip: Any, tcp: Any) -> Packet | None:
    if isinstance(ip, dpkt.ip.IP):
        if ip.offset != 0:
            return None  # a later fragment
        src, dst = socket.inet_ntop(socket.AF_INET, ip.src), socket.inet_ntop(socket.AF_INET, ip.dst)
        total = ip.len - ip.hl * 4 if ip.len else None
    else:
        src, dst = socket.inet_ntop(socket.AF_INET6, ip.src), socket.inet_ntop(socket.AF_INET6, ip.dst)
        ext = sum(getattr(h, "length", 0) for h in ip.all_extension_headers)
        total = ip.plen - ext if ip.plen else None
    header = tcp.off * 4
    length = total - header if total is not None else len(tcp.data)  # 0: segmentation offload
    if length < 0:
        return None
    flags = frozenset(name for name, bit in FLAG_BITS if tcp.flags & bit)
    options = _options(dpkt, tcp.opts)
    if len(tcp.opts) < header - 20:  # the snap length cut the options: which were sent is unknown
        options["cut"] = 1
    return Packet(n, ts, (src, tcp.sport), (dst, tcp.dport), flags, tcp.seq, tcp.ack, tcp.win, length, options)


def _options(dpkt: Any, buf: bytes) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        opts = dpkt.tcp.parse_opts(buf)
    except (IndexError, ValueError):
        return out
    for opt in opts:
        if opt is None:
            break
        code, data = opt
        if code == dpkt.tcp.TCP_OPT_MSS and len(data) == 2:
            out["mss"] = struct.unpack(">H", data)[0]
        elif code == dpkt.tcp.TCP_OPT_WSCALE and len(data) == 1:
            out["wscale"] = data[0]
        elif code == dpkt.tcp.TCP_OPT_SACKOK:
            out["sack_ok"] = 1
        elif code == dpkt.tcp.TCP_OPT_SACK:
            out["sack"] = len(data) // 8
        elif code == dpkt.tcp.TCP_OPT_TIMESTAMP and len(data) == 8:
            out["ts"] = struct.unpack(">I", data[:4])[0]
    return out
