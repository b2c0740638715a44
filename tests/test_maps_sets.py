"""Finite maps and sets: typing, the verdicts of every engine against the interpreter, ITF
`#map` / `#set`, the text renderer, certificates, Promela; one positioned message per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from lang_support import PATH, assert_positioned, bmc_agrees_with_search, check

from tcpspec.checker import ir
from tcpspec.engines.bmc import run_bmc
from tcpspec.engines.prover import prove
from tcpspec.exporters.promela import ExportOptions, export_promela
from tcpspec.exporters.spin import run_spin, spin_available
from tcpspec.interp.search import explore, replay
from tcpspec.render.itf import itf_to_trace, trace_to_itf
from tcpspec.render.text import format_value
from tcpspec.core.results import Verdict
from tcpspec.core.types import BOOL, EnumType, IntType, MapType, MapValue, SetType

MODEL = """\
const N = 3;
enum St { IDLE, VOTED }
message Ballot { voter: 0..N-1, seen: set of 0..N-1 }
channel box: Ballot[2];
process Teller() {
  var votes: [0..N-1] -> bool = [j in 0..N-1 -> false];
  var seen: set of 0..N-1 = {};
  var tally: [St] -> 0..N = [s in St -> 0];
  transition take receive b from box when !(b.voter in seen) {
    votes[b.voter] := true;
    seen := seen + {b.voter};
    tally[VOTED] := tally[VOTED] + 1;
  }
  transition forget choose k: 0..N-1 when k in seen && card(seen) > 2 {
    seen := seen - {k};
    votes[k] := false;
    tally[VOTED] := tally[VOTED] - 1;
  }
  invariant counted: card(seen) == tally[VOTED];
  invariant agree: forall j in 0..N-1: votes[j] == (j in seen);
}
process Voter() {
  var st: St = IDLE;
  transition vote when st in {IDLE} { send box Ballot { voter: self, seen: {self} }; st := VOTED; }
}
instance t = Teller();
instance v[i in 0..N-1] = Voter();
reachable all: card(t.seen) == N;
reachable two_of_three: t.seen == {0, 2};
reachable forgot: t.seen == {0, 1} && v[2].st == VOTED && len(box) == 0;
reachable carried: len(box) > 1 && 1 in box[1].seen && box[0].seen == {2};
invariant members_only: forall j in t.seen: t.votes[j];
invariant overflow_free: t.tally[IDLE] == 0;
"""


def test_types_and_lowering() -> None:
    m = check(MODEL)
    types = {v.name: v.type for v in m.state_vars}
    assert types["t.votes"] == MapType(IntType(0, 2), BOOL)
    assert types["t.seen"] == SetType(IntType(0, 2))
    assert types["t.tally"] == MapType(EnumType("St", ("IDLE", "VOTED")), IntType(0, 3))
    take = m.transition("t.take")
    assert isinstance(take, ir.Transition)
    store = take.body[0]
    assert isinstance(store, ir.Assign) and isinstance(store.value, ir.MapStore)
    assert not isinstance(store.value.key, ir.Lit)  # b.voter: a run-time key
    tally = take.body[2]
    assert isinstance(tally, ir.Assign) and isinstance(tally.value, ir.MapStore)
    assert isinstance(tally.value.key, ir.Lit) and tally.value.key.value == "VOTED"
    vote = m.transition("v[0].vote")
    assert isinstance(vote, ir.Transition) and isinstance(vote.guard, ir.Binary)  # `in {IDLE}` is ==
    assert m.warnings == []


@pytest.mark.parametrize("theory", ["int", "bv"])
def test_bmc_agrees_with_the_search_and_replays(theory: str) -> None:
    m = check(MODEL)
    bmc = bmc_agrees_with_search(m, [p for p in m.properties if not p.builtin], 8, theory)
    assert bmc["all"].verdict is Verdict.REACHED and bmc["forgot"].verdict is Verdict.REACHED
    assert bmc["t.agree"].verdict is Verdict.HOLDS


def test_the_prover_proves_what_the_search_cannot_break() -> None:
    m = check(MODEL)
    props = [m.property(n) for n in ("t.counted", "t.agree", "members_only", "overflow_free")]
    outcomes = prove(m, props, 120)
    assert all(o.proved for o in outcomes.values()), {n: o.proved for n, o in outcomes.items()}


def test_itf_writes_map_and_set_and_reads_them_back() -> None:
    m = check(MODEL)
    (res,) = run_bmc(m, [m.property("two_of_three")], 6, 60.0, "bv")
    assert res.trace is not None
    doc = trace_to_itf(res.trace, source=PATH, prop="two_of_three", verdict="reached", model=m)
    last = doc["states"][-1]
    assert last["t.seen"] == {"#set": [{"#bigint": "0"}, {"#bigint": "2"}]}
    assert last["t.tally"]["#map"][1] == ["VOTED", {"#bigint": "2"}]
    back = itf_to_trace(doc, m)
    assert replay(m, back, m.property("two_of_three"), require_first=True).ok


def test_the_text_report_writes_maps_and_sets_as_the_model_does() -> None:
    assert format_value(MapValue(((0, True), (1, False)))) == "[0 -> true, 1 -> false]"
    assert format_value(frozenset({2, 0})) == "{0, 2}"
    assert format_value(frozenset()) == "{}"


@pytest.mark.skipif(not spin_available(), reason="spin/gcc not installed (CI installs them)")
def test_spin_agrees_with_the_search(tmp_path: Path) -> None:
    m = check(MODEL)
    res = run_spin(export_promela(m, ExportOptions()), tmp_path, optimize=False, timeout=600)
    assert res.complete, res.output[-2000:]
    props = [p for p in m.properties if not p.builtin]
    search = explore(m, 40, properties=props)
    for p in props:
        found = search.traces[p.name] is not None
        assert (p.name in (res.reached if p.kind is ir.PropertyKind.REACHABLE else res.violated)) == found, p.name


def test_an_out_of_range_element_store_is_a_range_violation() -> None:
    text = MODEL.replace("tally[VOTED] := tally[VOTED] + 1;", "tally[VOTED] := tally[VOTED] + 2;")
    m = check(text)
    rng = m.property("range_ok")
    (res,) = run_bmc(m, [rng], 6, 60.0, "int")
    assert res.verdict is Verdict.VIOLATED and res.trace is not None
    assert replay(m, res.trace, rng, require_first=True).ok
    assert explore(m, 6, properties=[rng]).traces["range_ok"].length == res.trace.length


@pytest.mark.parametrize(("old", "new", "message"), [
    ("votes[b.voter] := true;", "votes[3] := true;", "a map with keys 0..2: index 3 is outside 0..2"),
    ("votes[k] := false;", "votes[k + 1] := false;", "a map with keys 0..2: the index may lie outside 0..2"),
    ("var seen: set of 0..N-1 = {};", "var seen: set of seq32 = {};",
     "a set's elements: seq32 is not a finite scalar type"),
    ("var seen: set of 0..N-1 = {};", "var seen: set of 0..N-1 = {}; var w: [Ballot] -> bool;",
     "a map's keys: Ballot is not a finite scalar type"),
    ("!(b.voter in seen)", "!(b.voter in tally)", "'in' needs a set on its right, not [St] -> 0..3"),
    ("card(seen) > 2", "card(votes) > 2", "card takes a set, not [0..2] -> bool"),
    ("seen := seen - {k};", "seen := seen - {IDLE};", "type mismatch: '-' needs two sets of one type"),
    ("seen := seen - {k};", "seen := seen - {k, IDLE};", "the elements of a set must be bools"),
    ("votes[k] := false;", "seen[k] := false;", "'seen' is a set of 0..2, not a map"),
    ("var seen: set of 0..N-1 = {};", "var seen: set of 0..N-1 = {5};",
     "type mismatch: cannot assign set of 5..5 to variable 'seen' of type set of 0..2"),
    ("[s in St -> 0]", "[s in St -> 9]", "initial value [IDLE -> 9, VOTED -> 9] of 'tally' is out of range"),
    ("when st in {IDLE}", "when st[0]", "a St cannot be indexed"),
])
def test_map_and_set_mistakes_are_positioned(old: str, new: str, message: str) -> None:
    assert old in MODEL
    assert_positioned(MODEL.replace(old, new, 1), message)


@pytest.mark.parametrize("theory", ["int+arrays", "bv+arrays"])
def test_the_array_encoding_agrees_with_the_search(theory: str) -> None:
    """Maps and sets as Z3 arrays (theory_arrays.py, measured against one term per key in
    docs/performance.md) give the same verdicts and shortest traces."""
    m = check(MODEL)
    bmc_agrees_with_search(m, [p for p in m.properties if not p.builtin], 6, theory)
