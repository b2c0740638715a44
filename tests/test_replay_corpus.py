"""Real connections, captured by the suite itself, replayed against models/tcp.tcpspec with no -D.

Once per test session (and once for all xdist workers: the first takes a lock and the others
wait for its files) `traces/capture_loopback.py --all --netns` captures every behaviour on a
loopback, in a network namespace of its own when it can (root, `ip netns`), so that the packets
it drops for `retransmission` and `mid_stream_loss` touch no one else's traffic. Each capture must be accepted as it
is, and each one-field mutant (traces/mutate_capture.py) rejected at the very packet that was
changed. Skipped, with the reason, where tcpdump or the right to capture is missing.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tcpspec.traffic.capture import Connection, Packet

ROOT = Path(__file__).resolve().parents[1]
TCP = str(ROOT / "models/tcp.tcpspec")
sys.path.insert(0, str(ROOT / "traces"))
from mutate_capture import mutate  # noqa: E402


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, dict[str, str]]:
    if shutil.which("tcpdump") is None or os.geteuid() != 0:
        pytest.skip("capturing on the loopback needs tcpdump and root")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base
    out = shared / "replay_corpus"
    with open(shared / "replay_corpus.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "index.json").exists():
            proc = subprocess.run([sys.executable, str(ROOT / "traces/capture_loopback.py"), "--all", str(out), "--netns"],
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode != 0 or not (out / "index.json").exists():
                pytest.fail(f"capture_loopback.py failed: {proc.stderr[-2000:]}")
    return json.loads((out / "index.json").read_text())


@dataclass
class Verdict:
    verdict: str
    first_unexplained: int | None
    where: str
    reason: str
    windows: bool  # the configured model compares windows (does not fix them)


_PROGRAM: dict[str, object] = {}


def replay(path: str, conn: str | None = None) -> Verdict:
    """`tcpspec replay models/tcp.tcpspec PATH [--conn CONN]` with no -D, in this process (the
    model parsed once for the session)."""
    from tcpspec.traffic.conformance import fixed_window, prepare_replay
    from tcpspec.frontend.parser import load_program

    if "tcp" not in _PROGRAM:
        _PROGRAM["tcp"] = load_program(TCP)
    rep = prepare_replay(TCP, path, {}, conn, program=_PROGRAM["tcp"])  # type: ignore[arg-type]
    res = rep.run(timeout=120)
    where = rep.segments[len(res.explained)].where if res.verdict == "rejected" else ""
    return Verdict(res.verdict, res.first_unexplained, where, res.reason, fixed_window(rep.conf.model) is None)


def _capture(corpus: dict[str, dict[str, str]], name: str) -> tuple[str, str | None]:
    entry = corpus[name]
    if "skipped" in entry:
        pytest.skip(f"{name}: {entry['skipped']}")
    return entry["file"], entry.get("conn")


BEHAVIOURS = ["request_response", "client_closes_first", "half_close", "simultaneous_close", "abortive_close", "data_after_close",
              "refused", "data_fin", "bulk_transfer", "small_writes", "keepalive", "retransmission", "zero_window",
              "mid_stream_loss", "syn_ack_lost", "last_ack_lost", "simultaneous_open", "slow_reader"]


def _connection(path: str, conn: str | None) -> Connection:
    """The connection `conn` of the capture at `path` (replay's default one when None)."""
    from tcpspec.traffic.capture import connections, read_packets, select

    return select(connections(read_packets(path)), path, conn)


def _packet(path: str, conn: str | None, n: int) -> Packet:
    return next(p for p in _connection(path, conn).packets if p.number == n)


@pytest.mark.parametrize("name", BEHAVIOURS)
def test_a_real_capture_is_accepted(corpus: dict[str, dict[str, str]], name: str) -> None:
    path, conn = _capture(corpus, name)
    if name == "simultaneous_close":  # the capture shows what it is named for
        from capture_loopback import _crossed_fins

        assert _crossed_fins(path, _connection(path, conn).server[1]) is not None
    if name == "simultaneous_open":  # both SYNs were sent before either end answered one
        packets = _connection(path, conn).packets
        first_answer = next(i for i, p in enumerate(packets) if {"SYN", "ACK"} <= p.flags)
        assert len({p.src for p in packets[:first_answer] if p.flags & {"SYN"}}) == 2
        assert len({p.src for p in packets if {"SYN", "ACK"} <= p.flags}) == 2
    v = replay(path, conn)
    assert v.verdict == "accepted", f"{name}: {v.verdict} at {v.where}: {v.reason}"


# One-field mutants: (field, which packet, change). Each is wrong for any TCP at that packet
# whatever came before it: `last` is the final segment (an ACK from TIME-WAIT, or an RST),
# which acknowledges all the peer sent and can carry nothing; `handshake` the third segment
# (the client's ACK of the SYN,ACK) in connections that complete a handshake.
MUTANTS = [
    ("window", "last", "--to", "0"),  # closes the window it had opened: its right edge moves left (RFC 9293 §3.8.6.2.2)
    ("seq", "last", "--by", "1"),
    ("ack", "last", "--by", "1"),
    ("flags", "last", "--to", "+SYN"),
    ("len", "last", "--by", "1"),
    ("ack", "handshake", "--by", "1"),
    ("seq", "handshake", "--by", "-1"),
]


def _packet_number(path: str, conn: str | None, which: str) -> int | None:
    c = _connection(path, conn)
    if which == "last":
        return c.packets[-1].number
    if which == "handshake":
        if len(c.packets) < 3 or c.packets[1].flags != {"SYN", "ACK"}:
            return None
        return c.packets[2].number
    raise AssertionError(which)


def _packet_fields(path: str, conn: str | None, n: int) -> tuple[object, ...]:
    p = _packet(path, conn, n)
    return p.seq, p.ack, p.flags, p.length, p.window


@pytest.mark.parametrize("name", BEHAVIOURS)
@pytest.mark.parametrize("field,which,how,change", MUTANTS)
def test_a_one_field_mutant_is_rejected_at_its_packet(corpus: dict[str, dict[str, str]], tmp_path: Path, name: str,
                                                      field: str, which: str, how: str, change: str) -> None:
    path, conn = _capture(corpus, name)
    n = _packet_number(path, conn, which)
    if n is None:
        pytest.skip(f"{name} has no {which} segment")
    if field == "ack" and "ACK" not in _packet(path, conn, n).flags:
        pytest.skip(f"{name}: packet {n} has no ACK flag, so its acknowledgment field means nothing (RFC 9293 §3.1)")
    out = tmp_path / f"{name}_{field}.pcap"
    mutate(path, str(out), n, field, change if how == "--to" else None, int(change) if how == "--by" else None)
    if _packet_fields(str(out), conn, n) == _packet_fields(path, conn, n):
        pytest.skip(f"{name}: packet {n}'s {field} is {change} already")
    v = replay(str(out), conn)
    assert v.verdict == "rejected", f"{name} with {field} {how} {change} at packet {n}: {v.verdict}"
    assert v.where.endswith(f"packet {n}"), f"{name}: rejected at {v.where}, not at packet {n}: {v.reason}"


def test_every_segment_after_a_loss_is_checked(corpus: dict[str, dict[str, str]], tmp_path: Path) -> None:
    """In `mid_stream_loss` the network is lossy (for the segment the trace shows lost) and the
    receiver holds what came after the hole: each segment from the lost one on, changed by one
    (a pure ACK's acknowledgment number, another segment's sequence number), is rejected at that
    very packet, so the loss explains the lost segment and nothing else."""
    from tcpspec.traffic.autoconf import losses
    from tcpspec.traffic.wire import load_trace

    path, conn = _capture(corpus, "mid_stream_loss")
    lost = losses(load_trace(path, conn).segments)
    assert lost, "mid_stream_loss: the capture shows no loss"
    packets = _connection(path, conn).packets
    for p in packets[lost[0][0]:]:
        field = "ack" if p.flags <= {"ACK"} and p.length == 0 else "seq"
        out = tmp_path / f"m{p.number}_{field}.pcap"
        mutate(path, str(out), p.number, field, None, 1)
        v = replay(str(out), conn)
        assert v.verdict == "rejected" and v.where.endswith(f"packet {p.number}"), \
            f"{field} + 1 at packet {p.number}: {v.verdict} at {v.where}: {v.reason}"
