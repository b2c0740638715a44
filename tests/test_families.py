"""Families of instances and channels, reads of other instances, quantifiers and `count`.

The checker expands families (`rm[0]`, `rm[1]`, ...) and dynamic indices (if-chains), so these
tests pin the expansion (names, `-D N`, `self`), the verdicts the engines give on it, and one
positioned message per mistake.
"""

from __future__ import annotations

import pytest

from lang_support import assert_positioned, bmc_agrees_with_search, check

from tcpspec.checker import ir
from tcpspec.engines.bmc import run_bmc
from tcpspec.interp.search import explore, replay
from tcpspec.core.results import Verdict

TPC = """\
const N = 3;
enum Kind { PREPARE, COMMIT, ABORT }
enum CState { INIT, WAIT, DONE }
enum RState { WORKING, PREPARED, COMMITTED, ABORTED }
message Req { kind: Kind }
message Vote { voter: 0..N-1, yes: bool }
channel to_rm[N]: Req[2];
channel votes: Vote[N];

process Coord(out: chan Req[N], inbox: chan Vote) {
  var state: CState = INIT;
  var last: bool = false;
  transition start when state == INIT {
    for j in 0..N-1 { send out[j] Req { kind: PREPARE }; }
    state := WAIT;
  }
  transition collect receive v from inbox { last := rm[v.voter].state == PREPARED; }
  transition commit when state == WAIT && (forall j in 0..N-1: rm[j].state == PREPARED) {
    for j in 0..N-1 { send out[j] Req { kind: COMMIT }; }
    state := DONE;
  }
  transition abort when state == WAIT {
    for j in 0..N-1 { send out[j] Req { kind: ABORT }; }
    state := DONE;
  }
}

process RM(inbox: chan Req, out: chan Vote) {
  var state: RState = WORKING;
  var me: 0..N-1 = self;
  transition vote choose yes: bool receive r from inbox when state == WORKING && r.kind == PREPARE {
    send out Vote { voter: self, yes: yes };
    state := if yes then PREPARED else ABORTED;
  }
  transition decide receive r from inbox when r.kind != PREPARE {
    state := if r.kind == COMMIT then COMMITTED else ABORTED;
  }
  invariant knows_self: me == self;
}

instance coord = Coord(out: to_rm, inbox: votes);
instance rm[i in 0..N-1] = RM(inbox: to_rm[i], out: votes);

invariant agreement: !((exists j in 0..N-1: rm[j].state == COMMITTED) && (exists j in 0..N-1: rm[j].state == ABORTED));
invariant no_commit_alone: (count j in 0..N-1: rm[j].state == COMMITTED) == 0 || coord.state == DONE;
reachable all_committed: forall j in 0..N-1: rm[j].state == COMMITTED;
reachable two_aborted: 2 == count j in 0..N-1: rm[j].state == ABORTED;
reachable every_state_seen: forall s in RState: s == WORKING || (exists j in 0..N-1: rm[j].state == s) || true;
fair rm.vote, to_rm;
"""


# ---------------------------------------------------------------- expansion


def test_a_family_expands_into_members_with_their_names() -> None:
    m = check(TPC)
    assert [i.name for i in m.instances] == ["coord", "rm[0]", "rm[1]", "rm[2]"]
    assert [(i.family, i.index) for i in m.instances] == [("", None), ("rm", 0), ("rm", 1), ("rm", 2)]
    assert [c.name for c in m.channels] == ["to_rm[0]", "to_rm[1]", "to_rm[2]", "votes"]
    assert [(c.family, c.index) for c in m.channels][:3] == [("to_rm", 0), ("to_rm", 1), ("to_rm", 2)]
    assert "rm[2].vote" in [t.name for t in m.transitions]
    assert [p.name for p in m.properties][:3] == ["rm[0].knows_self", "rm[1].knows_self", "rm[2].knows_self"]
    rm1 = next(i for i in m.instances if i.name == "rm[1]")
    assert dict(rm1.channels) == {"inbox": "to_rm[1]", "out": "votes"}
    coord = m.instances[0]
    assert dict(coord.channels)["out[2]"] == "to_rm[2]"


def test_minus_d_grows_the_family() -> None:
    m = check(TPC, {"N": "5"})
    assert [i.name for i in m.instances if i.family == "rm"] == [f"rm[{k}]" for k in range(5)]
    assert len([c for c in m.channels if c.family == "to_rm"]) == 5


def test_self_is_the_members_index() -> None:
    m = check(TPC)
    inits = {name: e.value for name, e in m.init.items() if name.endswith(".me")}  # type: ignore[union-attr]
    assert inits == {"rm[0].me": 0, "rm[1].me": 1, "rm[2].me": 2}


def test_a_for_loop_sends_to_every_member() -> None:
    m = check(TPC)
    start = m.transition("coord.start")
    assert isinstance(start, ir.Transition)
    assert [s.channel.name for s in start.body if isinstance(s, ir.Send)] == ["to_rm[0]", "to_rm[1]", "to_rm[2]"]


def test_fair_family_targets_every_member() -> None:
    m = check(TPC)
    assert {n for n, s in m.fairness.items() if s == "weak"} == {
        "rm[0].vote", "rm[1].vote", "rm[2].vote", "rm[0].decide", "rm[1].decide", "rm[2].decide"}


# ---------------------------------------------------------------- verdicts


def test_engines_and_the_interpreter_agree_on_the_family_model() -> None:
    m = check(TPC, {"N": "2"})
    results = {r.property: r for r in run_bmc(m, list(m.properties), 12, 60.0, "bv")}
    assert results["agreement"].verdict is Verdict.HOLDS
    assert results["no_commit_alone"].verdict is Verdict.HOLDS
    assert results["rm[1].knows_self"].verdict is Verdict.HOLDS
    witness = results["all_committed"]
    assert witness.verdict is Verdict.REACHED and witness.trace is not None
    assert replay(m, witness.trace, m.property("all_committed"), require_first=True).ok
    search = explore(m, 12, properties=[m.property("all_committed"), m.property("agreement")])
    assert search.traces["agreement"] is None
    assert search.traces["all_committed"] is not None
    assert search.traces["all_committed"].length == witness.trace.length


def test_a_dynamic_index_reads_the_member_it_names() -> None:
    # `last` is set from rm[v.voter]: reachable only if the voter's own state is read.
    text = TPC + "reachable last_set: coord.last;\n"
    m = check(text, {"N": "2"})
    (res,) = run_bmc(m, [m.property("last_set")], 8, 60.0, "int")
    assert res.verdict is Verdict.REACHED and res.trace is not None
    assert replay(m, res.trace, m.property("last_set"), require_first=True).ok


def test_count_and_quantifiers_over_enums_reach_what_the_search_reaches() -> None:
    m = check(TPC, {"N": "2"})
    props = [m.property("two_aborted"), m.property("every_state_seen")]
    bmc = bmc_agrees_with_search(m, props, 8, "bv")
    assert bmc["two_aborted"].trace is not None and bmc["two_aborted"].trace.length == 3


# ---------------------------------------------------------------- errors

BASE = """\
const N = 2;
message V { who: 0..N, yes: bool }
channel c[N]: V[1];
channel one: V[1];
process P(inbox: chan V) {
  var b: bool = false;
BODY
}
process S(outs: chan V[3]) { var z: bool = false; }
instance p[i in 0..N-1] = P(inbox: c[i]);
instance solo = P(inbox: one);
"""


def _with(body: str, tail: str = "") -> str:
    return BASE.replace("BODY", body) + tail


@pytest.mark.parametrize(("body", "tail", "message"), [
    ("transition t receive m from inbox { b := p[m.who].b; }", "",
     "instance family 'p': the index may lie outside 0..1 (it may be 0..2)"),
    ("transition t { b := p[2].b; }", "", "instance family 'p': index 2 is outside 0..1"),
    ("transition t { b := p.b; }", "", "'p' is a family of instances: name a member, e.g. 'p[0].b'"),
    ("transition t { b := p[0] == p[1]; }", "", "'p[...]' is an instance, not a value; write p[i].<variable>"),
    ("transition t { b := self == 0; }", "",
     "'self' is only defined inside a process instantiated as a family (instance rm[i in 0..N-1] = ...), "
     "where it is the member's index"),
    ("var d: bool = solo.b;", "",
     "'solo.b': an initial value may only read this instance's variables declared before it"),
    ("transition t choose k: 0..1 receive m from c[k] { skip; }", "",
     "channel family 'c': the index must be constant here (a literal, a constant, a parameter of the "
     "process or a quantified name)"),
    ("transition t { send c V { who: 0, yes: true }; }", "", "'c' is a family of channels: name one of them, e.g. 'c[0]'"),
    ("transition t { send one[0] V { who: 0, yes: true }; }", "", "channel 'one' is not a family: it has no members to index"),
    ("transition t { for j in 0..1 { send c[0] V { who: j, yes: true }; } }", "",
     "transition 't' sends to 'c[0]' twice on one path (at most one message per channel)"),
    ("transition t { b := forall j in 0..N: p[j].b; }", "", "instance family 'p': index 2 is outside 0..1"),
    ("transition t { b := exists s in N: true; }", "",
     "expected a domain: LO..HI, a finite type (bool, an enum, a range) or a set"),
    ("", "instance s = S(outs: c);", "channel family 'c' has members 0..1, but parameter 'outs' needs 0..2"),
    ("", "instance s = S(outs: one);", "argument 'outs' must be a family of channels (declared 'channel NAME[3]: ...')"),
    ("", "fair p[4].t;", "'p[4]': 'p' has members 0..1"),
    ("", "instance q[i in 0..N-1] = P(inbox: c[i + 1]);", "channel family 'c': index 2 is outside 0..1"),
])
def test_family_mistakes_are_positioned(body: str, tail: str, message: str) -> None:
    assert_positioned(_with(body, tail), message)


# ---------------------------------------------------------------- an instance's parameters

RING = """\
const N = 3;
process Node(id: 0..N-1) {
  var up: bool = false;
  transition raise when !up { up := true; }
}
instance node[i in 0..N-1] = Node(id: N - 1 - i);
def top(): 0..N-1 = if node[0].up then node[0].id else 0;
invariant ids_distinct: forall a in 0..N-1: forall b in 0..N-1: a != b ==> node[a].id != node[b].id;
reachable max_up: exists n in 0..N-1: node[n].up && node[n].id == N - 1 && top() == N - 1;
"""


def test_an_instances_parameter_is_read_like_a_variable() -> None:
    """`node[n].id` reads the argument the member was given (TLA+'s Id[n]); N - 1 - i reverses."""
    m = check(RING)
    props = [m.property("ids_distinct"), m.property("max_up")]
    bmc = bmc_agrees_with_search(m, props, 4, "bv")
    assert bmc["ids_distinct"].verdict is Verdict.HOLDS
    assert bmc["max_up"].verdict is Verdict.REACHED and bmc["max_up"].trace is not None
    assert bmc["max_up"].trace.length == 1  # node[0] has id N-1


def test_an_instances_parameter_has_no_primed_value() -> None:
    assert_positioned(RING + "step s: ensure node[0].id' == node[0].id;\n",
                      "'node[0].id' is a parameter of the instance, fixed for the run: it has no primed value")
