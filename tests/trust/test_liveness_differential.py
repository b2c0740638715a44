"""Lasso BMC against an explicit graph search: on random small models (gen_models.py) with a
random `eventually` goal (no fairness), the shortest counterexample BMC finds has the length of
the shortest one in the explicit state graph: a path through goal-free states to a state with no
successor, or to a goal-free cycle (prefix + cycle). None within the bound means none that short.
CI runs a fixed, derandomized sample; `TCPSPEC_LONG=1` runs many more."""

from __future__ import annotations

import os
import tempfile
from collections import deque

import gen_models
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tcpspec import ir
from tcpspec.engines.liveness import run_liveness
from tcpspec.interp import Env, _bool, eval_expr, freeze, initial_states, is_exhaustive, successors
from tcpspec.pipeline import load_model
from tcpspec.results import Verdict

LONG = os.environ.get("TCPSPEC_LONG") == "1"
DEPTH = 4
MAX_STATES = 3000
COMMON = dict(deadline=None, derandomize=not LONG, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _load(text: str) -> ir.Model:
    with tempfile.NamedTemporaryFile("w", suffix=".tcpspec", delete=False, encoding="utf-8") as f:
        f.write(text)
    try:
        return load_model(f.name)
    finally:
        os.unlink(f.name)


def _graph(model: ir.Model) -> tuple[dict, dict, list]:  # type: ignore[type-arg]
    """Every reachable state (by in-range steps): frozen key -> state, key -> successor keys
    (None: nothing can fire there), and the initial keys."""
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
            succ[k].append(n)
            if n not in states:
                states[n] = st_.outcome.state
                todo.append(n)
        assume(len(states) <= MAX_STATES)
    return states, succ, init


def _shortest_counterexample(model: ir.Model, goal: ir.Expr) -> int | None:
    states, succ, init = _graph(model)
    good = {k for k, s in states.items() if not _bool(eval_expr(goal, Env(pre=s)))}
    dist: dict = {}
    todo = deque()
    for k in init:
        if k in good and k not in dist:
            dist[k] = 0
            todo.append(k)
    while todo:
        k = todo.popleft()
        for n in succ[k] or []:
            if n in good and n not in dist:
                dist[n] = dist[k] + 1
                todo.append(n)
    best: int | None = None
    for k, d in dist.items():
        if succ[k] is None:  # a stopped run
            best = d if best is None else min(best, d)
            continue
        back = {n: 1 for n in succ[k] if n in good}  # shortest goal-free cycle through k
        todo = deque(back)
        cycle = back.get(k)
        while todo and cycle is None:
            m = todo.popleft()
            for n in succ[m] or []:
                if n in good and n not in back:
                    back[n] = back[m] + 1
                    if n == k:
                        cycle = back[n]
                        break
                    todo.append(n)
        if cycle is not None:
            best = d + cycle if best is None else min(best, d + cycle)
    return best


@st.composite
def live_model(draw: st.DrawFn) -> str:
    goal = gen_models._qualify(draw(gen_models.bool_expr()))
    return draw(gen_models.model_text()) + f"eventually live: {goal};\n"


@settings(max_examples=400 if LONG else 40, **COMMON)  # type: ignore[arg-type]
@given(live_model())
def test_shortest_lasso_agrees_with_explicit_graph(text: str) -> None:
    model = _load(text)
    assume(is_exhaustive(model))
    prop = model.property("live")
    want = _shortest_counterexample(model, prop.expr)
    if want is not None and want > DEPTH:
        want = None
    for theory in ("int", "bv"):
        (r,) = run_liveness(model, [prop], DEPTH, 20.0, theory)
        assume(r.verdict is not Verdict.UNKNOWN)
        got = r.trace.length if r.verdict is Verdict.VIOLATED and r.trace is not None else None
        assert got == want, f"theory {theory}: lasso BMC {got} vs explicit graph {want}\n{text}"
