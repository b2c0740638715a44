"""What a `temporal` formula means on a lasso: one definition for the solver and the interpreter.

A lasso is the states s0 .. s_last where s_loop .. s_last repeat for ever (the infinite run
s0 .. s_last s_loop .. s_last s_loop ...). A run that stops (nothing can fire) is read as its last
state repeating for ever, as TLA+ reads a deadlock as stuttering: loop == last. On such a run every
atom of the fragment (`ir.TemporalOp`) is decided by its predicates' values at the positions
0 .. last: a state of the run is one of them, and the states visited infinitely often are exactly
loop .. last. `value` is written once over a `Logic` so that the lasso search (z3 terms,
engines/liveness.py) and the concrete replay (Python booleans, interp_live.py) cannot disagree
on what a formula means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from tcpspec.checker import ir

B = TypeVar("B")


@dataclass(frozen=True)
class Logic(Generic[B]):
    all: Callable[[Sequence[B]], B]
    any: Callable[[Sequence[B]], B]
    not_: Callable[[B], B]


PYTHON: Logic[bool] = Logic(all=all, any=any, not_=lambda b: not b)


def value(f: ir.Temporal, at: Callable[[ir.Expr, int], B], last: int, loop: int, lg: Logic[B]) -> B:
    """Whether the lasso (positions 0 .. last, loop .. last repeating) satisfies `f`, where
    `at(P, j)` is the value of the state predicate P at position j."""
    op, every = f.op, range(last + 1)
    if op in (ir.TemporalOp.ALWAYS, ir.TemporalOp.EVENTUALLY, ir.TemporalOp.INFINITELY_OFTEN, ir.TemporalOp.PERSISTENT):
        assert f.expr is not None
        where = every if op in (ir.TemporalOp.ALWAYS, ir.TemporalOp.EVENTUALLY) else range(loop, last + 1)
        values = [at(f.expr, j) for j in where]
        return lg.all(values) if op in (ir.TemporalOp.ALWAYS, ir.TemporalOp.PERSISTENT) else lg.any(values)
    if op is ir.TemporalOp.LEADS_TO:  # a P at i needs a Q at i or later; from inside the loop, anywhere in it
        assert f.expr is not None and f.when is not None
        return lg.all([lg.any([lg.not_(at(f.when, i))] + [at(f.expr, j) for j in range(min(i, loop), last + 1)])
                       for i in every])
    args = [value(a, at, last, loop, lg) for a in f.args]
    if op is ir.TemporalOp.NOT:
        return lg.not_(args[0])
    if op is ir.TemporalOp.AND:
        return lg.all(args)
    if op is ir.TemporalOp.OR:
        return lg.any(args)
    assert op is ir.TemporalOp.IMPLIES
    return lg.any([lg.not_(args[0]), args[1]])

