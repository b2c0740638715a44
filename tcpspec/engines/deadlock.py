"""Deadlock freedom as a built-in property: `tcpspec check --deadlock` adds `deadlock_free`.

A deadlock is a reachable state in which no transition (process or network) can fire and no
`final` predicate accepts the state. BMC looks for the shortest run to one (`bad` below is
what the run must end in); the interpreter confirms it (`tcpspec.interp.live`).
"""

from __future__ import annotations

import z3

from tcpspec.encoding import encoder as enc
from tcpspec.checker import ir
from tcpspec.core.diagnostics import Span
from tcpspec.encoding.encoder import Env
from tcpspec.encoding.transition_system import TransitionSystem
from tcpspec.core.types import BOOL

DEADLOCK_FREE = "deadlock_free"
DEADLOCK_DOC = (
    "Every reachable state has a successor, unless a `final` predicate accepts it."
)


def deadlock_property(model: ir.Model) -> ir.Property:
    """The built-in property; its span is the model's first line (it is nobody's text)."""
    span = Span(model.path, 1, 1)
    return ir.Property(DEADLOCK_FREE, ir.PropertyKind.DEADLOCK, ir.Lit(True, BOOL, span), span, DEADLOCK_DOC)


def with_deadlock(model: ir.Model) -> ir.Property:
    """Add `deadlock_free` to the model (once) and return it: engines look properties up by name."""
    for p in model.properties:
        if p.kind is ir.PropertyKind.DEADLOCK:
            return p
    prop = deadlock_property(model)
    model.properties.append(prop)
    return prop


def final_at(ts: TransitionSystem, k: int) -> z3.BoolRef:
    """State k is accepted as an end state (see `ir.Final`); false when the model has no finals."""
    env = Env(th=ts.th, pre=ts.state_at(k))

    def holds(f: ir.Final) -> z3.BoolRef:
        value = enc.eval_expr(f.expr, env)
        assert isinstance(value, z3.BoolRef)
        return value

    accept = [holds(f) for f in ts.model.finals if f.instance is None]
    instances = list(dict.fromkeys(f.instance for f in ts.model.finals if f.instance is not None))
    if instances:
        accept.append(z3.And([z3.Or([holds(f) for f in ts.model.finals if f.instance == i]) for i in instances]))
    return z3.Or(accept) if accept else z3.BoolVal(False)


def deadlocked_at(ts: TransitionSystem, k: int) -> z3.BoolRef:
    """State k has no successor and is not final."""
    stuck = [ts.disabled_at(i, k) for i in range(len(ts.transitions))]
    return z3.And(stuck + [z3.Not(final_at(ts, k))])
