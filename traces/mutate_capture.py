"""Write a copy of a capture with one field of one TCP segment changed (a one-field mutant).

    python traces/mutate_capture.py IN.pcap OUT.pcap --packet N --field seq|ack|len|window|flags --to VALUE
    python traces/mutate_capture.py IN.pcap OUT.pcap --packet N --field seq --by 1

`--to` sets the field, `--by` adds to it (modulo the field's width); for `flags`, VALUE is a
comma-separated set such as `SYN,ACK` (`--to`), or `+FIN` / `-ACK` to set or clear one flag.
`len` changes the payload length: octets are added (`X`) or removed at its end, and the IP length
follows. Checksums are recomputed, so the mutant is a well-formed packet; a segment the snap
length cut short keeps its lengths (its TCP checksum cannot be right: octets are missing).
Classic pcap with Ethernet, Linux cooked (v1, v2), loopback or raw IP frames. Used by tests/test_replay_corpus.py
to check that `tcpspec replay` rejects each mutant at the packet that was changed.
"""

from __future__ import annotations

import argparse
import struct
import sys

import dpkt

FLAGS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20, "ECE": 0x40, "CWR": 0x80}


def _ip_offset(linktype: int, frame: bytes) -> int:
    if linktype == 1:
        off, etype = 14, struct.unpack(">H", frame[12:14])[0]
        while etype in (0x8100, 0x88A8, 0x9100):
            etype, off = struct.unpack(">H", frame[off + 2:off + 4])[0], off + 4
        return off
    return {113: 16, 276: 20, 0: 4, 108: 4, 12: 0, 14: 0, 101: 0, 228: 0, 229: 0}[linktype]


def mutate_frame(linktype: int, frame: bytes, field: str, to: str | None = None, by: int | None = None) -> bytes:
    """`frame` with one TCP field changed (see the module doc)."""
    off = _ip_offset(linktype, frame)
    raw = frame[off:]
    ip = dpkt.ip.IP(raw) if raw[0] >> 4 == 4 else dpkt.ip6.IP6(raw)
    tcp = ip.data
    if not isinstance(tcp, dpkt.tcp.TCP):
        raise ValueError("not a TCP segment")
    if field in ("seq", "ack", "window"):
        attr, width = {"seq": ("seq", 32), "ack": ("ack", 32), "window": ("win", 16)}[field]
        old = getattr(tcp, attr)
        new = int(to, 0) if to is not None else old + (by or 0)
        setattr(tcp, attr, new % (1 << width))
    elif field == "flags":
        spec = to or ""
        if spec[:1] in "+-" and spec:
            bit = FLAGS[spec[1:].upper()]
            tcp.flags = tcp.flags | bit if spec[0] == "+" else tcp.flags & ~bit
        else:
            tcp.flags = sum(FLAGS[f.strip().upper()] for f in spec.split(",") if f.strip())
    elif field == "len":
        header = tcp.off * 4
        total = (ip.len - ip.hl * 4 if isinstance(ip, dpkt.ip.IP) else ip.plen)
        length = total - header
        new = int(to, 0) if to is not None else length + (by or 0)
        if new < 0:
            raise ValueError("a negative length")
        data = bytes(tcp.data)
        data = data[:new] if new <= len(data) else data + b"X" * (new - length)
        tcp.data = data
        if isinstance(ip, dpkt.ip.IP):
            ip.len = ip.hl * 4 + header + new
        else:
            ip.plen = header + new
    else:
        raise ValueError(f"unknown field {field}")
    # The lengths the headers must keep: dpkt recomputes them from the octets it has, which for a
    # frame the snap length cut short are fewer than the segment carried.
    total = ip.len if isinstance(ip, dpkt.ip.IP) else ip.plen
    tcp.sum = 0
    if isinstance(ip, dpkt.ip.IP):
        ip.sum = 0
    ip.data = tcp
    out = bytearray(bytes(ip))
    if isinstance(ip, dpkt.ip.IP) and struct.unpack(">H", out[2:4])[0] != total:
        out[2:4], out[10:12] = struct.pack(">H", total), b"\0\0"
        out[10:12] = struct.pack(">H", dpkt.in_cksum(bytes(out[:ip.hl * 4])))
    elif isinstance(ip, dpkt.ip6.IP6):
        out[4:6] = struct.pack(">H", total)
    return frame[:off] + bytes(out)


def mutate(src: str, dst: str, packet: int, field: str, to: str | None = None, by: int | None = None) -> None:
    """Copy the capture `src` to `dst`, record `packet` (1-based) mutated."""
    with open(src, "rb") as f:
        reader = dpkt.pcap.Reader(f)
        linktype, snaplen = reader.datalink(), reader.snaplen
        records = list(reader)
    if not 1 <= packet <= len(records):
        raise ValueError(f"the capture has {len(records)} packets, not {packet}")
    with open(dst, "wb") as f:
        writer = dpkt.pcap.Writer(f, snaplen=max(snaplen, 65535), linktype=linktype)
        for n, (ts, frame) in enumerate(records, 1):
            writer.writepkt(mutate_frame(linktype, frame, field, to, by) if n == packet else frame, ts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--packet", type=int, required=True)
    p.add_argument("--field", choices=("seq", "ack", "len", "window", "flags"), required=True)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--to")
    g.add_argument("--by", type=int)
    args = p.parse_args(argv)
    mutate(args.src, args.dst, args.packet, args.field, args.to, args.by)
    return 0


if __name__ == "__main__":
    sys.exit(main())
