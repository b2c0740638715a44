"""`tcpspec replay`: traces seen on the wire (text, pcap, ITF) judged against the model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tcpspec.cli import main
from tcpspec.traffic.wire import read_pcap, read_text_trace

ROOT = Path(__file__).resolve().parents[1]
TCP = str(ROOT / "models/tcp.tcpspec")
TRACES = ROOT / "traces"
SEED = ["-D", "MSS=536", "-D", "WND=65535"]
REAL = ["-D", "MSS=1460", "-D", "WND=65536"]  # the loopback capture advertises 64 << 10 (WINDOW compares windows)


def _replay(capsys: pytest.CaptureFixture[str], trace: str, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    """In a fresh interpreter, as a user runs it: Z3's search is sensitive to everything the
    shared default context has seen, and hundreds of earlier tests made it 10x slower here."""
    proc = subprocess.run([sys.executable, "-m", "tcpspec", "replay", TCP, str(TRACES / trace), *extra,
                           "--format", "json"], capture_output=True, text=True, timeout=600)
    return proc.returncode, json.loads(proc.stdout)


def test_the_seed_example_as_written_is_rejected_at_its_wrong_ack(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _replay(capsys, "seed_example.txt", *SEED)
    assert code == 1 and doc["verdict"] == "rejected"
    assert doc["first_unexplained"] == 8 and len(doc["explained"]) == 7  # steps 1-7 are judged fine
    assert doc["explained"][1]["transition"] == "server.listen_recv_syn"
    assert "server.established_recv_fin sends ACK seq=112 ack=161" in doc["reason"]
    assert "the trace has ack=1" in doc["reason"]


def test_linux_three_segment_close_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _replay(capsys, "linux_three_segment_close.txt", *REAL)
    assert code == 0 and doc["verdict"] == "accepted" and len(doc["explained"]) == 8


def test_a_wrong_ack_is_rejected_naming_the_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", TCP, str(TRACES / "wrong_ack.txt")]) == 1
    out = capsys.readouterr().out
    assert "rejected at step 2" in out
    assert "server.listen_recv_syn sends SYN,ACK seq=7000 ack=101" in out and "the trace has ack=102" in out


def test_a_real_loopback_capture_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _replay(capsys, "loopback_full.pcap", *REAL)
    assert code == 0, doc
    labels = [e["segment"] for e in doc["explained"]]
    assert labels[0].startswith("client -> server SYN seq=") and any("FIN" in x for x in labels)


@pytest.mark.skipif(shutil.which("tcpdump") is None or os.geteuid() != 0, reason="needs tcpdump and root")
def test_a_fresh_capture_reads_as_one_connection(tmp_path: Path) -> None:
    out = tmp_path / "lo.pcap"
    subprocess.run([sys.executable, str(TRACES / "capture_loopback.py"), str(out)], check=True, timeout=60)
    segs = read_pcap(str(out))
    assert segs[0].src == "client" and segs[0].flags == {"SYN"}
    assert segs[1].flags == {"SYN", "ACK"} and segs[1].ack == (segs[0].seq + 1) % 2**32
    assert sum("FIN" in s.flags for s in segs) == 2 and sum(s.length for s in segs) == 10


def test_text_trace_errors_are_positioned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("client -> server SYN seq=0\nclient => server ACK seq=1\nclient -> server SYN,URG seq=1\n"
                   "client -> server ACK sq=1\n")
    assert main(["replay", TCP, str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2:1: error: expected `<from> -> <to>" in err
    assert f"{bad}:3:18: error: unknown flag 'URG'" in err
    assert f"{bad}:4:22: error: unknown field 'sq'" in err
    segs = read_text_trace("t", "a -> b SYN,ACK seq=0x10 ack=5 len=3  # comment\n")
    assert segs[0].seq == 16 and segs[0].ack == 5 and segs[0].length == 3 and segs[0].flags == {"SYN", "ACK"}


def test_unknown_endpoints_are_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = tmp_path / "t.txt"
    t.write_text("alice -> bob SYN seq=0\n")
    assert main(["replay", TCP, str(t)]) == 2
    assert "no channel from alice to bob" in capsys.readouterr().err


def test_our_own_itf_trace_replays_and_a_tampered_one_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = str(ROOT / "models/broken/seed_ack_plus_two.tcpspec")
    cex = tmp_path / "cex.itf.json"
    assert main(["check", broken, "--engine", "bmc", "--depth", "3", "--prop", "server.syn_ack_rule",
                 "--trace-out", str(cex)]) == 1
    capsys.readouterr()
    assert main(["replay", broken, str(cex)]) == 0
    doc = json.loads(cex.read_text())
    doc["states"][-1]["server.rcv_nxt"] = {"#bigint": "7"}
    cex.write_text(json.dumps(doc))
    assert main(["replay", broken, str(cex)]) == 1
    assert "rejected at step" in capsys.readouterr().out


def _reverse_records(v: object) -> object:
    """`v` with every JSON object's keys listed in reverse order (ITF's `#...` tags kept first)."""
    if isinstance(v, list):
        return [_reverse_records(x) for x in v]
    if isinstance(v, dict):
        tags = [(k, x) for k, x in v.items() if k.startswith("#")]
        rest = [(k, _reverse_records(x)) for k, x in v.items() if not k.startswith("#")]
        return dict(tags + rest[::-1])
    return v


def test_an_itf_trace_replays_whatever_order_its_records_list_their_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Records are equal by field name: a trace written by another tool may order them freely."""
    broken = str(ROOT / "models/broken/seed_ack_plus_two.tcpspec")
    cex = tmp_path / "cex.itf.json"
    assert main(["check", broken, "--engine", "bmc", "--depth", "3", "--prop", "server.syn_ack_rule",
                 "--trace-out", str(cex)]) == 1
    doc = json.loads(cex.read_text())
    flipped = _reverse_records(doc)
    assert json.dumps(flipped) != json.dumps(doc)  # some record in flight did change order
    cex.write_text(json.dumps(flipped))
    capsys.readouterr()
    assert main(["replay", broken, str(cex)]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("keep", [30, 60, 100, 300])
def test_a_truncated_capture_is_a_usage_error(tmp_path: Path, keep: int, capsys: pytest.CaptureFixture[str]) -> None:
    """Cut inside a record header (300: dpkt's NeedData was an internal error) or inside a
    packet (100: the short packet was dropped and the rest 'accepted')."""
    cut = tmp_path / "cut.pcap"
    cut.write_bytes((TRACES / "loopback_full.pcap").read_bytes()[:keep])
    assert main(["replay", TCP, str(cut), *REAL]) == 2
    assert "cut short" in capsys.readouterr().err
    assert len(read_pcap(str(TRACES / "loopback_full.pcap"))) == 11  # the whole file still reads


def test_an_itf_trace_replays_with_a_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--format json printed plain text for ITF traces."""
    broken = str(ROOT / "models/broken/seed_ack_plus_two.tcpspec")
    itf = tmp_path / "cx.itf.json"
    assert main(["check", broken, "--engine", "bmc", "--depth", "4", "--trace-out", str(itf)]) == 1
    capsys.readouterr()
    assert main(["replay", broken, str(itf), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["verdict"], doc["steps"], doc["exit_code"]) == ("accepted", 2, 0)
    assert main(["replay", str(ROOT / "models/seed_handshake.tcpspec"), str(itf), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert (doc["verdict"], doc["first_unexplained"]) == ("rejected", 2) and "s2c" in doc["reason"]


def test_a_sequence_number_past_32_bits_is_a_positioned_error() -> None:
    """It was taken modulo 2^32 (seq=99999999999999999999 replayed as seq=1661992959)."""
    from tcpspec.core.diagnostics import ModelError

    with pytest.raises(ModelError) as err:
        read_text_trace("t.txt", "client -> server SYN seq=0\nclient -> server ACK seq=1 ack=0x100000000\n")
    (d,) = err.value.diagnostics
    assert (d.span.line, d.span.col) == (2, 32) and "32 bits" in d.message
    assert read_text_trace("t.txt", "client -> server SYN seq=4294967295\n")[0].seq == 4294967295


def _json_replay(capsys: pytest.CaptureFixture[str], trace: str, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["replay", TCP, trace, *extra, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_a_real_capture_replays_with_no_defines(capsys: pytest.CaptureFixture[str]) -> None:
    """MSS from the SYNs' option, WND from the largest window (64 << 10), CAP from the capture,
    the model's delayed ACKs on, as a real stack's, and its changing windows (the SYNs' windows,
    unscaled, differ from the later ones): every window is compared."""
    code, doc = _json_replay(capsys, str(TRACES / "loopback_full.pcap"))
    assert code == 0 and doc["verdict"] == "accepted"
    assert doc["settings"] == {"MSS": 65495, "WND": 65536, "CAP": 3, "DELACK": True, "WINDOW": True}


def test_a_define_wins_over_the_capture_and_no_auto_sets_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _json_replay(capsys, str(TRACES / "loopback_full.pcap"), "-D", "MSS=5")
    assert code == 0 and "MSS" not in doc["settings"] and doc["settings"]["WND"] == 65536
    code, doc = _json_replay(capsys, str(TRACES / "loopback_full.pcap"), "--no-auto")
    assert code == 1 and doc["settings"] == {} and doc["first_unexplained"] == 4  # 5 octets, MSS = 2
    assert doc["reason"] == ("len=5 is outside the model's len field (0..2); MSS = 2 and WND = 4 are too small for this "
                             "segment: -D MSS=5 -D WND=5 admits it")


def _write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "t.txt"
    p.write_text(text)
    return str(p)


HANDSHAKE = "client -> server SYN seq=100\nserver -> client SYN,ACK seq=500 ack=101\nclient -> server ACK seq=101 ack=501\n"


@pytest.mark.parametrize("define,trace,constant", [
    ("MSS=100", HANDSHAKE + "client -> server ACK seq=101 ack=501 len=150\n", "len=150 is outside the model's len field "
     "(0..100); MSS = 100 is too small for this segment: -D MSS=150 admits it"),
    ("WND=10", HANDSHAKE + "client -> server ACK seq=101 ack=501 len=8\nclient -> server ACK seq=109 ack=501 len=8\n"
     "server -> client ACK seq=501 ack=101 len=3\n", "WND = 10 is too small for this segment: -D WND=16 admits it"),
    ("CAP=1", HANDSHAKE + "client -> server ACK seq=101 ack=501 len=2\nclient -> server ACK seq=103 ack=501 len=2\n"
     "client -> server ACK seq=105 ack=501 len=2\nserver -> client ACK seq=501 ack=103\n",
     "CAP = 1 is too small for this segment: -D CAP=3 admits it"),
])
def test_a_segment_beyond_a_constant_names_it_and_the_value_that_admits_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], define: str, trace: str, constant: str) -> None:
    code, doc = _json_replay(capsys, _write(tmp_path, trace), "-D", define)
    assert code == 1 and doc["reason"] == constant, doc["reason"]
    code, doc = _json_replay(capsys, _write(tmp_path, trace))  # what the trace shows is set
    assert code == 0, doc["reason"]


def test_the_progress_line_is_drawn_on_a_terminal_only() -> None:
    import pty

    primary, secondary = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "tcpspec", "replay", TCP, str(TRACES / "loopback_full.pcap")],
                          stdout=subprocess.PIPE, stderr=secondary, timeout=120, env={**os.environ, "COLUMNS": "100"})
    os.close(secondary)
    drawn = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(primary)
    assert proc.returncode == 0 and b"replaying 11 segments" in drawn
    assert b"replaying" not in proc.stdout
    piped = subprocess.run([sys.executable, "-m", "tcpspec", "replay", TCP, str(TRACES / "loopback_full.pcap")],
                           capture_output=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == b""


def test_a_run_that_needs_the_peers_put_off_steps_is_found(tmp_path: Path) -> None:
    """The client's second 8 octets fit a window of 10 only once the server's ACK of the first
    (missing from the trace) has come back: the lazy gap, which leaves the server's silent
    steps for later, finds no match there; the same gap followed eagerly does, and so does the
    whole follow."""
    from tcpspec.traffic.autoconf import configure
    from tcpspec.traffic.conformance import check_conformance, expectations, pinned_initials, pure_ack_fields
    from tcpspec.traffic.follow import Follower

    trace = _write(tmp_path, HANDSHAKE + "client -> server ACK seq=101 ack=501 len=8\n"
                   "client -> server ACK seq=109 ack=501 len=8\nserver -> client ACK seq=501 ack=117\n")
    segs = read_text_trace(trace, Path(trace).read_text())
    conf = configure(TCP, segs, {"WND": "10"})
    follower = Follower(conf.model, pure_ack_fields(conf.model))
    expects, _ = expectations(conf.model, segs)
    before = follower.follow(pinned_initials(conf.model, segs), expects[:4], lazy=True)
    assert before.explained == 4 and before.end is not None
    assert not follower._gap([before.end], expects, 4, None, lazy=True)[1]
    assert follower._gap([before.end], expects, 4, None, lazy=False)[1]
    assert follower.follow(pinned_initials(conf.model, segs), expects, lazy=True).explained == 6
    assert check_conformance(conf.model, segs).verdict == "accepted"


SHRINK = ("client -> server SYN seq=100 win=512 wscale=7\n"
          "server -> client SYN,ACK seq=500 ack=101 win=512 wscale=7\n"
          "client -> server ACK seq=101 ack=501 win=4\n"
          "client -> server ACK,PSH seq=101 ack=501 len=5 win=4\n"
          "server -> client ACK seq=501 ack=106 win=4\n"
          "server -> client ACK,PSH seq=501 ack=106 len=5 win={last}\n"
          "client -> server ACK seq=106 ack=506 win=4\n")


@pytest.mark.parametrize("last,verdict", [(4, "accepted"), (5, "accepted"), (3, "rejected"), (0, "rejected")])
def test_a_window_that_shrinks_is_rejected_while_the_model_fixes_windows(tmp_path: Path, last: int, verdict: str) -> None:
    """The server's window ends at 106 + 4 * 128; a window one unit (128) smaller ends left of
    it (RFC 9293 §3.8.6.2.2), whatever the model (whose window is fixed) would allow."""
    from tcpspec.traffic.conformance import prepare_replay, shrinking_window
    from tcpspec.traffic.windows import window_shifts

    trace = tmp_path / "t.txt"
    trace.write_text(SHRINK.format(last=last))
    res = prepare_replay(TCP, str(trace), {"RTO": "false", "KEEPALIVE": "false", "WINDOW": "false"}).run(timeout=60)
    assert res.verdict == verdict
    if verdict == "rejected":
        assert res.first_unexplained == 6 and res.reason.startswith(
            f"server's window shrinks: ack=106 win={last} (<< 7) ends it at {106 + last * 128}, "
            f"{(4 - last) * 128} octets left of where {trace}:5 ended it (ack=106 win=4)")
    # 126 octets more acknowledged, the window a unit (128) less: 2 octets left, lost to rounding
    segs = read_text_trace("t.txt", SHRINK.format(last=4).replace("ack=106 len=5 win=4", "ack=232 len=5 win=3"))
    assert shrinking_window(segs, window_shifts(segs)) is None
    segs = read_text_trace("t.txt", SHRINK.format(last=4).replace("ack=106 len=5 win=4", "ack=233 len=5 win=2"))
    shrunk = shrinking_window(segs, window_shifts(segs))
    assert shrunk is not None and shrunk[0] == 5 and "shrinks: ack=233 win=2 (<< 7) ends it at 489, 129 octets left" in shrunk[1]


UPDATE = ("client -> server SYN seq=100 win=512 wscale=7\n"
          "server -> client SYN,ACK seq=500 ack=101 win=512 wscale=7\n"
          "client -> server ACK seq=101 ack=501 win=4\n"
          "client -> server ACK,PSH seq=101 ack=501 len=5 win=4\n"
          "server -> client ACK seq=501 ack=106 win=4\n"
          "server -> client ACK seq=501 ack={ack} win=6\n"  # the window update
          "server -> client ACK,PSH seq=501 ack=106 len=5 win=6\n"
          "client -> server ACK seq=106 ack=506 win=4\n")


@pytest.mark.parametrize("ack,verdict", [(106, "accepted"), (105, "rejected"), (107, "rejected")])
def test_a_window_update_is_set_aside_while_the_model_fixes_windows(tmp_path: Path, ack: int, verdict: str) -> None:
    """The same acknowledgment again with a larger window tells a fixed-window model nothing:
    it passes as a window update; with another ack it is an ordinary segment, and wrong."""
    from tcpspec.traffic.conformance import WINDOW_UPDATE, prepare_replay

    trace = tmp_path / "t.txt"
    trace.write_text(UPDATE.format(ack=ack))
    res = prepare_replay(TCP, str(trace), {"RTO": "false", "KEEPALIVE": "false", "WINDOW": "false"}).run(timeout=60)
    assert res.verdict == verdict, res.reason
    if verdict == "accepted":
        assert [m.transition for m in res.explained][5] == WINDOW_UPDATE and len(res.explained) == 8
    else:
        assert res.first_unexplained == 6 and len(res.explained) == 5


FIN_INTO_CLOSING_WINDOW = (
    "client -> server SYN seq=100 win=65495 mss=65495 wscale=10\n"
    "server -> client SYN,ACK seq=500 ack=101 win=2048 mss=65495 wscale=0\n"  # a small buffer: no scaling
    "client -> server ACK seq=101 ack=501 win=64\n"
    "client -> server ACK,PSH seq=101 ack=501 len=1000 win=64\n"
    "server -> client ACK seq=501 ack=1101 win=1048\n"  # the right edge at 2149
    "client -> server ACK,FIN,PSH seq=1101 ack=501 len=1000 win=64\n"
    "server -> client ACK seq=501 ack=2102 win={win}\n"
    "server -> client ACK,FIN seq=501 ack=2102 win={win}\n"
    "client -> server ACK seq=2102 ack=502 win=64\n")


@pytest.mark.parametrize("win,verdict", [(47, "accepted"), (48, "accepted"), (46, "rejected")])
def test_the_ack_of_a_fin_may_keep_the_right_edge_with_the_fin_inside(tmp_path: Path, win: int, verdict: str) -> None:
    """Linux, its window closing, acknowledges data and a FIN with the right edge where it was
    (2102 + 47 = 2149: the FIN's number inside the window, as RFC 9293 counts SEG.LEN); an edge
    one further right (the FIN taking no room) is as good, one further left shrinks the window.
    A real capture (a 2048-octet receive buffer read slowly) showed the first."""
    from tcpspec.traffic.conformance import prepare_replay

    trace = tmp_path / "t.txt"
    trace.write_text(FIN_INTO_CLOSING_WINDOW.format(win=win))
    res = prepare_replay(TCP, str(trace), {}).run(timeout=60)
    assert res.verdict == verdict, res.reason
    assert res.first_unexplained == (7 if verdict == "rejected" else None)


# The server reads the request and closes; text from the client then meets a closed end (a
# loopback capture of Linux, numbers made small): RST seq=SEG.ACK, no ACK flag, window 0.
TEXT_AFTER_CLOSE = (
    "client -> server SYN seq=100 win=65495 mss=65495 wscale=10\n"
    "server -> client SYN,ACK seq=500 ack=101 win=65483 mss=65495 wscale=10\n"
    "client -> server ACK seq=101 ack=501 win=64\n"
    "client -> server ACK,PSH seq=101 ack=501 len=5 win=64\n"
    "server -> client ACK seq=501 ack=106 win=64\n"
    "server -> client ACK,FIN seq=501 ack=106 win=64\n"
    "client -> server ACK seq=106 ack=502 win=64\n"
    "client -> server ACK,PSH seq=106 ack=502 len=4 win=64\n"
    "server -> client {reset} win=0\n")


@pytest.mark.parametrize("reset,verdict", [("RST seq=502", "accepted"), ("RST seq=501", "rejected"),
                                           ("RST,ACK seq=502 ack=110", "rejected")])
def test_text_after_close_is_answered_as_a_closed_end_answers(tmp_path: Path, reset: str, verdict: str) -> None:
    """RFC 1122 §4.2.2.13: an end that has closed answers new text with a reset, and Linux sends
    the one a CLOSED end sends, <SEQ=SEG.ACK><CTL=RST>; SND.UNA or an RST,ACK is not that."""
    from tcpspec.traffic.conformance import prepare_replay

    trace = tmp_path / "t.txt"
    trace.write_text(TEXT_AFTER_CLOSE.format(reset=reset))
    res = prepare_replay(TCP, str(trace), {}).run(timeout=60)
    assert res.verdict == verdict, res.reason
    assert res.first_unexplained == (9 if verdict == "rejected" else None)


def test_an_ends_isn_is_its_syns_number_not_a_reset_it_sent_before() -> None:
    """A capture where the server's first segment is a reset from CLOSED (RST,ACK seq=0, the
    client's SYN refused) and its SYN,ACK comes later: the server's ISS is pinned to the
    SYN,ACK's number, not to the reset's 0."""
    from tcpspec.run.pipeline import load_model
    from tcpspec.traffic.conformance import pinned_initials

    segments = read_text_trace("t.txt", "client -> server SYN seq=100\n"
                                        "server -> client RST,ACK seq=0 ack=101\n"
                                        "client -> server SYN seq=100\n"
                                        "server -> client SYN,ACK seq=500 ack=101\n")
    (init,) = pinned_initials(load_model(TCP, {"RESETS": "true"}), segments)
    assert (init["client.iss"], init["server.iss"]) == (100, 500)


def test_duplicate_acks_that_linux_compresses_are_explained() -> None:
    """traces/linux_sack_compression.pcap: after one hole the receiver holds 27 segments but
    answers only three with a duplicate ACK (Linux's SACK compression holds the rest, and drops
    them once the hole is filled), then sends one cumulative ACK. With DELACK the model may
    delay a held segment's duplicate ACK; without that the capture is rejected at that ACK."""
    from tcpspec.traffic.conformance import prepare_replay

    path = str(Path(TCP).parents[1] / "traces/linux_sack_compression.pcap")
    res = prepare_replay(TCP, path, {}).run(timeout=120)
    assert res.verdict == "accepted", res.reason
