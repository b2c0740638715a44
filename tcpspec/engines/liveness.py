"""Liveness under fairness by lasso-shaped BMC: `eventually`, `leads_to` and `temporal` properties.

A counterexample is a fair run that misses the goal forever. Within a bound it has one of two
shapes, both searched for from the shortest up, on one solver with one unrolling (as in
`bmc.py`, properties are asked under assumptions):

- a *lasso*: states s0 .. sn (n steps) with sn == s_l for some l < n (every variable and every
  channel's contents equal), so the steps l+1 .. n repeat forever. The goal never holds on the
  lasso after the trigger (`eventually`: from s0; `leads_to P ~> Q`: from a state where P holds;
  a `temporal` formula is false on the lasso, as `tcpspec.checker.ltl` reads it), and the loop is fair: every weakly fair transition is taken in the loop or disabled in some
  loop state, every strongly fair one is taken in the loop or disabled in all of them;
- a *stop*: a run that ends in a state where nothing can fire (the system does not stutter),
  the goal missed to the end (a `temporal` formula: false with the last state repeated for ever).
  Such a run is maximal, so fairness holds on it vacuously.

The trace of a lasso has `loop = l` (its last state is state l again); every counterexample is
replayed on the interpreter, loop closure and fairness included (`tcpspec.interp.live`), before it
is reported. `holds` is bounded: no such run of up to `depth` steps. Nothing here proves
liveness: a lasso longer than the bound may exist.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from tcpspec.encoding import encoder as enc
from tcpspec.checker import ir, ltl
from tcpspec.encoding.encoder import ChanSym
from tcpspec.solving.budget import Budget
from tcpspec.engines.common import extract_trace, prefer_small_values, replay_or_explain
from tcpspec.solving.query import check, require_initial_state
from tcpspec.core.results import STOPPED, PropertyResult, Verdict, steps, stops_run
from tcpspec.encoding.theories import choose_theory
from tcpspec.core.trace import Trace
from tcpspec.encoding.transition_system import TransitionSystem

ENGINE = "bmc"
Z3_LOGIC: ltl.Logic[z3.BoolRef] = ltl.Logic(all=lambda bs: z3.And(list(bs)), any=lambda bs: z3.Or(list(bs)), not_=z3.Not)


@dataclass
class _Open:
    prop: ir.Property
    budget: Budget
    spent: float = 0.0
    traces: list[Trace] = field(default_factory=list)


def run_liveness(
    model: ir.Model, props: list[ir.Property], depth: int, timeout: float | None, theory: str = "auto",
    max_cex: int = 1, keep_going: bool = True,
) -> list[PropertyResult]:
    """Search lassos and stopped runs of up to `depth` steps; results in the order of `props`.
    Without `keep_going`, the search ends with the length of its first counterexample."""
    ts = TransitionSystem(model, choose_theory(model, theory))
    solver = ts.th.solver()
    require_initial_state(solver, ts)
    results: dict[str, PropertyResult] = {}
    open_ = [_Open(p, Budget(timeout)) for p in props]
    for n in range(depth + 1):
        for item in list(open_):
            t0 = time.perf_counter()
            try:
                res = _ask(solver, ts, item, n, max_cex)
            finally:
                item.spent += time.perf_counter() - t0
            if res is not None:
                results[item.prop.name] = res
                open_.remove(item)
        if not keep_going and open_ and any(stops_run(r) for r in results.values()):
            for item in open_:
                results[item.prop.name] = _result(item, Verdict.UNKNOWN, n, detail=STOPPED)
            return [results[p.name] for p in props]
        if not open_ or n == depth:
            break
        t0 = time.perf_counter()
        step = ts.step_at(n)
        solver.add(step.trans, step.range_ok, ts.well_formed(n + 1))  # a run that goes on stays in range
        for item in open_:
            item.spent += time.perf_counter() - t0
    for item in open_:
        if item.traces:  # --max-cex: fewer runs than asked for within the bound
            results[item.prop.name] = _violated(item, max_cex)
            continue
        missing = "violating the formula" if item.prop.kind is ir.PropertyKind.TEMPORAL else "missing the goal"
        results[item.prop.name] = _result(
            item, Verdict.HOLDS, depth,
            detail=f"no fair lasso or stopped run {missing} within {steps(depth)} (bounded; not a proof)",
        )
    return [results[p.name] for p in props]


# ---------------------------------------------------------------- the queries


def _ask(solver: z3.Solver, ts: TransitionSystem, item: _Open, n: int, max_cex: int) -> PropertyResult | None:
    """Counterexamples of exactly n steps (stops first: they are shorter to read); a result once
    `max_cex` are found, else None (go deeper).

    Further lassos (--max-cex) must be simple loops entered once (see `_lasso`): else going around
    a known loop twice, or entering it at another of its states, would count as a new one.
    """
    simple = bool(item.traces)
    shapes: list[tuple[z3.BoolRef, list[int]]] = [(_stopped(ts, item.prop, n), [])]
    if n >= 1:
        loops = list(range(n))
        shapes.append((z3.Or([_lasso(ts, item.prop, n, lo, simple) for lo in loops]), loops))
    for query, loops in shapes:
        while len(item.traces) < max_cex:
            blocks = [_differs(ts, t, n) for t in item.traces if t.length == n]
            out = check(solver, [query] + blocks, item.budget)
            if out.result == z3.unknown:
                if item.traces:
                    break
                return _result(item, Verdict.UNKNOWN, n, detail=f"solver returned unknown at depth {n}: {out.reason}")
            if out.result == z3.unsat:
                break
            zm = prefer_small_values(solver, ts, n, [query] + blocks, item.budget)
            trace = extract_trace(zm, ts, n)
            if loops:
                trace.loop = next(lo for lo in loops
                                  if z3.is_true(zm.eval(_lasso(ts, item.prop, n, lo, simple), model_completion=True)))
            problem = replay_or_explain(ts.model, trace, item.prop)
            if problem is not None:
                return _result(item, Verdict.UNKNOWN, n, detail=(
                    f"internal error: the counterexample did not replay on the concrete semantics ({problem}); please report"))
            item.traces.append(trace)
    return _violated(item, max_cex) if len(item.traces) >= max_cex else None


def _violated(item: _Open, max_cex: int) -> PropertyResult:
    first = item.traces[0]
    if item.prop.kind is ir.PropertyKind.TEMPORAL:
        detail = "a fair run that loops forever violating the formula" if first.loop is not None else \
            "a run that stops (nothing can fire) violating the formula, its last state repeated forever"
    else:
        detail = "a fair run that loops forever missing the goal" if first.loop is not None else \
            "a run that stops (nothing can fire) before the goal"
    return _result(item, Verdict.VIOLATED, first.length, trace=first, detail=detail,
                   traces=list(item.traces) if max_cex > 1 else [])


def _goal(ts: TransitionSystem, expr: ir.Expr, k: int) -> z3.BoolRef:
    value = enc.eval_expr(expr, enc.Env(th=ts.th, pre=ts.state_at(k)))
    assert isinstance(value, z3.BoolRef)
    return value


def _missed(ts: TransitionSystem, prop: ir.Property, first: int, last: int) -> z3.BoolRef:
    """The goal holds in none of the states first .. last."""
    return z3.And([z3.Not(_goal(ts, prop.expr, j)) for j in range(first, last + 1)])


def _triggered_and_missed(ts: TransitionSystem, prop: ir.Property, last: int, loop: int | None) -> z3.BoolRef:
    """Some trigger state i (s0 for `eventually`, a P-state for `leads_to`) is followed by no goal
    state through `last`; on a lasso, a trigger inside the loop needs the whole loop goal-free.
    A `temporal` formula is false on the run (`loop` None: a stopped run, its last state repeating)."""
    if prop.kind is ir.PropertyKind.TEMPORAL:
        assert prop.formula is not None
        at = lambda e, j: _goal(ts, e, j)  # noqa: E731
        return z3.Not(ltl.value(prop.formula, at, last, last if loop is None else loop, Z3_LOGIC))
    if prop.kind is ir.PropertyKind.EVENTUALLY:
        return _missed(ts, prop, 0, last)
    assert prop.when is not None
    cases = []
    for i in range(last + 1):
        start = i if loop is None else min(i, loop)
        cases.append(z3.And(_goal(ts, prop.when, i), _missed(ts, prop, start, last)))
    return z3.Or(cases)


def _stopped(ts: TransitionSystem, prop: ir.Property, n: int) -> z3.BoolRef:
    """An n-step run ending where nothing can fire, the goal missed through its last state."""
    stuck = [ts.disabled_at(i, n) for i in range(len(ts.transitions))]
    return z3.And(stuck + [_triggered_and_missed(ts, prop, n, None)])


def _lasso(ts: TransitionSystem, prop: ir.Property, n: int, loop: int, simple: bool = False) -> z3.BoolRef:
    """State n is state `loop` again, the loop is fair, and the goal is missed (`simple`: and
    no state inside the loop is the loop state, and the run before the loop visits none of its states)."""
    cs = [_same_state(ts, n, loop), _fair_loop(ts, n, loop), _triggered_and_missed(ts, prop, n - 1, loop)]
    if simple:  # and the run enters the loop at the loop state (not a rotation of a known loop)
        cs += [z3.Not(_same_state(ts, j, loop)) for j in range(loop + 1, n)]
        cs += [z3.Not(_same_state(ts, j, m)) for j in range(loop) for m in range(loop, n)]
    return z3.And(cs)


def _same_state(ts: TransitionSystem, a: int, b: int) -> z3.BoolRef:
    sa, sb = ts.state_at(a), ts.state_at(b)
    cs: list[z3.BoolRef] = []
    for v in ts.model.state_vars:
        cs.append(enc.sym_eq(sa[v.name], sb[v.name]))
    for c in ts.model.channels:
        ca, cb = sa[c.name], sb[c.name]
        assert isinstance(ca, ChanSym) and isinstance(cb, ChanSym)
        cs.append(ca.length == cb.length)
        cs.extend(enc.sym_eq(x, y) for x, y in zip(ca.slots, cb.slots))  # empty slots are zero
    return z3.And(cs)


def _fair_loop(ts: TransitionSystem, n: int, loop: int) -> z3.BoolRef:
    """Every fair transition is taken in the loop (steps loop .. n-1) or disabled as its
    fairness allows (weak: in some loop state; strong: in every loop state)."""
    cs: list[z3.BoolRef] = []
    for i, t in enumerate(ts.transitions):
        strength = ts.model.fairness.get(t.name)
        if strength is None:
            continue
        taken = z3.Or([ts.fires(ts.step_at(j).act, i) for j in range(loop, n)])
        disabled = [ts.disabled_at(i, j) for j in range(loop, n)]
        cs.append(z3.Or(taken, z3.Or(disabled) if strength == "weak" else z3.And(disabled)))
    return z3.And(cs) if cs else z3.BoolVal(True)


def _differs(ts: TransitionSystem, trace: Trace, n: int) -> z3.BoolRef:
    """--max-cex: some step takes another transition than `trace` does."""
    index = {t.name: i for i, t in enumerate(ts.transitions)}
    return z3.Or([z3.Not(ts.fires(ts.step_at(j).act, index[s.transition or ""])) for j, s in enumerate(trace.steps[1:])])


def _result(item: _Open, verdict: Verdict, depth: int, trace: Trace | None = None, detail: str = "",
            traces: list[Trace] | None = None) -> PropertyResult:
    return PropertyResult(
        property=item.prop.name, kind=item.prop.kind.value, verdict=verdict, engine=ENGINE, depth=depth,
        seconds=round(item.spent, 3), trace=trace, doc=item.prop.doc, detail=detail, traces=traces or [],
    )
