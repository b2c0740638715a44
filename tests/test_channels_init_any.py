"""Messages in flight at the start (`channel c: M[2] = [...]`) and `receive m from c[any j]`."""

from __future__ import annotations

from pathlib import Path

import pytest

from lang_support import assert_positioned, bmc_agrees_with_search, check

from tcpspec.checker import ir
from tcpspec.engines.bmc import run_bmc
from tcpspec.exporters.promela import ExportOptions, export_promela
from tcpspec.exporters.spin import run_spin, spin_available
from tcpspec.interp.semantics import initial_states
from tcpspec.interp.search import replay
from tcpspec.core.results import Verdict

RING = """\
const N = 3;
message Tok { hops: 0..5 }
// One token already in flight to node 0 at the start.
channel link[i in 0..N-1]: Tok[1] = if i == 0 then [Tok { hops: 0 }] else [];
channel hello: Tok[2] = [Tok { hops: 1 }, Tok { hops: 2 }];
process Node(inbox: chan Tok, out: chan Tok) {
  var seen: 0..5 = 0;
  transition pass receive t from inbox when t.hops < 4 {
    seen := seen + 1;
    send out Tok { hops: t.hops + 1 };
  }
}
process Sink() {
  var got: bool = false;
  var who: 0..N-1 = 0;
  var greeted: 0..3 = 0;
  transition hear receive t from link[any j] when t.hops == 4 { got := true; who := j; }
  transition greet receive t from hello { greeted := t.hops; }
}
instance node[i in 0..N-1] = Node(inbox: link[i], out: link[if i == N - 1 then 0 else i + 1]);
instance sink = Sink();
reachable heard_at_1: sink.got && sink.who == 1;
reachable greeted_twice: sink.greeted == 2;
invariant one_token: (count j in 0..N-1: len(link[j]) > 0) <= 1;
fair sink.hear;
"""


def test_initial_messages_and_any_expand() -> None:
    m = check(RING)
    assert [c.init for c in m.channels] == [({"hops": 0},), (), (), ({"hops": 1}, {"hops": 2})]
    hears = [t for t in m.transitions if t.name.startswith("sink.hear")]
    assert [t.name for t in hears] == ["sink.hear[j=0]", "sink.hear[j=1]", "sink.hear[j=2]"]
    assert all(isinstance(t, ir.Transition) and t.local == "hear" for t in hears)
    assert [t.receive[1].name for t in hears if isinstance(t, ir.Transition) and t.receive] == [
        "link[0]", "link[1]", "link[2]"]
    assert {n for n in m.fairness} == {t.name for t in hears}  # `fair sink.hear` covers every member
    (init,) = initial_states(m)
    assert init["link[0]"] == [{"hops": 0}] and init["hello"] == [{"hops": 1}, {"hops": 2}]


@pytest.mark.parametrize("theory", ["int", "bv"])
def test_engines_start_from_the_messages_in_flight(theory: str) -> None:
    m = check(RING)
    bmc = bmc_agrees_with_search(m, [p for p in m.properties if not p.builtin], 8, theory)
    assert bmc["heard_at_1"].trace is not None and bmc["heard_at_1"].trace.length == 5
    assert bmc["heard_at_1"].trace.steps[-1].transition == "sink.hear[j=1]"
    assert bmc["greeted_twice"].trace is not None and bmc["greeted_twice"].trace.length == 2
    assert bmc["one_token"].verdict is Verdict.HOLDS


def test_replay_rejects_a_trace_that_starts_with_other_messages() -> None:
    m = check(RING)
    (res,) = run_bmc(m, [m.property("greeted_twice")], 3, 60.0, "bv")
    assert res.trace is not None
    res.trace.steps[0].state["hello"] = []
    out = replay(m, res.trace, m.property("greeted_twice"))
    assert not out.ok and "channel hello is not holding [{ hops: 1 }, { hops: 2 }] initially" in out.message


@pytest.mark.skipif(not spin_available(), reason="spin/gcc not installed (CI installs them)")
def test_spin_starts_from_the_messages_in_flight(tmp_path: Path) -> None:
    m = check(RING)
    res = run_spin(export_promela(m, ExportOptions()), tmp_path, optimize=False, timeout=600)
    assert res.complete, res.output[-2000:]
    assert {"heard_at_1", "greeted_twice"} <= set(res.reached) and "one_token" not in res.violated


def test_membership_in_a_literal_reads_as_a_guard() -> None:
    # It used to say "'choose' must come before 'receive'".
    m = check(RING.replace("when t.hops < 4", "when t.hops in {0, 1, 2, 3}"))
    assert m.transition("node[0].pass") is not None


@pytest.mark.parametrize(("old", "new", "message"), [
    ("= [Tok { hops: 1 }, Tok { hops: 2 }]", "= [Tok { hops: 1 }, Tok { hops: 2 }, Tok { hops: 3 }]",
     "channel 'hello' holds 2 messages, not 3"),
    ("= [Tok { hops: 1 }, Tok { hops: 2 }]", "= [Tok { hops: 9 }]", "message { hops: 9 } is out of range of Tok"),
    ("= [Tok { hops: 1 }, Tok { hops: 2 }]", "= [Tok { hops: sink.greeted }]",
     "'sink.greeted': a constant expression is expected here"),
    ("if i == 0 then", "if node[0].seen == 0 then", "'node' is a family of instances, not a value"),
    ("receive t from link[any j]", "receive t from hello[any j]",
     "'hello' is a channel, not a family of channels: 'any' picks one of a family's members"),
    ("receive t from link[any j]", "receive t from link[any who]", "index name 'who' shadows variable 'who'"),
    ("receive t from link[any j]", "receive t from link[any N]", "'N' already names something here"),
    ("send out Tok { hops: t.hops + 1 };", "send link[any k] Tok { hops: 0 };",
     "'any' is only for a transition's receive: a send names its channel"),
])
def test_mistakes_are_positioned(old: str, new: str, message: str) -> None:
    assert old in RING
    assert_positioned(RING.replace(old, new, 1), message)
