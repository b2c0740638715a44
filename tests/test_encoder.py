"""The Z3 encoding (encoder.py + transition_system.py) under both number theories.

Unit tests with `assert_sat` / `assert_unsat`: expressions are evaluated on a state whose
values are pinned, transitions are taken from a pinned state and compared with the
interpreter (`tcpspec.interp.semantics.apply`), which was written from the language reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import z3

from tcpspec.encoding import encoder as enc
from tcpspec.interp import semantics as interp
from tcpspec.checker import ir
from tcpspec.encoding.encoder import ChanSym
from tcpspec.engines.common import decode_state
from tcpspec.run.pipeline import load_model
from tcpspec.encoding.theories import choose_theory
from tcpspec.encoding.transition_system import TransitionSystem

THEORIES = ("int", "bv")

Formula = Any  # a z3.BoolRef, a list of them, or a z3.Solver


# ---------------------------------------------------------------- helpers


def _solver(*fs: Formula) -> z3.Solver:
    if len(fs) == 1 and isinstance(fs[0], z3.Solver):
        return fs[0]
    s = z3.Solver()
    for f in fs:
        s.add(*(f if isinstance(f, list) else [f]))
    return s


def assert_sat(*fs: Formula) -> z3.ModelRef:
    s = _solver(*fs)
    r = s.check()
    assert r == z3.sat, f"expected sat, got {r}"
    return s.model()


def assert_unsat(*fs: Formula) -> None:
    s = _solver(*fs)
    r = s.check()
    assert r == z3.unsat, f"expected unsat, got {r}" + (f": {s.model()}" if r == z3.sat else "")


def _model(tmp_path: Path, text: str) -> ir.Model:
    path = tmp_path / "m.tcpspec"
    path.write_text(text)
    return load_model(str(path))


def _ts(tmp_path: Path, text: str, theory: str) -> TransitionSystem:
    m = _model(tmp_path, text)
    return TransitionSystem(m, choose_theory(m, theory))


def pin_state(ts: TransitionSystem, k: int, values: Mapping[str, Any]) -> list[z3.BoolRef]:
    """Constraints fixing state k to concrete values (state vars and channels given by name)."""
    s = ts.state_at(k)
    cs: list[z3.BoolRef] = [ts.well_formed(k)]
    for v in ts.model.state_vars:
        if v.name in values:
            cs.append(enc.sym_eq(s[v.name], ts.th.constant(values[v.name], v.type)))  # type: ignore[arg-type]
    for c in ts.model.channels:
        if c.name in values:
            ch = s[c.name]
            assert isinstance(ch, ChanSym)
            msgs = values[c.name]
            cs.append(ch.length == ts.th.counter_lit(len(msgs)))
            cs += [enc.sym_eq(ch.slots[i], ts.th.constant(m, c.message)) for i, m in enumerate(msgs)]
    return cs


def take_step(ts: TransitionSystem, k: int, name: str, params: Mapping[str, Any] | None = None) -> list[z3.BoolRef]:
    """Step k is transition `name` with the given parameters (state k+1 well-formed)."""
    i = [t.name for t in ts.transitions].index(name)
    t = ts.transitions[i]
    step = ts.step_at(k)
    cs = [step.trans, ts.fires(step.act, i), ts.well_formed(k + 1)]
    for p, pt in t.params:
        if params and p in params:
            cs.append(enc.sym_eq(step.params[i][p], ts.th.constant(params[p], pt)))  # type: ignore[arg-type]
    return cs


def symbolic_apply(ts: TransitionSystem, state: Mapping[str, Any], name: str,
                   params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The encoder's successor of `state` by `name(params)`: None if not enabled. Deterministic."""
    cs = pin_state(ts, 0, state) + take_step(ts, 0, name, params)
    s = _solver(cs)
    r = s.check()
    if r == z3.unsat:
        return None
    assert r == z3.sat
    post = decode_state(s.model(), ts, 1)
    assert_unsat(cs, z3.Not(z3.And(pin_state(ts, 1, post))))  # the successor is unique
    return post


def holds(ts: TransitionSystem, prop: str, values: Mapping[str, Any]) -> bool:
    """The property's predicate on a pinned state 0: forced true or forced false (never open)."""
    pre = pin_state(ts, 0, values)
    e = ts.holds_at(ts.model.property(prop), 0)
    s_true, s_false = _solver(pre, e).check(), _solver(pre, z3.Not(e)).check()
    assert sorted([str(s_true), str(s_false)]) == ["sat", "unsat"], (s_true, s_false)
    return s_true == z3.sat


# ---------------------------------------------------------------- numbers

NUMBERS = """
process P() {
  var a: seq32;
  var b: seq32;
  var u: bv8;
  var v: bv8;
  var n: 0..3 = 0;
  transition idle when false { skip; }
}
instance p = P();
invariant a_lt_b: p.a < p.b;
invariant b_lt_a: p.b < p.a;
invariant a_le_b: p.a <= p.b;
invariant a_plus_one_is_b: p.a + 1 == p.b;
invariant a_minus_one_is_b: p.a - 1 == p.b;
invariant diff_neg: p.a - p.b < 0;
invariant diff_is_1: p.a - p.b == 1;
invariant diff_is_min: p.a - p.b == -2147483648;
invariant u_lt_v: p.u < p.v;
invariant u_plus_10_is_v: p.u + 10 == p.v;
invariant u_minus_10_is_v: p.u - 10 == p.v;
invariant u_times_2_is_v: p.u * 2 == p.v;
"""

MAX32 = 0xFFFFFFFF
HALF32 = 1 << 31


@pytest.mark.parametrize("theory", THEORIES)
@pytest.mark.parametrize(
    "prop, values, expected",
    [
        ("a_lt_b", {"p.a": MAX32, "p.b": 0}, True),  # 0xFFFFFFFF < 0
        ("b_lt_a", {"p.a": MAX32, "p.b": 0}, False),
        ("a_lt_b", {"p.a": 5, "p.b": 7}, True),
        ("a_lt_b", {"p.a": 7, "p.b": 5}, False),
        ("a_lt_b", {"p.a": 5, "p.b": 5}, False),
        ("a_le_b", {"p.a": 5, "p.b": 5}, True),
        ("a_le_b", {"p.a": 0, "p.b": MAX32}, False),
        ("a_lt_b", {"p.a": 0, "p.b": HALF32}, False),  # exactly 2^31 apart: neither (RFC 1982)
        ("b_lt_a", {"p.a": 0, "p.b": HALF32}, False),
        ("a_le_b", {"p.a": 0, "p.b": HALF32}, False),
        ("a_lt_b", {"p.a": HALF32 + 5, "p.b": 5}, False),
        ("a_lt_b", {"p.a": 1, "p.b": HALF32}, True),  # 2^31 - 1 apart: one direction only
        ("b_lt_a", {"p.a": 1, "p.b": HALF32}, False),
        ("a_lt_b", {"p.a": 0, "p.b": HALF32 + 1}, False),
        ("b_lt_a", {"p.a": 0, "p.b": HALF32 + 1}, True),
        ("a_plus_one_is_b", {"p.a": MAX32, "p.b": 0}, True),  # wraps
        ("a_plus_one_is_b", {"p.a": MAX32, "p.b": 1 << 32}, True),  # 2^32 as a seq32 literal is 0
        ("a_minus_one_is_b", {"p.a": 0, "p.b": MAX32}, True),
        ("diff_neg", {"p.a": MAX32, "p.b": 0}, True),  # seqdiff is signed: 0xFFFFFFFF - 0 == -1
        ("diff_neg", {"p.a": 0, "p.b": MAX32}, False),
        ("diff_is_1", {"p.a": 0, "p.b": MAX32}, True),
        ("diff_is_min", {"p.a": 0, "p.b": HALF32}, True),  # -2^31, the signed reading
        ("diff_is_min", {"p.a": HALF32, "p.b": 0}, True),
        ("u_lt_v", {"p.u": 4, "p.v": 250}, True),  # bv8: unsigned order
        ("u_lt_v", {"p.u": 250, "p.v": 4}, False),
        ("u_lt_v", {"p.u": 0x7F, "p.v": 0x80}, True),
        ("u_plus_10_is_v", {"p.u": 250, "p.v": 4}, True),  # modulo 2^8
        ("u_plus_10_is_v", {"p.u": 250, "p.v": 260 - 256 + 1}, False),
        ("u_minus_10_is_v", {"p.u": 4, "p.v": 250}, True),
        ("u_times_2_is_v", {"p.u": 200, "p.v": 144}, True),
    ],
)
def test_number_semantics(tmp_path: Path, theory: str, prop: str, values: dict[str, int], expected: bool) -> None:
    ts = _ts(tmp_path, NUMBERS, theory)
    assert holds(ts, prop, values) is expected
    # the interpreter agrees (it was written from the language reference, not the encoder)
    state = {"p.a": 0, "p.b": 0, "p.u": 0, "p.v": 0, "p.n": 0, **values}
    state["p.b"] %= 1 << 32
    assert interp.holds_in(ts.model, ts.model.property(prop), state) is expected


@pytest.mark.parametrize("theory", THEORIES)
def test_seq_wraps_in_a_transition(tmp_path: Path, theory: str) -> None:
    text = """
process P() {
  var s: seq32;
  var len: 0..4 = 0;
  transition advance choose n: 1..4 { s := s + n; len := n; }
}
instance p = P();
"""
    ts = _ts(tmp_path, text, theory)
    post = symbolic_apply(ts, {"p.s": MAX32, "p.len": 0}, "p.advance", {"n": 1})
    assert post == {"p.s": 0, "p.len": 1}
    post = symbolic_apply(ts, {"p.s": MAX32 - 1, "p.len": 0}, "p.advance", {"n": 4})
    assert post == {"p.s": 2, "p.len": 4}
    assert interp.apply(ts.model, {"p.s": MAX32 - 1, "p.len": 0}, "p.advance", {"n": 4}).state == post


# ---------------------------------------------------------------- statements

STATEMENTS = """
message M { v: 0..3 }
channel c: M[1];
process P(out: chan M) {
  var x: 0..3 = 0;
  var y: 0..3 = 0;
  transition seq { x := x + 1; y := x; }
  transition swap_wrong { x := y; y := x; }
  transition put { send out M { v: x }; }
  transition branch { if x == 1 { x := 2; y := x; } else { y := 3; } }
}
instance p = P(out: c);
"""


@pytest.mark.parametrize("theory", THEORIES)
@pytest.mark.parametrize(
    "name, pre, post",
    [
        ("p.seq", {"p.x": 0, "p.y": 0}, {"p.x": 1, "p.y": 1}),  # y sees the new x
        ("p.seq", {"p.x": 2, "p.y": 0}, {"p.x": 3, "p.y": 3}),
        ("p.swap_wrong", {"p.x": 1, "p.y": 2}, {"p.x": 2, "p.y": 2}),  # not a parallel swap
        ("p.branch", {"p.x": 1, "p.y": 0}, {"p.x": 2, "p.y": 2}),
        ("p.branch", {"p.x": 0, "p.y": 0}, {"p.x": 0, "p.y": 3}),
    ],
)
def test_sequential_assignment(tmp_path: Path, theory: str, name: str, pre: dict[str, int], post: dict[str, int]) -> None:
    ts = _ts(tmp_path, STATEMENTS, theory)
    state = {**pre, "c": []}
    got = symbolic_apply(ts, state, name, {})
    assert got == {**post, "c": []}
    assert interp.apply(ts.model, state, name, {}).state == got


@pytest.mark.parametrize("theory", THEORIES)
def test_range_narrowing_violates_range_ok(tmp_path: Path, theory: str) -> None:
    ts = _ts(tmp_path, STATEMENTS, theory)
    step = ts.step_at(0)
    # x = 3: x := x + 1 stores 4 into 0..3
    pre = pin_state(ts, 0, {"p.x": 3, "p.y": 0, "c": []})
    i = [t.name for t in ts.transitions].index("p.seq")
    taken = [step.trans, ts.fires(step.act, i)]
    assert_sat(pre, taken, z3.Not(step.range_ok))
    assert_unsat(pre, taken, step.range_ok)
    # x = 2: in range
    pre_ok = pin_state(ts, 0, {"p.x": 2, "p.y": 0, "c": []})
    assert_unsat(pre_ok, taken, z3.Not(step.range_ok))
    assert not interp.apply(ts.model, {"p.x": 3, "p.y": 0, "c": []}, "p.seq", {}).range_ok
    assert interp.apply(ts.model, {"p.x": 2, "p.y": 0, "c": []}, "p.seq", {}).range_ok


@pytest.mark.parametrize("theory", ["int", "bv"])
def test_range_violating_step_stays_takeable(tmp_path: Path, theory: str) -> None:
    """The step that stores out of range must be takeable (BMC asserts step k, not
    well_formed(k + 1)); under the int theory its post-state is then not well-formed."""
    ts = _ts(tmp_path, STATEMENTS, theory)
    pre = pin_state(ts, 0, {"p.x": 3, "p.y": 0, "c": []})
    i = [t.name for t in ts.transitions].index("p.seq")
    step = ts.step_at(0)
    assert_sat(pre, [step.trans, ts.fires(step.act, i)], z3.Not(step.range_ok))


@pytest.mark.parametrize("theory", THEORIES)
def test_send_to_full_channel_is_disabled(tmp_path: Path, theory: str) -> None:
    ts = _ts(tmp_path, STATEMENTS, theory)
    full = {"p.x": 2, "p.y": 0, "c": [{"v": 1}]}
    assert symbolic_apply(ts, full, "p.put", {}) is None
    assert not interp.apply(ts.model, full, "p.put", {}).enabled
    empty = {"p.x": 2, "p.y": 0, "c": []}
    assert symbolic_apply(ts, empty, "p.put", {}) == {"p.x": 2, "p.y": 0, "c": [{"v": 2}]}
    # from the initial state, two sends in a row are impossible (capacity 1)
    assert_unsat(ts.init(), take_step(ts, 0, "p.put"), take_step(ts, 1, "p.put"))
    assert_sat(ts.init(), take_step(ts, 0, "p.put"), take_step(ts, 1, "p.seq"))


FIFO = """
message M { v: 0..3 }
channel c: M[3];
process S(out: chan M) {
  var n: 0..3 = 0;
  transition put when n < 3 { n := n + 1; send out M { v: n }; }
}
process R(inp: chan M) {
  var got: 0..3 = 0;
  transition take receive m from inp { got := m.v; }
}
instance s = S(out: c);
instance r = R(inp: c);
"""


@pytest.mark.parametrize("theory", THEORIES)
def test_fifo_order(tmp_path: Path, theory: str) -> None:
    ts = _ts(tmp_path, FIFO, theory)
    run = [*take_step(ts, 0, "s.put"), *take_step(ts, 1, "s.put"), *take_step(ts, 2, "s.put")]
    s3 = ts.state_at(3)
    one = ts.th.constant(1, ts.model.var("r.got").type)
    assert_sat(ts.init(), run)
    c3 = s3["c"]
    assert isinstance(c3, ChanSym)
    assert_unsat(ts.init(), run, z3.Not(c3.length == ts.th.counter_lit(3)))
    assert_unsat(ts.init(), run, take_step(ts, 3, "s.put"))  # full
    taken = [*run, *take_step(ts, 3, "r.take")]
    assert_unsat(ts.init(), taken, z3.Not(ts.state_at(4)["r.got"] == one))  # head first
    taken += [*take_step(ts, 4, "r.take"), *take_step(ts, 5, "r.take")]
    m = assert_sat(ts.init(), taken)
    assert [decode_state(m, ts, k)["r.got"] for k in (4, 5, 6)] == [1, 2, 3]
    assert decode_state(m, ts, 6)["c"] == []
    assert_unsat(ts.init(), taken, take_step(ts, 6, "r.take"))  # empty: receive disabled
    state = {"s.n": 3, "r.got": 0, "c": [{"v": 1}, {"v": 2}, {"v": 3}]}
    assert symbolic_apply(ts, state, "r.take", {}) == interp.apply(ts.model, state, "r.take", {}).state == {
        "s.n": 3, "r.got": 1, "c": [{"v": 2}, {"v": 3}]}


# ---------------------------------------------------------------- network faults

FAULTS = """
message M { v: 0..3 }
channel c: M[3] with loss, duplication, reordering, injection;
process P(out: chan M) {
  var x: 0..3 = 0;
  transition put { send out M { v: 1 }; }
}
instance p = P(out: c);
"""


def _msgs(*vs: int) -> list[dict[str, int]]:
    return [{"v": v} for v in vs]


@pytest.mark.parametrize("theory", THEORIES)
@pytest.mark.parametrize(
    "fault, params, before, after",
    [
        ("c.loss", {"i": 0}, _msgs(1, 2), _msgs(2)),
        ("c.loss", {"i": 1}, _msgs(1, 2), _msgs(1)),
        ("c.loss", {"i": 1}, _msgs(1, 2, 3), _msgs(1, 3)),
        ("c.loss", {"i": 2}, _msgs(1, 2), None),  # no message at position 2
        ("c.loss", {"i": 0}, [], None),
        ("c.duplication", {"i": 0}, _msgs(1, 2), _msgs(1, 2, 1)),
        ("c.duplication", {"i": 1}, _msgs(1, 2), _msgs(1, 2, 2)),
        ("c.duplication", {"i": 0}, _msgs(1, 2, 3), None),  # full
        ("c.duplication", {"i": 1}, _msgs(1), None),
        ("c.reordering", {"i": 0}, _msgs(1, 2), _msgs(2, 1)),
        ("c.reordering", {"i": 1}, _msgs(1, 2, 3), _msgs(1, 3, 2)),
        ("c.reordering", {"i": 1}, _msgs(1, 2), None),  # no message at i + 1
        ("c.reordering", {"i": 0}, _msgs(1), None),
        ("c.injection", {"v": 3}, _msgs(1, 2), _msgs(1, 2, 3)),
        ("c.injection", {"v": 0}, [], _msgs(0)),
        ("c.injection", {"v": 3}, _msgs(1, 2, 3), None),  # full
    ],
)
def test_network_faults(tmp_path: Path, theory: str, fault: str, params: dict[str, int],
                        before: list[dict[str, int]], after: list[dict[str, int]] | None) -> None:
    ts = _ts(tmp_path, FAULTS, theory)
    state = {"p.x": 0, "c": before}
    got = symbolic_apply(ts, state, fault, params)
    assert got == (None if after is None else {"p.x": 0, "c": after})
    concrete = interp.apply(ts.model, state, fault, params)
    assert concrete.enabled is (after is not None)
    if after is not None:
        assert concrete.state == got


@pytest.mark.parametrize("theory", THEORIES)
def test_faults_only_when_declared(tmp_path: Path, theory: str) -> None:
    ts = _ts(tmp_path, FAULTS.replace(" with loss, duplication, reordering, injection", " with loss"), theory)
    assert sorted(t.name for t in ts.transitions) == ["c.loss", "p.put"]
    # a reliable channel: what was sent stays, in order, until received
    ts = _ts(tmp_path, FAULTS.replace(" with loss, duplication, reordering, injection", ""), theory)
    assert [t.name for t in ts.transitions] == ["p.put"]
    c2 = ts.state_at(2)["c"]
    assert isinstance(c2, ChanSym)
    run = [ts.init(), take_step(ts, 0, "p.put"), take_step(ts, 1, "p.put")]
    assert_unsat(*run, z3.Not(c2.length == ts.th.counter_lit(2)))


@pytest.mark.parametrize("theory", THEORIES)
def test_init_pins_declared_values_and_leaves_the_rest_open(tmp_path: Path, theory: str) -> None:
    text = """
process P() {
  var iss: seq32;
  var nxt: seq32 = iss + 1;
  var n: 0..3 = 2;
  transition idle when false { skip; }
}
instance p = P();
"""
    ts = _ts(tmp_path, text, theory)
    s0 = ts.state_at(0)
    seq = ts.model.var("p.iss").type
    assert_sat(ts.init(), s0["p.iss"] == ts.th.constant(MAX32, seq))
    assert_unsat(ts.init(), s0["p.iss"] == ts.th.constant(MAX32, seq), z3.Not(s0["p.nxt"] == ts.th.constant(0, seq)))
    assert_unsat(ts.init(), z3.Not(s0["p.n"] == ts.th.constant(2, ts.model.var("p.n").type)))
    # no transition is ever enabled: no step from any initial state
    assert_unsat(ts.init(), ts.step_at(0).trans, ts.well_formed(1))
