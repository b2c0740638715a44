"""tcpspec/traffic/follow.py on a small model: large parameters from the observations, bounds, verdicts.

The model's client sends a SYN, then data of any length up to 100 000 octets; the server takes
segments in order and, at any time, chooses a window (any of 60 001 values) that it
advertises on its ACKs. Neither choice can be enumerated: the length is copied into the sent
field (so it is read off the segment), the window is chosen silently and shows up on a later
segment (so it is among the numbers of the next observations).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.run import pipeline
from tcpspec.traffic.conformance import check_conformance, expectations, pinned_initials
from tcpspec.traffic.follow import Follower, state_key
from tcpspec.interp.values import freeze
from tcpspec.traffic.wire import read_text_trace

MODEL = """
const MSS = 100000;
const WND = 60000;
message Seg { syn: bool = false, ack: bool = false, fin: bool = false, rst: bool = false,
              seq: seq32 = 0, ackno: seq32 = 0, len: 0..MSS = 0, wnd: 0..WND = 0 }
channel c2s: Seg[4];
channel s2c: Seg[4];

process C(out: chan Seg, inbox: chan Seg) {
  var nxt: seq32;
  var started: bool = false;
  transition hello when !started { send out Seg { syn: true, seq: nxt }; nxt := nxt + 1; started := true; }
  transition data choose n: 1..MSS when started { send out Seg { ack: true, seq: nxt, len: n }; nxt := nxt + n; }
  transition recv receive s from inbox { skip; }
}

process S(inbox: chan Seg, out: chan Seg) {
  var rcv: seq32;
  var win: 0..WND = 0;
  var synced: bool = false;
  transition open receive s from inbox when s.syn && !synced { rcv := s.seq + 1; synced := true; }
  transition take receive s from inbox when !s.syn && synced && s.seq == rcv { rcv := rcv + s.len; }
  transition app_read choose w: 0..WND { win := w; }
  transition acknowledge when synced { send out Seg { ack: true, seq: 0, ackno: rcv, wnd: win }; }
}

instance client = C(out: c2s, inbox: s2c);
instance server = S(inbox: c2s, out: s2c);
"""

TRACE = """client -> server SYN seq=4294967290
client -> server ACK seq=4294967291 len=99999
server -> client ACK seq=0 ack=99994 win=12345
client -> server ACK seq=99994 len=1
server -> client ACK seq=0 ack=99995 win=54321
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("follow") / "m.tcpspec"
    path.write_text(MODEL)
    return pipeline.load_model(str(path))


def test_a_copied_length_and_a_silently_chosen_window_are_taken_from_the_trace(model) -> None:  # type: ignore[no-untyped-def]
    segs = read_text_trace("t.txt", TRACE)
    res = check_conformance(model, segs, coalesce_acks=False)
    assert res.verdict == "accepted", res.reason
    assert [m.transition for m in res.explained] == ["client.hello", "client.data", "server.acknowledge",
                                                     "client.data", "server.acknowledge"]
    assert res.trace is not None
    reads = [s.params for s in res.trace.steps if s.transition == "server.app_read"]
    assert reads == [{"w": 12345}, {"w": 54321}]


def test_a_window_no_choice_can_give_is_rejected_at_its_segment(model) -> None:  # type: ignore[no-untyped-def]
    segs = read_text_trace("t.txt", TRACE.replace("ack=99994 win=12345", "ack=99994 win=61000"))
    res = check_conformance(model, segs, coalesce_acks=False)
    assert res.verdict == "rejected" and res.first_unexplained == 3
    assert res.reason == "win=61000 is outside the model's wnd field (0..60000)"


def test_a_bound_on_the_states_between_two_segments_is_undecided_not_rejected(model) -> None:  # type: ignore[no-untyped-def]
    segs = read_text_trace("t.txt", TRACE)
    res = check_conformance(model, segs, coalesce_acks=False, max_states=2)
    assert res.verdict == "unknown" and "more than 2 states between segments" in res.reason


def test_the_state_key_tells_apart_exactly_what_freeze_does(model) -> None:  # type: ignore[no-untyped-def]
    """Deduplication by position must merge the same states and no others: the run's states,
    and each with one variable changed (a bool flipped, a number moved on)."""
    segs = read_text_trace("t.txt", TRACE)
    expects, _ = expectations(model, segs)
    follower = Follower(model, None)
    res = follower.follow(pinned_initials(model, segs), expects)
    states = [s.state for s in res.trace().steps]
    for s in list(states):
        for k, v in s.items():
            if isinstance(v, bool):
                states.append({**s, k: not v})
            elif isinstance(v, int):
                states.append({**s, k: v + 1})
    assert len({state_key(s) for s in states}) == len({freeze(s) for s in states}) > len(res.trace().steps)


def test_a_timers_segment_sent_too_soon_is_not_the_timers(model) -> None:  # type: ignore[no-untyped-def]
    """With `server.acknowledge` taken for a timer that fires after 1 s of silence, its ACK
    0.5 s after the previous segment is rejected, saying why; 1.5 s after, it is accepted."""
    from dataclasses import replace

    segs = [replace(s, time=float(i)) for i, s in enumerate(read_text_trace("t.txt", TRACE))]
    timers = {"server.acknowledge": 1.0}
    soon = segs[:2] + [replace(segs[2], time=1.5)] + [replace(s, time=s.time + 9) for s in segs[3:]]
    res = check_conformance(model, soon, coalesce_acks=False, timers=timers)
    assert res.verdict == "rejected" and res.first_unexplained == 3
    assert res.reason == ("the model's server.acknowledge sends ACK seq=0 ack=99994 len=0 wnd=12345, but only after 1 s "
                          "of silence (a timer's segment); this one came 0.500 s after the last segment its sender "
                          "received (a probe not counted)")
    late = segs[:2] + [replace(s, time=s.time + 9) for s in segs[2:]]
    assert check_conformance(model, late, coalesce_acks=False, timers=timers).verdict == "accepted"
