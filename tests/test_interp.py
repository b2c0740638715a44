"""The explicit-state interpreter: expression semantics, steps, faults, replay, BFS.

Models are built by hand as `ir.Model`s so these tests do not depend on the parser/checker.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.core.diagnostics import Span
from tcpspec.interp.values import Domain
from tcpspec.interp.evaluate import Env, eval_expr
from tcpspec.interp.semantics import State, apply, initial_states, is_exhaustive, step_ok, successors
from tcpspec.interp.search import explore, replay, run_is_behaviour
from tcpspec.core.trace import Trace, TraceStep
from tcpspec.core.types import BOOL, INT, BitVecType, IntType, RecordType, Type, Value

SP = Span("test.tcpspec", 1, 1)
SEQ32 = BitVecType(32, serial=True)
BV32 = BitVecType(32)
BV8 = BitVecType(8)


# ---------------------------------------------------------------- builders


def lit(v: Value, t: Type = INT) -> ir.Expr:
    return ir.Lit(v, t, SP)


def var(sv: ir.StateVar, primed: bool = False) -> ir.Expr:
    return ir.Var(sv, primed, sv.type, SP)


def binop(op: str, a: ir.Expr, b: ir.Expr, t: Type = INT) -> ir.Expr:
    return ir.Binary(op, a, b, t, SP)


def sv(name: str, t: Type) -> ir.StateVar:
    inst, local = name.split(".")
    return ir.StateVar(name, inst, local, t, SP)


def assign(target: ir.StateVar, value: ir.Expr) -> ir.Stmt:
    return ir.Assign(target, value, SP)


def transition(name: str, body: tuple[ir.Stmt, ...], guard: ir.Expr | None = None,
               params: tuple[tuple[str, Type], ...] = (),
               receive: tuple[str, ir.Channel] | None = None) -> ir.Transition:
    inst, local = name.split(".")
    return ir.Transition(name, inst, local, params, receive, guard or lit(True, BOOL), body, SP)


def fault(ch: ir.Channel, kind: str) -> ir.NetworkTransition:
    params = tuple(ch.message.fields) if kind == "injection" else (("i", IntType(0, ch.capacity - 1)),)
    return ir.NetworkTransition(f"{ch.name}.{kind}", ch, kind, params, SP)


def prop(name: str, kind: ir.PropertyKind, expr: ir.Expr, **kw: object) -> ir.Property:
    return ir.Property(name, kind, expr, SP, **kw)  # type: ignore[arg-type]


def model(vars_: list[ir.StateVar], init: dict[str, ir.Expr], trans: list[ir.AnyTransition],
          props: list[ir.Property], channels: list[ir.Channel] | None = None) -> ir.Model:
    instances = sorted({v.instance for v in vars_})
    return ir.Model("test.tcpspec", {}, [ir.Instance(i, "P") for i in instances], vars_, init,
                    channels or [], trans, props)


RANGE_OK = prop("range_ok", ir.PropertyKind.STEP, lit(True, BOOL), builtin=True)


def counter_model(hi: int = 3, steps: tuple[int, ...] = (1,)) -> tuple[ir.Model, ir.StateVar]:
    """`p.x: 0..hi = 0`, transitions `p.incK: x := x + K` when x + K <= hi, invariant x < 3."""
    x = sv("p.x", IntType(0, hi))
    trans: list[ir.AnyTransition] = [
        transition(f"p.inc{k}", (assign(x, binop("add", var(x), lit(k))),),
                   guard=binop("le", binop("add", var(x), lit(k)), lit(hi), BOOL))
        for k in steps
    ]
    props = [
        prop("x_lt_3", ir.PropertyKind.INVARIANT, binop("lt", var(x), lit(3), BOOL)),
        prop("x_is_2", ir.PropertyKind.REACHABLE, binop("eq", var(x), lit(2), BOOL)),
    ]
    return model([x], {"p.x": lit(0)}, trans, props), x


# ---------------------------------------------------------------- expressions


@pytest.mark.parametrize(("a", "b", "lt", "le"), [
    (0xFFFFFFFF, 0, True, True),          # wraps: 0xFFFFFFFF is just before 0
    (0, 0xFFFFFFFF, False, False),
    (0, 2**31, False, False),             # exactly 2^31 apart: neither direction (RFC 1982)
    (2**31, 0, False, False),
    (1, 2**31, True, True),               # 2^31 - 1 ahead: still ahead
    (1, 2**31 + 2, False, False),         # more than half the space ahead: behind
    (5, 5, False, True),
    (100, 7, False, False),
])
def test_serial_comparison(a: int, b: int, lt: bool, le: bool) -> None:
    env = Env(pre={})
    assert eval_expr(binop("lt", lit(a, SEQ32), lit(b, SEQ32), BOOL), env) is lt
    assert eval_expr(binop("le", lit(a, SEQ32), lit(b, SEQ32), BOOL), env) is le


@pytest.mark.parametrize(("a", "b", "lt"), [(0xFFFFFFFF, 0, False), (0, 0xFFFFFFFF, True), (0, 2**31, True), (2**31, 0, False)])
def test_unsigned_bv_comparison(a: int, b: int, lt: bool) -> None:
    assert eval_expr(binop("lt", lit(a, BV32), lit(b, BV32), BOOL), Env(pre={})) is lt


@pytest.mark.parametrize(("expr", "want"), [
    (binop("add", lit(250, BV8), lit(10, BV8), BV8), 4),
    (binop("sub", lit(3, BV8), lit(5, BV8), BV8), 254),
    (binop("mul", lit(16, BV8), lit(16, BV8), BV8), 0),
    (ir.Unary("neg", lit(1, BV8), BV8, SP), 255),
    (binop("add", lit(0xFFFFFFFF, SEQ32), ir.Convert(lit(1), SEQ32, SP), SEQ32), 0),
    (binop("seqdiff", lit(0, SEQ32), lit(0xFFFFFFFF, SEQ32), INT), 1),
    (binop("seqdiff", lit(0xFFFFFFFF, SEQ32), lit(0, SEQ32), INT), -1),
    (binop("seqdiff", lit(2**31, SEQ32), lit(0, SEQ32), INT), -(2**31)),
    (ir.Convert(lit(-5), BV8, SP), 251),
    (ir.Convert(lit(300), BV8, SP), 44),
    (ir.Convert(lit(200, BV8), INT, SP), 200),
    (binop("mul", lit(2**62), lit(4)), 2**64),            # ints are exact
    (ir.Unary("neg", lit(3), INT, SP), -3),
])
def test_arithmetic(expr: ir.Expr, want: int) -> None:
    assert eval_expr(expr, Env(pre={})) == want


def test_eq_is_structural_and_typed() -> None:
    rec = RecordType("M", (("a", BOOL), ("n", INT)))
    r1 = ir.RecordLit((("a", lit(True, BOOL)), ("n", lit(1))), rec, SP)
    r2 = ir.RecordLit((("a", lit(True, BOOL)), ("n", lit(2))), rec, SP)
    env = Env(pre={})
    assert eval_expr(binop("eq", r1, r1, BOOL), env) is True
    assert eval_expr(binop("ne", r1, r2, BOOL), env) is True
    assert eval_expr(ir.Field(r2, "n", INT, SP), env) == 2


# ---------------------------------------------------------------- steps


def test_sequential_assignment() -> None:
    x, y = sv("p.x", IntType(0, 9)), sv("p.y", IntType(0, 9))
    t = transition("p.go", (assign(x, binop("add", var(x), lit(1))), assign(y, var(x))))
    m = model([x, y], {"p.x": lit(4), "p.y": lit(0)}, [t], [])
    (init,) = initial_states(m)
    out = apply(m, init, "p.go", {})
    assert out.enabled and out.state == {"p.x": 5, "p.y": 5}


def msg_channel(name: str, cap: int) -> ir.Channel:
    rec = RecordType("Data", (("v", IntType(0, 3)),))
    return ir.Channel(name, rec, cap, frozenset(ir.FAULT_KINDS), SP)


def data(ch: ir.Channel, v: int) -> ir.Expr:
    return ir.RecordLit((("v", lit(v)),), ch.message, SP)


def test_send_blocked_on_full_channel() -> None:
    ch = msg_channel("wire", 1)
    t = transition("p.send", (ir.Send(ch, data(ch, 1), SP),))
    m = model([], {}, [t], [], [ch])
    (s0,) = initial_states(m)
    out = apply(m, s0, "p.send", {})
    assert out.enabled and out.state == {"wire": [{"v": 1}]} and out.sent == [("wire", {"v": 1})]
    blocked = apply(m, out.state, "p.send", {})
    assert not blocked.enabled and "full" in blocked.reason
    assert [s.transition.name for s in successors(m, out.state)] == []


def test_receive_frees_room_for_send_to_same_channel() -> None:
    ch = msg_channel("wire", 1)
    t = transition("p.echo", (ir.Send(ch, data(ch, 2), SP),), receive=("d", ch))
    m = model([], {}, [t], [], [ch])
    out = apply(m, {"wire": [{"v": 1}]}, "p.echo", {})
    assert out.enabled and out.state == {"wire": [{"v": 2}]}
    assert out.received == [("wire", {"v": 1})]
    empty = apply(m, {"wire": []}, "p.echo", {})
    assert not empty.enabled and "empty" in empty.reason


def test_guard_reads_params_and_message() -> None:
    ch = msg_channel("wire", 2)
    got = sv("p.got", IntType(0, 3))
    d = ir.Msg("d", ch.message, SP)
    guard = binop("eq", ir.Field(d, "v", IntType(0, 3), SP), ir.Param("n", IntType(0, 3), SP), BOOL)
    t = transition("p.take", (assign(got, ir.Field(d, "v", IntType(0, 3), SP)),), guard=guard,
                   params=(("n", IntType(0, 3)),), receive=("d", ch))
    m = model([got], {"p.got": lit(0)}, [t], [], [ch])
    state: State = {"p.got": 0, "wire": [{"v": 2}, {"v": 3}]}
    steps = list(successors(m, state))
    assert [s.params for s in steps] == [{"n": 2}]
    assert steps[0].outcome.state == {"p.got": 2, "wire": [{"v": 3}]}


M1: Value = {"v": 1}
M2: Value = {"v": 2}
M3: Value = {"v": 3}


@pytest.mark.parametrize(("kind", "queue", "params", "want"), [
    ("loss", [M1, M2], {"i": 0}, [M2]),
    ("loss", [M1, M2], {"i": 1}, [M1]),
    ("loss", [M1], {"i": 1}, None),
    ("duplication", [M1, M2], {"i": 0}, [M1, M2, M1]),
    ("duplication", [M1, M2, M3], {"i": 0}, None),           # full (capacity 3)
    ("duplication", [], {"i": 0}, None),
    ("reordering", [M1, M2, M3], {"i": 1}, [M1, M3, M2]),
    ("reordering", [M1, M2], {"i": 1}, None),                # needs i + 1 < len
    ("injection", [M1], {"v": 3}, [M1, M3]),
    ("injection", [M1, M2, M3], {"v": 3}, None),
])
def test_network_faults(kind: str, queue: list[Value], params: dict[str, Value], want: list[Value] | None) -> None:
    ch = msg_channel("wire", 3)
    m = model([], {}, [fault(ch, kind)], [], [ch])
    before = copy.deepcopy(queue)
    out = apply(m, {"wire": queue}, f"wire.{kind}", params)
    assert queue == before  # the pre-state is not changed
    if want is None:
        assert not out.enabled and out.state is None
    else:
        assert out.enabled and out.state == {"wire": want}
        assert out.sent == [] and out.received == []


def test_fault_successors_enumerate_positions() -> None:
    ch = msg_channel("wire", 3)
    m = model([], {}, [fault(ch, k) for k in ir.FAULT_KINDS], [], [ch])
    steps = list(successors(m, {"wire": [M1, M2]}))
    got = [(s.transition.name, s.params) for s in steps]
    assert got == [
        ("wire.loss", {"i": 0}), ("wire.loss", {"i": 1}),
        ("wire.duplication", {"i": 0}), ("wire.duplication", {"i": 1}),
        ("wire.reordering", {"i": 0}),
        ("wire.injection", {"v": 0}), ("wire.injection", {"v": 1}),
        ("wire.injection", {"v": 2}), ("wire.injection", {"v": 3}),
    ]


def test_range_violation_on_assign_and_send() -> None:
    x = sv("p.x", IntType(0, 3))
    t = transition("p.bump", (assign(x, binop("add", var(x), lit(1))),))
    m2 = model([x], {"p.x": lit(0)}, [t], [RANGE_OK])
    bad = apply(m2, {"p.x": 3}, "p.bump", {})
    assert bad.enabled and not bad.range_ok and "p.x := 4" in bad.reason
    assert not step_ok(m2, RANGE_OK, {"p.x": 3}, bad, t)
    assert step_ok(m2, RANGE_OK, {"p.x": 2}, apply(m2, {"p.x": 2}, "p.bump", {}), t)
    ch = msg_channel("wire", 1)
    s = transition("p.send", (ir.Send(ch, ir.RecordLit((("v", lit(7)),), ch.message, SP), SP),))
    m3 = model([], {}, [s], [RANGE_OK], [ch])
    assert not apply(m3, {"wire": []}, "p.send", {}).range_ok


def test_bfs_finds_range_ok_violation() -> None:
    x = sv("p.x", IntType(0, 3))
    t = transition("p.bump", (assign(x, binop("add", var(x), lit(1))),))
    m = model([x], {"p.x": lit(0)}, [t], [RANGE_OK])
    res = explore(m, 10)
    trace = res.traces["range_ok"]
    assert trace is not None and trace.length == 4
    assert replay(m, trace, RANGE_OK, require_first=True).ok
    assert res.states == 4 and res.range_violations == 1


# ---------------------------------------------------------------- initial states


def test_initial_states_range_and_read_earlier_vars() -> None:
    a = sv("p.a", BitVecType(2))
    b = sv("p.b", BitVecType(2))
    m = model([a, b], {"p.b": binop("add", var(a), lit(1, BitVecType(2)), BitVecType(2))}, [], [])
    states = initial_states(m)
    assert states == [{"p.a": v, "p.b": (v + 1) % 4} for v in range(4)]
    assert is_exhaustive(m)


def test_large_types_are_sampled_unless_given() -> None:
    iss = sv("p.iss", SEQ32)
    m = model([iss], {}, [], [])
    assert [s["p.iss"] for s in initial_states(m)] == [0, 1, 2**32 - 1]
    assert not is_exhaustive(m)
    assert [s["p.iss"] for s in initial_states(m, {"p.iss": [7]})] == [7]
    assert is_exhaustive(m, {"p.iss": [0]}) is False
    b8 = sv("p.b", BV8)
    m8 = model([b8], {}, [], [])
    assert not is_exhaustive(m8) and len(initial_states(m8)) == 3
    assert is_exhaustive(m8, Domain(max_bits=8)) and len(initial_states(m8, Domain(max_bits=8))) == 256
    assert is_exhaustive(m8, {"p.b": list(range(256))})


# ---------------------------------------------------------------- search


@pytest.mark.parametrize(("steps", "inv_depth", "reach_depth"), [((1,), 3, 2), ((1, 2), 2, 1), ((2,), None, 1)])
def test_bfs_shortest(steps: tuple[int, ...], inv_depth: int | None, reach_depth: int | None) -> None:
    m, _ = counter_model(hi=3 if steps != (2,) else 2, steps=steps)
    res = explore(m, 10)
    assert res.depth_of("x_lt_3") == inv_depth
    assert res.depth_of("x_is_2") == reach_depth
    assert res.exhaustive
    for p in m.properties:
        trace = res.traces[p.name]
        if trace is not None:
            assert replay(m, trace, p, require_first=True).ok, p.name


def test_bfs_bound_is_exactly_k_transitions() -> None:
    m, _ = counter_model()
    assert explore(m, 2).traces["x_lt_3"] is None
    assert explore(m, 3).depth_of("x_lt_3") == 3
    full = explore(m, 10, properties=[m.property("x_lt_3")])
    assert full.states == 4


def test_bfs_complete_when_invariant_holds() -> None:
    m, x = counter_model(hi=2)
    res = explore(m, 10, properties=[m.property("x_lt_3")])
    assert res.traces["x_lt_3"] is None and res.complete and res.exhaustive and res.states == 3


def test_bfs_max_states_cut_is_not_exhaustive() -> None:
    m, _ = counter_model()
    res = explore(m, 10, max_states=2)
    assert res.cut and not res.exhaustive and res.traces["x_lt_3"] is None


def sender_receiver(ensure_plus: int) -> tuple[ir.Model, ir.Property]:
    """The language doc's example: send one value 1..3, the receiver stores it."""
    ch = ir.Channel("wire", RecordType("Data", (("value", IntType(0, 3)),)), 1, frozenset(), SP)
    sent, got = sv("s.sent", BOOL), sv("r.got", IntType(0, 3))
    v = ir.Param("v", IntType(1, 3), SP)
    send = transition("s.send_one", (ir.Send(ch, ir.RecordLit((("value", v),), ch.message, SP), SP),
                                     assign(sent, lit(True, BOOL))),
                      guard=ir.Unary("not", var(sent), BOOL, SP), params=(("v", IntType(1, 3)),))
    d = ir.Msg("d", ch.message, SP)
    take = transition("r.take", (assign(got, ir.Field(d, "value", IntType(0, 3), SP)),), receive=("d", ch))
    ensure = binop("eq", var(got, primed=True),
                   binop("add", ir.Field(d, "value", INT, SP), lit(ensure_plus)), BOOL)
    when = binop("lt", var(got), lit(3), BOOL)
    p = prop("stores", ir.PropertyKind.STEP, ensure, instance="r",
             events=(ir.StepEvent("receive", "d", ch),), when=when)
    m = model([sent, got], {"s.sent": lit(False, BOOL), "r.got": lit(0)}, [send, take], [p], [ch])
    return m, p


@pytest.mark.parametrize(("plus", "depth"), [(0, None), (1, 2)])
def test_step_property_with_primes_and_events(plus: int, depth: int | None) -> None:
    m, p = sender_receiver(plus)
    res = explore(m, 5)
    assert res.depth_of("stores") == depth
    assert res.exhaustive
    trace = res.traces["stores"]
    if trace is not None:
        assert [s.transition for s in trace.steps] == [None, "s.send_one", "r.take"]
        assert trace.steps[2].received == [("wire", {"value": 1})]
        assert trace.steps[2].changed == ["r.got", "wire"]
        assert replay(m, trace, p, require_first=True).ok
    else:
        assert res.complete


def test_step_property_does_not_apply_to_other_steps() -> None:
    m, p = sender_receiver(1)
    (s0,) = initial_states(m)
    (first, *_) = successors(m, s0)
    assert first.transition.name == "s.send_one"
    assert step_ok(m, p, s0, first.outcome, first.transition)  # no receive: does not apply


# ---------------------------------------------------------------- replay


def good_trace() -> tuple[ir.Model, Trace]:
    m, _ = sender_receiver(1)
    trace = explore(m, 5).traces["stores"]
    assert trace is not None
    return m, trace


def test_replay_accepts_engine_trace_and_plain_run() -> None:
    m, trace = good_trace()
    assert replay(m, trace, m.property("stores")).ok
    assert run_is_behaviour(m, trace).ok


def tamper_param(t: Trace) -> None:
    t.steps[1].params = {"v": 2}


def tamper_state(t: Trace) -> None:
    t.steps[2].state["r.got"] = 3


def tamper_disabled(t: Trace) -> None:
    t.steps.insert(1, TraceStep(1, copy.deepcopy(t.steps[0].state), "r.take"))


def tamper_init(t: Trace) -> None:
    t.steps[0].state["s.sent"] = True


def tamper_illegal_param(t: Trace) -> None:
    t.steps[1].params = {"v": 0}


def tamper_unknown(t: Trace) -> None:
    t.steps[1].transition = "s.nope"


def tamper_int_for_bool(t: Trace) -> None:
    t.steps[0].state["s.sent"] = 0


@pytest.mark.parametrize(("tamper", "step", "words"), [
    (tamper_param, 1, "state differs at wire: trace has [{ value: 1 }], semantics gives [{ value: 2 }]"),
    (tamper_state, 2, "state differs at r.got: trace has 3, semantics gives 1"),
    (tamper_disabled, 1, "r.take is not enabled: channel wire is empty"),
    (tamper_init, 0, "s.sent is not initial: trace has true, init gives false"),
    (tamper_illegal_param, 1, "parameter v = 0 is not a value of type 1..3"),
    (tamper_unknown, 1, "no transition 's.nope'"),
    (tamper_int_for_bool, 0, "s.sent = 0 is not a value of type bool"),
])
def test_replay_rejects_tampered(tamper: object, step: int, words: str) -> None:
    m, trace = good_trace()
    bad = copy.deepcopy(trace)
    tamper(bad)  # type: ignore[operator]
    res = replay(m, bad, m.property("stores"))
    assert not res.ok and res.step == step
    assert res.message.startswith(f"step {step}: ") and words in res.message, res.message


def test_replay_rejects_trace_that_does_not_violate() -> None:
    m, trace = good_trace()
    m_ok, p_ok = sender_receiver(0)
    res = replay(m_ok, trace, p_ok)
    assert not res.ok and res.step == 2 and "does not violate stores" in res.message
    assert run_is_behaviour(m_ok, trace).ok


def test_replay_require_first() -> None:
    m, _ = counter_model()
    inv = m.property("x_lt_3")
    steps = [TraceStep(0, {"p.x": 0})] + [TraceStep(i, {"p.x": i}, "p.inc1") for i in (1, 2, 3)]
    steps.append(TraceStep(4, {"p.x": 3}, "p.inc1"))
    long = Trace(steps)
    assert not replay(m, long, inv).ok  # step 4: inc1 is not enabled at x = 3
    reach = m.property("x_is_2")
    trace3 = Trace(steps[:4])
    assert replay(m, trace3, inv, require_first=True).ok
    assert replay(m, Trace(steps[:3]), reach, require_first=True).ok
    res = replay(m, trace3, reach)
    assert not res.ok and res.step == 3 and "does not satisfy x_is_2" in res.message


def test_no_z3_import() -> None:
    import tcpspec.interp.semantics
    import tcpspec.interp.search

    for mod in (tcpspec.interp.semantics, tcpspec.interp.search):
        src = open(mod.__file__ or "").read()
        assert "z3" not in src.replace("never import z3", "").replace("No z3", "")
    assert "tcpspec.interp.semantics" in sys.modules


def up_down() -> ir.Model:
    """`p.x: 0..1`, up 0 -> 1 and down 1 -> 0: the down step returns to a seen state."""
    x = sv("p.x", IntType(0, 1))
    up = transition("p.up", (assign(x, lit(1)),), guard=binop("eq", var(x), lit(0), BOOL))
    down = transition("p.down", (assign(x, lit(0)),), guard=binop("eq", var(x), lit(1), BOOL))
    props = [
        prop("never_down", ir.PropertyKind.STEP, binop("le", var(x), var(x, primed=True), BOOL)),
        prop("stays_0", ir.PropertyKind.INVARIANT, binop("eq", var(x), lit(0), BOOL)),
    ]
    return model([x], {"p.x": lit(0)}, [up, down], props)


def test_bfs_checks_step_properties_on_edges_to_seen_states() -> None:
    m = up_down()
    res = explore(m, 5)
    trace = res.traces["never_down"]
    assert trace is not None and [s.transition for s in trace.steps] == [None, "p.up", "p.down"]
    assert res.states == 2


def test_replay_require_first_rejects_later_violation() -> None:
    m = up_down()
    states = [0, 1, 0, 1]
    names = [None, "p.up", "p.down", "p.up"]
    trace = Trace([TraceStep(i, {"p.x": x}, t) for i, (x, t) in enumerate(zip(states, names))])
    inv = m.property("stays_0")
    assert replay(m, trace, inv).ok
    res = replay(m, trace, inv, require_first=True)
    assert not res.ok and res.step == 1 and "earlier state already" in res.message
    longer = Trace(trace.steps + [TraceStep(4, {"p.x": 0}, "p.down"), TraceStep(5, {"p.x": 1}, "p.up")])
    assert replay(m, Trace(longer.steps[:3]), m.property("never_down"), require_first=True).ok
    step_res = replay(m, Trace(longer.steps[:5]), m.property("never_down"), require_first=True)
    assert not step_res.ok and step_res.step == 2 and "earlier step already" in step_res.message


def test_init_out_of_range_is_not_initial() -> None:
    a, b = sv("p.a", IntType(0, 3)), sv("p.b", IntType(0, 3))
    m = model([a, b], {"p.b": binop("add", var(a), lit(1))}, [], [])
    assert [s["p.a"] for s in initial_states(m)] == [0, 1, 2]


def test_replay_rejects_range_violation_mid_trace() -> None:
    x = sv("p.x", IntType(0, 3))
    t = transition("p.bump", (assign(x, binop("add", var(x), lit(1))),))
    m = model([x], {"p.x": lit(3)}, [t], [RANGE_OK])
    bad = Trace([TraceStep(0, {"p.x": 3}), TraceStep(1, {"p.x": 3}, "p.bump")])
    assert replay(m, bad, RANGE_OK).ok  # post-state of the violating last step is not compared
    res = run_is_behaviour(m, bad)
    assert not res.ok and res.step == 1 and "range violation (p.x := 4" in res.message


DOC_EXAMPLE = """
const MAX = 3;
message Data { value: 0..MAX }
channel wire: Data[2] with loss, duplication;
process Sender(out: chan Data) {
  var sent: bool = false;
  transition send_one choose v: 1..MAX when !sent {
    send out Data { value: v };
    sent := true;
  }
}
process Receiver(in: chan Data) {
  var got: 0..MAX = 0;
  var seq: seq32;
  var n: 0..1 = 0;
  transition take receive d from in {
    got := d.value;
    n := n + 1;
    seq := seq + 1;
  }
  step takes_value: on receive d from in ensure got' == d.value && seq' - seq == 1;
}
instance s = Sender(out: wire);
instance r = Receiver(in: wire);
invariant got_in_range: r.got <= MAX;
reachable delivered: r.got == MAX;
"""


def test_real_model_text(tmp_path: Path) -> None:
    """The doc's example through parser + checker: n overflows after a duplicated delivery."""
    try:
        from tcpspec.run.pipeline import load_model
        path = tmp_path / "ex.tcpspec"
        path.write_text(DOC_EXAMPLE)
        m = load_model(str(path))
    except ImportError as e:  # the front end is still being written
        pytest.skip(f"front end not available: {e}")
    res = explore(m, 8, {"r.seq": [0, 2**32 - 1]})
    assert res.sampled and not res.exhaustive and res.complete
    assert res.depth_of("delivered") == 2
    assert res.depth_of("range_ok") == 4
    assert res.traces["r.takes_value"] is None and res.traces["got_in_range"] is None
    for name, trace in res.traces.items():
        if trace is not None:
            assert replay(m, trace, m.property(name), require_first=True).ok, name


def test_interp_reexports_search() -> None:
    """Engines import `replay` from `tcpspec.interp.semantics`."""
    from tcpspec.interp import search

    m, _ = counter_model()
    res = search.explore(m, 5)
    trace = res.traces["x_lt_3"]
    assert trace is not None and search.replay(m, trace, m.property("x_lt_3")).ok
    assert search.run_is_behaviour(m, trace).ok
