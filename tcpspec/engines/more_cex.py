"""`--max-cex N`: more counterexamples for a violated property, each a different run.

The first counterexample comes from whichever engine found it. This pass unrolls the model
again, to the first trace's length and on to the bound, and asks for further runs that end in
a violation and do not violate earlier (each is a shortest run to *its* violation), blocking the
transition sequence of every run found so far: `Or_j(act_j != found_j)`. Parameter values
alone never make a new counterexample. Every run is replayed before it is reported.
"""

from __future__ import annotations

from dataclasses import replace

import z3

from tcpspec.checker import ir
from tcpspec.engines.bad_states import bad_at, range_assumption
from tcpspec.solving.budget import Budget
from tcpspec.engines.common import extract_trace, prefer_small_values, replay_or_explain
from tcpspec.solving.query import check
from tcpspec.core.results import PropertyResult, Verdict
from tcpspec.encoding.theories import choose_theory
from tcpspec.core.trace import Trace
from tcpspec.encoding.transition_system import TransitionSystem


def add_counterexamples(
    model: ir.Model, results: list[PropertyResult], n: int, depth: int, timeout: float | None, theory: str = "auto",
) -> list[PropertyResult]:
    """Fill `traces` (first trace first) of every violated invariant, step or deadlock result."""
    out: list[PropertyResult] = []
    for r in results:
        prop = model.property(r.property)
        if prop.kind in ir.LIVENESS_KINDS:
            pass  # the liveness engine collects its own (engines/liveness.py)
        elif r.verdict is Verdict.VIOLATED and r.trace is not None and not r.traces:
            more = more_traces(model, prop, r.trace, n - 1, max(depth, r.trace.length), Budget(timeout), theory)
            r = replace(r, traces=[r.trace] + more)
        out.append(r)
    return out


def more_traces(
    model: ir.Model, prop: ir.Property, first: Trace, n: int, depth: int, budget: Budget, theory: str = "auto",
) -> list[Trace]:
    """Up to `n` further counterexamples of `prop`, of lengths first.length .. depth, shortest first."""
    ts = TransitionSystem(model, choose_theory(model, theory))
    solver = ts.th.solver()
    solver.add(ts.init())
    found: list[Trace] = [first]
    for k in range(depth + 1):
        if k >= first.length:
            _collect(solver, ts, prop, k, n + 1, found, budget)
        if len(found) > n or budget.expired or k == depth:
            break
        if k >= 1:
            solver.add(ts.step_at(k - 1).range_ok)
        step = ts.step_at(k)
        solver.add(step.trans, z3.Implies(step.range_ok, ts.well_formed(k + 1)))
    return found[1:]


def _collect(solver: z3.Solver, ts: TransitionSystem, prop: ir.Property, k: int, want: int,
             found: list[Trace], budget: Budget) -> None:
    """Runs of exactly k steps that violate `prop` first at their end, new action sequences."""
    bad = bad_at(ts, prop, k)
    if bad is None:
        return
    fine_before = [z3.Not(b) for j in range(k) if (b := bad_at(ts, prop, j)) is not None]
    base = range_assumption(ts, prop, k) + fine_before + [bad]
    while len(found) < want and not budget.expired:
        assumptions = base + [_differs(ts, t, k) for t in found if t.length == k]
        if check(solver, assumptions, budget).result != z3.sat:
            return
        zm = prefer_small_values(solver, ts, k, assumptions, budget)
        trace = extract_trace(zm, ts, k)
        if replay_or_explain(ts.model, trace, prop) is not None:
            return  # never report a run the concrete semantics rejects
        found.append(trace)


def _differs(ts: TransitionSystem, trace: Trace, k: int) -> z3.BoolRef:
    """Some step of the k-step run takes another transition than `trace` does."""
    index = {t.name: i for i, t in enumerate(ts.transitions)}
    steps = trace.steps[1:]
    return z3.Or([z3.Not(ts.fires(ts.step_at(j).act, index[s.transition or ""])) for j, s in enumerate(steps)])
