"""Concrete checks for deadlocks and lassos, on the semantics of `tcpspec.interp.semantics` (no z3).

Symbolic deadlocks and lasso-shaped liveness counterexamples pass through here before they are
reported: the run replays step by step (`interp_search`), and then what makes it a
counterexample is checked on the concrete states: nothing can fire in the last state (deadlock);
the last state is the loop state again, the goal is missed, and every fair transition is taken
or disabled in the loop (liveness).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from tcpspec.checker import ir, ltl
from tcpspec.interp.evaluate import Env, as_bool, eval_expr
from tcpspec.interp.values import all_values, cardinality, default_sample, same
from tcpspec.interp.semantics import state_keys, take
from tcpspec.core.results import steps
from tcpspec.core.trace import Trace
from tcpspec.core.types import Value

State = Mapping[str, Value | list[Value]]
ENUMERATE_LIMIT = 1 << 17  # parameter combinations tried one by one; more: a sample (undecided)


def enabled(t: ir.AnyTransition, state: State) -> bool | None:
    """Whether some parameter values let `t` fire in `state`; None when the parameters were
    too many to try all and none of the sampled ones worked (undecided)."""
    if isinstance(t, ir.NetworkTransition) and t.kind == "injection":
        exhaustive = True  # enabled iff the channel has room: any message will do
        choices = [[default_sample(pt)[0]] for _, pt in t.params]
    else:
        combos = 1
        for _, pt in t.params:
            combos *= cardinality(pt)
        exhaustive = combos <= ENUMERATE_LIMIT
        choices = [all_values(pt) if exhaustive else default_sample(pt) for _, pt in t.params]
    names = [p for p, _ in t.params]
    for combo in itertools.product(*choices):
        if take(t, state, dict(zip(names, combo))).enabled:
            return True
    return False if exhaustive else None


def is_final(model: ir.Model, state: State) -> bool:
    """The concrete twin of `engines.deadlock.final_at`."""
    def holds(f: ir.Final) -> bool:
        return as_bool(eval_expr(f.expr, Env(pre=state)))

    if any(holds(f) for f in model.finals if f.instance is None):
        return True
    instances = list(dict.fromkeys(f.instance for f in model.finals if f.instance is not None))
    return bool(instances) and all(any(holds(f) for f in model.finals if f.instance == i) for i in instances)


def deadlock_problem(model: ir.Model, state: State) -> str | None:
    """Why `state` is not a confirmed deadlock, or None when it is one."""
    if is_final(model, state):
        return "the last state is final"
    for t in model.transitions:
        e = enabled(t, state)
        if e is None:
            return f"{t.name} may be enabled in the last state (its parameters are too many to try)"
        if e:
            return f"{t.name} is enabled in the last state"
    return None


# ---------------------------------------------------------------- lassos


def holds(expr: ir.Expr, state: State) -> bool:
    return as_bool(eval_expr(expr, Env(pre=state)))


def same_state(model: ir.Model, a: State, b: State) -> bool:
    return all(same(a[k], b[k]) for k in state_keys(model))


def lasso_problem(model: ir.Model, trace: Trace, prop: ir.Property) -> str | None:
    """Why a replayed lasso is not a counterexample of the liveness property `prop`, or None.

    The loop is steps[loop] .. steps[-1], and steps[-1] is the state steps[loop] again; the
    loop's states are steps[loop .. n-1] and its transitions those of steps[loop+1 .. n].
    """
    n, loop = trace.length, trace.loop
    states = [s.state for s in trace.steps]
    if loop is None:  # a stopped run: nothing can fire in its last state
        for t in model.transitions:
            e = enabled(t, states[n])
            if e is not False:
                return f"{t.name} {'is' if e else 'may be'} enabled in the last state: the run does not stop"
        return _goal_problem(prop, states, n + 1, n)
    if not 0 <= loop < n:
        return f"not a lasso (loop index {loop}, {steps(n)})"
    if not same_state(model, states[n], states[loop]):
        return f"the last state is not state {loop} again: the loop does not close"
    return _goal_problem(prop, states, n, loop) or fairness_problem(model, trace)


def _goal_problem(prop: ir.Property, states: Sequence[State], count: int, loop: int) -> str | None:
    """The goal is missed after a trigger, over states[:count] (a trigger in the loop, from `loop`);
    a `temporal` formula is false on states[:count] with states[loop:count] repeating."""
    if prop.kind is ir.PropertyKind.TEMPORAL:
        assert prop.formula is not None
        if ltl.value(prop.formula, lambda e, j: holds(e, states[j]), count - 1, loop, ltl.PYTHON):
            return f"the run satisfies the formula of {prop.name}"
        return None
    goal = [holds(prop.expr, s) for s in states[:count]]
    if prop.kind is ir.PropertyKind.EVENTUALLY:
        return None if not any(goal) else f"the goal of {prop.name} holds at step {goal.index(True)}"
    assert prop.when is not None
    trig = [holds(prop.when, s) for s in states[:count]]
    if any(t and not any(goal[min(i, loop):]) for i, t in enumerate(trig)):
        return None
    return f"no state where the left side of {prop.name} holds is followed only by states missing its goal"


def fairness_problem(model: ir.Model, trace: Trace) -> str | None:
    """Every fair transition is taken in the loop, or (weak) disabled in some loop state or
    (strong) disabled in every loop state."""
    n, loop = trace.length, trace.loop
    assert loop is not None
    taken = {s.transition for s in trace.steps[loop + 1:]}
    for name, strength in model.fairness.items():
        if name in taken:
            continue
        t = model.transition(name)
        en = [enabled(t, s.state) for s in trace.steps[loop:n]]
        if None in en:
            return f"cannot decide whether fair {name} is enabled in the loop (too many parameters)"
        if strength == "weak" and all(en):
            return f"weakly fair {name} is enabled throughout the loop but never taken"
        if strength == "strong" and any(en):
            return f"strongly fair {name} is enabled in the loop but never taken"
    return None
