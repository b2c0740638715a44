"""Lasso BMC against an explicit graph search: on random small models (gen_models.py) with a
random `eventually` goal (and, half of the time, weak fairness on one transition), the shortest counterexample BMC finds has the length of
the shortest one in the explicit state graph: a path through goal-free states to a state with no
successor, or to a goal-free cycle that takes the fair transition or passes a state where it is
disabled (prefix + cycle). None within the bound means none that short.
CI runs a fixed, derandomized sample; `TCPSPEC_LONG=1` runs many more."""

from __future__ import annotations

from collections import deque

import gen_models
from gen_models import COMMON, LONG, load_text
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tcpspec.checker import ir
from tcpspec.engines.liveness import run_liveness
from tcpspec.interp.evaluate import Env, as_bool, eval_expr
from tcpspec.interp.values import freeze
from tcpspec.interp.semantics import initial_states, is_exhaustive, successors
from tcpspec.core.results import Verdict

DEPTH = 4
MAX_STATES = 3000


def _graph(model: ir.Model) -> tuple[dict, dict, list]:  # type: ignore[type-arg]
    """Every reachable state (by in-range steps): frozen key -> state, key -> (transition name,
    successor key) pairs (None: nothing can fire there), and the initial keys."""
    states, succ = {}, {}
    init = []
    todo = deque()
    for s in initial_states(model):
        k = freeze(s)
        if k not in states:
            states[k] = s
            init.append(k)
            todo.append(k)
    while todo:
        k = todo.popleft()
        steps = list(successors(model, states[k]))
        succ[k] = None if not steps else []
        for st_ in steps:
            if not st_.outcome.range_ok or st_.outcome.state is None:
                continue
            n = freeze(st_.outcome.state)
            succ[k].append((st_.transition.name, n))
            if n not in states:
                states[n] = st_.outcome.state
                todo.append(n)
        assume(len(states) <= MAX_STATES)
    return states, succ, init


def _shortest_counterexample(model: ir.Model, goal: ir.Expr, fair: str | None, bound: int) -> int | None:
    """The shortest stopped run or lasso through goal-free states, if one has at most `bound`
    steps; with `fair` (a weakly fair transition), a lasso's loop must take it or pass a state
    where it is disabled."""
    states, succ, init = _graph(model)
    good = {k for k, s in states.items() if not as_bool(eval_expr(goal, Env(pre=s)))}
    fair_t = model.transition(fair) if fair is not None else None
    off = _Off(model, states, fair_t)
    dist: dict = {}
    todo = deque()
    for k in init:
        if k in good and k not in dist:
            dist[k] = 0
            todo.append(k)
    while todo:
        k = todo.popleft()
        for _, n in succ[k] or []:
            if n in good and n not in dist:
                dist[n] = dist[k] + 1
                todo.append(n)
    best: int | None = None
    for k, d in dist.items():
        if succ[k] is None:  # a stopped run
            best = d if best is None else min(best, d)
            continue
        if d >= bound:
            continue
        cycle = _shortest_cycle(k, succ, good, off, fair, bound - d)
        if cycle is not None:
            best = d + cycle if best is None else min(best, d + cycle)
    return best


class _Off(dict):  # type: ignore[type-arg]
    """`fair` is disabled in state k: no parameter values let it fire (range violations count as
    firing). Computed on demand: most states are never asked about."""

    def __init__(self, model: ir.Model, states: dict, t: ir.AnyTransition | None) -> None:  # type: ignore[type-arg]
        super().__init__()
        self.states, self.t = states, t

    def __missing__(self, k: object) -> bool:
        from tcpspec.interp.live import enabled

        self[k] = self.t is not None and enabled(self.t, self.states[k]) is False
        return self[k]


def _shortest_cycle(k: object, succ: dict, good: set, off: dict, fair: str | None,  # type: ignore[type-arg]
                    limit: int) -> int | None:
    """Breadth-first over (state, loop already fair) from k back to k, through goal-free states,
    cycles of at most `limit` steps."""
    start = (k, fair is None or off[k])
    seen = {start: 0}
    todo = deque([start])
    while todo:
        m, ok = todo.popleft()
        for t, n in succ[m] or []:
            if n not in good:
                continue
            nok = ok or t == fair or off[n]
            if n == k and nok:
                return seen[(m, ok)] + 1
            if (n, nok) not in seen and seen[(m, ok)] + 1 < limit:
                seen[(n, nok)] = seen[(m, ok)] + 1
                todo.append((n, nok))
    return None


@st.composite
def live_model(draw: st.DrawFn) -> str:
    goal = gen_models._qualify(draw(gen_models.bool_expr()))
    fair = "fair p.t0;\n" if draw(st.booleans()) else ""
    return draw(gen_models.model_text()) + fair + f"eventually live: {goal};\n"


@settings(max_examples=400 if LONG else 40, **COMMON)  # type: ignore[arg-type]
@given(live_model())
def test_shortest_lasso_agrees_with_explicit_graph(text: str) -> None:
    model = load_text(text)
    assume(is_exhaustive(model))
    prop = model.property("live")
    want = _shortest_counterexample(model, prop.expr, "p.t0" if model.fairness else None, DEPTH)
    if want is not None and want > DEPTH:
        want = None
    for theory in ("int", "bv"):
        (r,) = run_liveness(model, [prop], DEPTH, 20.0, theory)
        assume(r.verdict is not Verdict.UNKNOWN)
        got = r.trace.length if r.verdict is Verdict.VIOLATED and r.trace is not None else None
        assert got == want, f"theory {theory}: lasso BMC {got} vs explicit graph {want}\n{text}"
