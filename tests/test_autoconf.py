"""tcpspec/traffic/autoconf.py: the model's constants as a trace shows them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.traffic.autoconf import behaviours, configure, derive, losses, occurrences, rule_constants, segments_in_flight
from tcpspec.traffic.conformance import window_shifts
from tcpspec.frontend.parser import load_program
from tcpspec.traffic.wire import read_text_trace

ROOT = Path(__file__).resolve().parents[1]
HANDSHAKE = ("client -> server SYN seq=100 win=512 mss=65495 wscale=7\n"
             "server -> client SYN,ACK seq=500 ack=101 win=512 mss=65495 wscale=7\n"
             "client -> server ACK seq=101 ack=501 win=4\n")  # 4 << 7 = 512: the same window


def _segs(text: str):  # type: ignore[no-untyped-def]
    return read_text_trace("t.txt", HANDSHAKE + text)


@pytest.mark.parametrize("text,shown", [
    ("client -> server ACK seq=101 ack=501 len=10 win=4\nserver -> client ACK seq=501 ack=111 win=4\n", {}),
    ("client -> server ACK seq=101 ack=501 len=10 win=4\nclient -> server ACK seq=101 ack=501 len=10 win=4\n",
     {"RTO": "a retransmission (t.txt:5)"}),
    ("client -> server ACK seq=101 ack=501 len=10 win=4\nclient -> server ACK seq=105 ack=501 len=6 win=4\n",
     {"RTO": "a retransmission (t.txt:5)"}),  # the tail of a segment sent again
    ("client -> server ACK seq=100 ack=501 win=4\n", {"KEEPALIVE": "a keep-alive probe (t.txt:4)"}),
    ("server -> client ACK seq=501 ack=101 win=0\nclient -> server ACK seq=100 ack=501 win=4\n",
     {"WINDOW": "a zero window (t.txt:4)"}),
    ("server -> client ACK seq=501 ack=101 win=5\n", {"WINDOW": "the window changes to 640 (t.txt:4)"}),
])
def test_behaviours_are_read_off_the_trace(text: str, shown: dict[str, str]) -> None:
    segs = _segs(text)
    assert behaviours(segs, window_shifts(segs)) == shown


def test_the_windows_of_the_syns_are_not_scaled_and_the_others_are() -> None:
    segs = _segs("")
    assert window_shifts(segs) == {"client": 7, "server": 7} and behaviours(segs, window_shifts(segs)) == {}
    no_scale = read_text_trace("t.txt", HANDSHAKE.replace(" wscale=7", "", 1))
    assert window_shifts(no_scale) == {}  # both SYNs must carry the option
    assert behaviours(no_scale, {})["WINDOW"] == "the window changes to 4 (t.txt:3)"


def test_segments_in_flight_count_what_the_peer_cannot_have_read() -> None:
    """Four segments before the server acknowledges the first: three wait in the channel."""
    segs = _segs("".join(f"client -> server ACK seq={101 + 10 * k} ack=501 len=10\n" for k in range(4))
                 + "server -> client ACK seq=501 ack=111\n")
    s = segments_in_flight(segs)
    assert (s.name, s.value) == ("CAP", 3 + 2) and s.why.startswith("3 segments in flight at most (t.txt:7)")


MODEL = """
const CAP = 2;
const MSS = 2;
const WND = 4;
const RTO = false;
const KEEPALIVE = false;
const LIMIT = if RTO then MSS else 0;
message Seg { syn: bool = false, ack: bool = false, seq: seq32 = 0, ackno: seq32 = 0, len: 0..MSS = 0 }
channel c2s: Seg[CAP];
channel s2c: Seg[CAP];
process P(out: chan Seg, inbox: chan Seg) {
  var x: 0..MSS = 0;
  transition t choose n: 0..MSS when n <= LIMIT { x := n; }
  transition r receive m from inbox { skip; }
}
instance client = P(out: c2s, inbox: s2c);
instance server = P(out: s2c, inbox: c2s);
"""


def test_only_options_the_rules_test_are_switched_on(tmp_path: Path) -> None:
    """RTO reaches a guard through LIMIT; KEEPALIVE is declared and never tested."""
    path = tmp_path / "m.tcpspec"
    path.write_text(MODEL)
    assert rule_constants(load_program(str(path))) == {"MSS", "RTO", "LIMIT"}
    segs = _segs("client -> server ACK seq=100 ack=501\nclient -> server ACK seq=101 ack=501 len=1\n"
                 "client -> server ACK seq=101 ack=501 len=1\n")
    conf = configure(str(path), segs, {})
    names = {s.name: s.value for s in conf.settings}
    assert names["RTO"] is True and "KEEPALIVE" not in names and conf.model.constants["LIMIT"] == 65495
    bare = configure(str(path), segs, {}, auto=False).model
    assert derive(segs, bare.constants, window_shifts(segs), set()) == [s for s in conf.settings if s.name != "RTO"]


@pytest.mark.parametrize("gap,probe", [(0.0001, False), (1.5, True)])
@pytest.mark.parametrize("kind", ["keep-alive", "retransmission"])
def test_in_a_capture_a_timer_segment_must_come_as_late_as_a_timer_fires(gap: float, probe: bool, kind: str) -> None:
    """A segment with a probe's or a retransmission's shape but sent at once (a wrong sequence
    number) switches nothing on: the data went at 3.0 s, the segment in question `gap` later."""
    from dataclasses import replace

    text = ("client -> server ACK seq=101 ack=501 len=10 win=4\nserver -> client ACK seq=501 ack=111 win=4\n"
            + ("client -> server ACK seq=110 ack=501 win=4\n" if kind == "keep-alive"
               else "client -> server ACK seq=101 ack=501 len=10 win=4\n"))
    segs = [replace(s, time=float(i)) for i, s in enumerate(_segs(text))]
    segs[-3] = replace(segs[-3], time=3.0)  # the data, then its ACK at once, then the segment in question
    segs[-2] = replace(segs[-2], time=3.0)
    segs[-1] = replace(segs[-1], time=3.0 + gap)
    name = "KEEPALIVE" if kind == "keep-alive" else "RTO"
    assert (name in behaviours(segs, window_shifts(segs))) == probe


def test_a_transition_guarded_by_a_timer_option_is_timed(tmp_path: Path) -> None:
    from tcpspec.traffic.autoconf import timer_transitions
    from tcpspec.run.pipeline import load_model

    path = tmp_path / "k.tcpspec"
    path.write_text(MODEL.replace("const KEEPALIVE = false;", "const KEEPALIVE = true;").replace(
        "transition r receive", "transition probe when KEEPALIVE && x == 0 { skip; }\n  transition r receive"))
    assert timer_transitions(load_program(str(path)), load_model(str(path))) == {"client.probe": 0.9, "server.probe": 0.9}
    assert timer_transitions(load_program(str(path)), load_model(str(path), {"KEEPALIVE": "false"})) == {}


def test_what_the_model_lacks_for_a_segment_is_said(tmp_path: Path) -> None:
    """A keep-alive probe the scratch model declares KEEPALIVE for without a rule; a
    retransmission whose RTO the user switched off, or that --no-auto leaves off."""
    path = tmp_path / "m.tcpspec"
    path.write_text(MODEL)
    segs = _segs("client -> server ACK seq=100 ack=501\nclient -> server ACK seq=101 ack=501 len=1\n"
                 "client -> server ACK seq=101 ack=501 len=1\n")
    assert configure(str(path), segs, {}).lacking == [
        (3, f"A keep-alive probe (t.txt:4) needs the model's KEEPALIVE option: {path} declares KEEPALIVE but has no "
            "rule of its own for it yet", True)]
    off = configure(str(path), segs, {"RTO": "false"}).lacking
    assert off[1] == (5, "A retransmission (t.txt:6) needs the model's RTO option: -D RTO=false switches it off", True)
    assert configure(str(path), segs, {}, auto=False).lacking[1][1].endswith(
        "--no-auto leaves it off (-D RTO=true switches it on)")
    bare = tmp_path / "bare.tcpspec"
    bare.write_text(MODEL.replace("const RTO = false;\n", "").replace("if RTO then MSS else 0", "0"))
    assert configure(str(bare), segs, {}).lacking[1][1].endswith(f"{bare} has no option RTO")


def test_a_rejection_at_a_segment_the_model_lacks_an_option_for_names_it(tmp_path: Path) -> None:
    """tcp.tcpspec with RTO off: the retransmitted data is rejected at its segment, saying that
    it is a retransmission and that RTO is off."""
    from tcpspec.traffic.conformance import prepare_replay

    trace = tmp_path / "t.txt"
    trace.write_text(HANDSHAKE + "client -> server ACK,PSH seq=101 ack=501 len=5 win=4\n"
                     "client -> server ACK,PSH seq=101 ack=501 len=5 win=4\n")
    res = prepare_replay(str(ROOT / "models" / "tcp.tcpspec"), str(trace), {"RTO": "false"}).run(timeout=60)
    assert res.verdict == "rejected" and res.first_unexplained == 5
    assert res.reason.endswith(f"A retransmission ({trace}:5) needs the model's RTO option: -D RTO=false switches it off")


def test_a_probe_into_a_zero_window_is_sent_by_the_keepalive_rule_when_the_model_has_no_window_rules(
        tmp_path: Path) -> None:
    """Linux sends both probes as one segment: with KEEPALIVE rules and none for WINDOW, the
    keep-alive rule is switched on for a zero-window probe, timed as the persist timer."""
    from dataclasses import replace

    path = tmp_path / "k.tcpspec"
    path.write_text(MODEL.replace("transition r receive", "transition probe when KEEPALIVE && x == 0 { skip; }\n"
                                  "  transition r receive"))
    segs = _segs("server -> client ACK seq=501 ack=101 win=0\nclient -> server ACK seq=100 ack=501 win=4\n")
    segs = [replace(s, time=float(i)) for i, s in enumerate(segs)]
    segs[-1] = replace(segs[-1], time=segs[-2].time + 0.2)  # 0.2 s after the zero window: no keep-alive timer
    conf = configure(str(path), segs, {})
    why = {s.name: s.why for s in conf.settings}["KEEPALIVE"]
    assert why == "a probe into a zero window (t.txt:5), the keep-alive probe's segment (the model has no WINDOW rules)"
    assert conf.timers == {"client.probe": 0.1, "server.probe": 0.1}
    assert "KEEPALIVE" not in {s.name for s in configure(str(path), segs[:-1], {}).settings}


def test_a_probe_does_not_restart_the_peers_idle_time() -> None:
    """Both ends' keep-alive timers fire at once: the server's probe, the client's answer and
    the client's own probe come within microseconds, at 5 s; neither end has heard a segment since."""
    from dataclasses import replace

    from tcpspec.traffic.wire import idle_times

    text = ("client -> server ACK seq=101 ack=501 len=10 win=4\nserver -> client ACK seq=501 ack=111 win=4\n"
            "server -> client ACK seq=500 ack=111 win=4\nclient -> server ACK seq=111 ack=501 win=4\n"
            "client -> server ACK seq=110 ack=501 win=4\n")
    segs = [replace(s, time=float(i)) for i, s in enumerate(_segs(text))]
    segs[-3:] = [replace(s, time=5.0 + k * 1e-5) for k, s in enumerate(segs[-3:])]
    idle = idle_times(segs)
    assert idle[-3] == pytest.approx(2.0) and idle[-1] == pytest.approx(1.0, abs=1e-3)  # since 3.0 and 4.0
    assert [o.option for o in occurrences(segs, window_shifts(segs))] == ["KEEPALIVE", "KEEPALIVE"]


def test_an_option_reached_only_through_a_constant_other_options_feed_has_no_rules(tmp_path: Path) -> None:
    """`const BOTH = RTO || KEEPALIVE;` in a guard is machinery both share: neither option has
    a rule of its own by it. In tcp.tcpspec, REPEATS = KEEPALIVE || RTO || WINDOW is such a
    constant, and each option also has rules of its own (probes, retransmissions, windows)."""
    path = tmp_path / "m.tcpspec"
    path.write_text(MODEL.replace("const LIMIT = if RTO then MSS else 0;", "const LIMIT = MSS;\nconst BOTH = RTO || KEEPALIVE;")
                    .replace("when n <= LIMIT", "when n <= LIMIT && BOTH"))
    assert rule_constants(load_program(str(path))) == {"MSS", "LIMIT", "BOTH"}
    tcp = rule_constants(load_program(str(ROOT / "models" / "tcp.tcpspec")))
    assert {"KEEPALIVE", "RTO", "WINDOW"} <= tcp and "REPEATS" in tcp


LOST = ("client -> server ACK seq=101 ack=501 len=10 win=4\n"  # t.txt:4, lost
        "client -> server ACK seq=111 ack=501 len=10 win=4\n"
        "server -> client ACK seq=501 ack=101 win=4\n"  # t.txt:6: a duplicate ACK at the hole
        "client -> server ACK seq=101 ack=501 len=10 win=4\n"  # t.txt:7: sent again
        "server -> client ACK seq=501 ack=121 win=4\n")  # t.txt:8: it had kept 111..121 out of order


def test_a_loss_read_off_the_trace_switches_a_lossy_network_and_an_out_of_order_queue_on(tmp_path: Path) -> None:
    """A segment the receiver acknowledges again at its first octet after later data, then sent
    again, was lost: replay makes the network lossy (for that segment only) and lets the
    receiver hold what came after it, so the cumulative ACK over both is explained; with either
    switched off by -D the rejection says what is missing."""
    from tcpspec.traffic.conformance import prepare_replay

    assert losses(_segs(LOST)) == [(3, "t.txt:4 did not reach its receiver: it acknowledges 101 again at t.txt:6 "
                                       "after later data, and the octets are sent again at t.txt:7")]
    # A retransmission with no duplicate ACK before it (the ACK may have been lost instead), and
    # data acknowledged in order: no loss is claimed, and the network stays reliable.
    assert losses(_segs("client -> server ACK seq=101 ack=501 len=10 win=4\nclient -> server ACK seq=101 ack=501 len=10 win=4\n")) == []
    assert losses(_segs("client -> server ACK seq=101 ack=501 len=10 win=4\nclient -> server ACK seq=111 ack=501 len=10 win=4\n"
                        "server -> client ACK seq=501 ack=121 win=4\n")) == []
    tcp = str(ROOT / "models" / "tcp.tcpspec")
    trace = tmp_path / "t.txt"
    trace.write_text(HANDSHAKE + LOST)
    rep = prepare_replay(tcp, str(trace))
    assert {s.name: s.value for s in rep.conf.settings if s.name in ("LOSS", "OOO", "RTO")} == {"LOSS": True, "OOO": True, "RTO": True}
    assert rep.conf.lost == frozenset({("client", "server", 101)})
    res = rep.run(timeout=60)
    assert res.verdict == "accepted", res.reason
    assert [m.transition for m in res.explained[4:]] == ["client.send_data", "server.recv_out_of_order", "client.retransmit",
                                                         "server.recv_segment"]
    # The cumulative ACK must be the end of what the receiver held: one short is rejected there.
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(HANDSHAKE + LOST.replace("ack=121", "ack=111"))
    res = prepare_replay(tcp, str(wrong)).run(timeout=60)
    assert res.verdict == "rejected" and res.first_unexplained == 8 and "ack=121" in res.reason, res.reason
    for off, needs in (("OOO", "holds later segments out of order (-D OOO=true)"), ("LOSS", "lossy (-D LOSS=true)")):
        res = prepare_replay(tcp, str(trace), {off: "false"}).run(timeout=60)
        assert res.verdict == "rejected" and res.first_unexplained is not None and res.first_unexplained >= 5
        assert f"{trace}:4 did not reach its receiver" in res.reason and needs in res.reason, res.reason
