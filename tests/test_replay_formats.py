"""Captures as users take them: every link type and container replay reads gives the same segments.

traces/loopback_full.pcap (a real connection, Ethernet frames on `lo`) is written again as
Linux cooked v1 and v2 (`tcpdump -i any`), BSD and OpenBSD loopback, raw IP, IPv6, a pcapng
file whose packets alternate between two interfaces of different link types, and with a short
snap length; each must read as the same connection and be accepted.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

import dpkt
import pytest

from tcpspec.traffic.capture import connections, parse_conn, read_packets
from tcpspec.cli import main
from tcpspec.core.diagnostics import UsageError
from tcpspec.traffic.wire import read_pcap

ROOT = Path(__file__).resolve().parents[1]
TCP = str(ROOT / "models/tcp.tcpspec")
LOOPBACK = ROOT / "traces/loopback_full.pcap"


def _ip_packets() -> list[tuple[float, bytes]]:
    with open(LOOPBACK, "rb") as f:
        return [(ts, bytes(dpkt.ethernet.Ethernet(buf).data)) for ts, buf in dpkt.pcap.Reader(f)]


def _write_pcap(path: Path, linktype: int, frames: list[tuple[float, bytes]], snaplen: int = 65535) -> None:
    with open(path, "wb") as f:
        w = dpkt.pcap.Writer(f, snaplen=snaplen, linktype=linktype)
        for ts, frame in frames:
            w.writepkt(frame, ts)


def _sll(ptype: int, ip: bytes) -> bytes:
    return struct.pack(">HHH8sH", ptype, 772, 6, b"\0" * 8, 0x0800 if ip[0] >> 4 == 4 else 0x86DD) + ip


def _sll2(ptype: int, ip: bytes) -> bytes:
    return struct.pack(">HHiHBB8s", 0x0800 if ip[0] >> 4 == 4 else 0x86DD, 0, 1, 772, ptype, 6, b"\0" * 8) + ip


def _ethernet(ip: bytes) -> bytes:
    return b"\0" * 12 + struct.pack(">H", 0x0800 if ip[0] >> 4 == 4 else 0x86DD) + ip


def _to_ipv6(ip4: bytes) -> bytes:
    ip = dpkt.ip.IP(ip4)
    tcp = ip.data
    tcp.sum = 0
    loop = b"\0" * 15 + b"\1"
    v6 = dpkt.ip6.IP6(src=loop, dst=loop, nxt=dpkt.ip.IP_PROTO_TCP, hlim=64, data=tcp, plen=len(bytes(tcp)))
    return bytes(v6)


WRITERS: dict[str, Callable[[Path, list[tuple[float, bytes]]], None]] = {
    "sll": lambda p, pk: _write_pcap(p, 113, [(ts, _sll(0, ip)) for ts, ip in pk]),
    "sll2": lambda p, pk: _write_pcap(p, 276, [(ts, _sll2(0, ip)) for ts, ip in pk]),
    "sll2, each loopback packet seen out and in": lambda p, pk: _write_pcap(
        p, 276, [x for ts, ip in pk for x in ((ts, _sll2(4, ip)), (ts, _sll2(0, ip)))]),
    "bsd loopback": lambda p, pk: _write_pcap(p, 0, [(ts, struct.pack("<I", 2) + ip) for ts, ip in pk]),
    "openbsd loopback": lambda p, pk: _write_pcap(p, 108, [(ts, struct.pack(">I", 2) + ip) for ts, ip in pk]),
    "raw ip": lambda p, pk: _write_pcap(p, 101, pk),
    "raw ipv4": lambda p, pk: _write_pcap(p, 228, pk),
    "ipv6 over ethernet": lambda p, pk: _write_pcap(p, 1, [(ts, _ethernet(_to_ipv6(ip))) for ts, ip in pk]),
    "snap length 60": lambda p, pk: _write_pcap(p, 1, [(ts, _ethernet(ip)[:60]) for ts, ip in pk], snaplen=60),
    "vlan tagged": lambda p, pk: _write_pcap(p, 1, [(ts, b"\0" * 12 + b"\x81\x00\x00\x05" + _ethernet(ip)[12:])
                                                     for ts, ip in pk]),
}


def _pcapng(path: Path, pk: list[tuple[float, bytes]], little: bool = True) -> None:
    """Packets alternating between interface 0 (Ethernet) and 1 (SLL2), a UDP packet between."""
    ng = dpkt.pcapng
    shb = ng.SectionHeaderBlockLE() if little else ng.SectionHeaderBlock()
    idb = ng.InterfaceDescriptionBlockLE if little else ng.InterfaceDescriptionBlock
    epb = ng.EnhancedPacketBlockLE if little else ng.EnhancedPacketBlock
    blocks = [shb, idb(linktype=1, snaplen=65535), idb(linktype=276, snaplen=65535)]
    udp = dpkt.ip.IP(src=b"\x7f\0\0\1", dst=b"\x7f\0\0\1", p=17, data=dpkt.udp.UDP(sport=53, dport=53, data=b"x"))
    for n, (ts, ip) in enumerate(pk):
        frame = _ethernet(ip) if n % 2 == 0 else _sll2(0, ip)
        micros = round(ts * 1e6)
        blocks.append(epb(iface_id=n % 2, ts_high=micros >> 32, ts_low=micros & 0xFFFFFFFF, caplen=len(frame),
                          pkt_len=len(frame), pkt_data=frame))
        if n == 3:
            blocks.append(epb(iface_id=0, caplen=42, pkt_len=42, pkt_data=_ethernet(bytes(udp))))
    path.write_bytes(b"".join(bytes(b) for b in blocks))


WRITERS["pcapng, two interfaces"] = lambda p, pk: _pcapng(p, pk)
WRITERS["pcapng, big-endian"] = lambda p, pk: _pcapng(p, pk, little=False)


def _key(path: Path, options: bool = True) -> list[tuple[object, ...]]:
    return [(s.src, s.dst, sorted(s.flags), s.seq, s.ack, s.length, s.window) + ((s.mss, s.wscale) if options else ())
            for s in read_pcap(str(path))]


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_every_link_type_reads_as_the_same_connection_and_replays(tmp_path: Path, kind: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.cap"  # the name says nothing: the magic number tells the format
    WRITERS[kind](out, _ip_packets())
    assert _key(out, options="snap" not in kind) == _key(LOOPBACK, options="snap" not in kind)  # 60 octets cut the options
    assert main(["replay", TCP, str(out), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "accepted"


def test_a_snap_length_that_cuts_the_tcp_header_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "short.pcap"
    _write_pcap(out, 1, [(ts, _ethernet(ip)[:40]) for ts, ip in _ip_packets()], snaplen=40)
    assert main(["replay", TCP, str(out)]) == 2
    assert "packet 1: the capture's snap length cut its TCP header (capture with a larger -s)" in capsys.readouterr().err


def _two_connections(path: Path) -> None:
    """loopback_full.pcap's connection, then the same one over IPv6 with other ports."""
    pk = _ip_packets()
    frames = [(ts, _ethernet(ip)) for ts, ip in pk]
    for ts, ip in pk:
        v6 = dpkt.ip6.IP6(_to_ipv6(ip))
        v6.data.sport, v6.data.dport = v6.data.sport + 1, v6.data.dport + 1
        v6.data.sum = 0
        frames.append((ts + 1, _ethernet(bytes(v6))))
    _write_pcap(path, 1, frames)


def test_list_conns_names_each_connection_and_conn_picks_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cap = tmp_path / "two.pcap"
    _two_connections(cap)
    assert main(["replay", TCP, str(cap), "--list-conns"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].startswith("127.0.0.1:41682-127.0.0.1:41649 ") and "11 segments" in out[0]
    assert out[1].startswith("[::1]:41683-[::1]:41650 ") and "from packet 12" in out[1]
    assert main(["replay", TCP, str(cap), "--conn", "[::1]:41650-[::1]:41683", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "accepted" and doc["explained"][0]["where"].endswith("packet 12")
    assert main(["replay", TCP, str(cap), "--conn", "127.0.0.1:1-127.0.0.1:2"]) == 2
    assert "no TCP connection 127.0.0.1:1-127.0.0.1:2 (it has: 127.0.0.1:41682-127.0.0.1:41649, " in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["x", "127.0.0.1-127.0.0.1:2", "1.2.3.4:99999-1.2.3.4:1", "[::1:5-[::1]:6",
                                 "1.2.3.4:1-1.2.3.4:2#0", "1.2.3.4:1-1.2.3.4:2#x"])
def test_a_malformed_conn_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError, match="expected ADDR:PORT-ADDR:PORT"):
        parse_conn(bad)


def test_a_reused_port_starts_a_new_connection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same address pair, a new SYN (another ISN) after the first connection closed: a
    second connection, listed and picked as PAIR#2."""
    pk = _ip_packets()
    again = []
    for ts, ip in pk:
        p = dpkt.ip.IP(ip)
        p.data.seq = (p.data.seq + 1000) % 2**32
        p.data.ack = (p.data.ack + 1000) % 2**32 if p.data.ack else 0
        p.data.sum, p.sum = 0, 0
        again.append((ts + 5, bytes(p)))
    cap = tmp_path / "reuse.pcap"
    _write_pcap(cap, 101, pk + again)
    conns = connections(read_packets(str(cap)))
    assert [len(c.packets) for c in conns] == [11, 11] and conns[1].label == conns[0].label + "#2"
    assert main(["replay", TCP, str(cap), "--conn", conns[1].label, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "accepted" and doc["explained"][0]["where"].endswith("packet 12")
    assert main(["replay", TCP, str(cap), "--conn", conns[0].label + "#3"]) == 2
    assert f"(it has: {conns[0].label}, {conns[1].label};" in capsys.readouterr().err


def test_a_connection_opened_before_the_capture_is_rejected_saying_so(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    cap = tmp_path / "late.pcap"
    _write_pcap(cap, 101, _ip_packets()[3:])  # from the first data segment on
    assert main(["replay", TCP, str(cap), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["first_unexplained"] == 1 and doc["connection"] == "127.0.0.1:41682-127.0.0.1:41649"
    assert doc["reason"].endswith("the trace has no SYN: the connection was opened before it starts, and the model "
                                  "starts CLOSED")


@pytest.mark.parametrize("kind", ["snap length 60", "ipv6 short"])
@pytest.mark.parametrize("field,by", [("window", -1), ("seq", 1), ("len", 1)])
def test_a_mutant_of_a_cut_segment_keeps_its_lengths(tmp_path: Path, kind: str, field: str, by: int) -> None:
    """traces/mutate_capture.py on a frame the snap length cut short: the IP length stays the
    segment's own (dpkt, serializing, would set it to the octets captured), so the mutant
    differs from the capture in its one field."""
    import sys

    sys.path.insert(0, str(ROOT / "traces"))
    from mutate_capture import mutate

    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    pk = _ip_packets()
    if kind == "snap length 60":
        WRITERS[kind](src, pk)
    else:
        _write_pcap(src, 1, [(ts, _ethernet(_to_ipv6(ip))[:80]) for ts, ip in pk], snaplen=80)
    before = read_packets(str(src))
    n = next(p.number for p in before if p.length > 0)
    mutate(str(src), str(dst), n, field, None, by)
    after = read_packets(str(dst))
    changed = {"window": "window", "seq": "seq", "len": "length"}[field]
    for a, b in zip(before, after):
        for attr in ("seq", "ack", "length", "window", "flags"):
            want = getattr(a, attr)
            if a.number == n and attr == changed:
                want += by
            assert getattr(b, attr) == want, (a.number, attr)
