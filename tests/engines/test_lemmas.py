"""Candidate lemmas and their filtering by simulated states (engines/lemmas.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


from tcpspec.interp import evaluate, values
from tcpspec.engines import lemmas as lm
from tcpspec.run.pipeline import load_model

ROOT = Path(__file__).resolve().parents[2]
MODELS = ["seed_handshake", "abp", "two_phase_commit", "tls13_handshake", "tcp"]


@pytest.mark.parametrize("name", MODELS)
def test_compiled_expressions_evaluate_as_the_interpreter_does(name: str) -> None:
    """compile_expr is eval_expr without the per-node dispatch: same values on every candidate
    and property, in states that make many candidates false."""
    model = load_model(str(ROOT / "models" / f"{name}.tcpspec"))
    states = lm.sample_states(model, seconds=5.0, limit=300)
    exprs = [c.expr for c in lm.generate(model)] + [p.expr for p in model.properties if p.over_states]
    assert states and exprs
    outcomes = set()
    for state in states[::3]:
        env = evaluate.Env(pre=state)
        for e in exprs:
            value = evaluate.eval_expr(e, env)
            assert values.same(evaluate.compile_expr(e)(env), value), lm.show(e)
            outcomes.add(value)
    assert {True, False} <= outcomes


@pytest.mark.parametrize("name", MODELS)
def test_the_filter_keeps_exactly_what_every_sampled_state_satisfies(name: str) -> None:
    """sample_filter evaluates each candidate once per distinct value of what it reads: the
    survivors must be those that hold in every state, evaluated state by state."""
    model = load_model(str(ROOT / "models" / f"{name}.tcpspec"))
    states = lm.sample_states(model, seconds=5.0, limit=400)
    cands = lm.generate(model)
    naive = [c for c in cands if all(evaluate.eval_expr(c.expr, evaluate.Env(pre=s)) is True for s in states)]
    kept = lm.sample_filter(model, cands, states)
    assert [c.name for c in kept] == [c.name for c in naive]
    assert len(kept) < len(cands)  # the filter is doing something on every model
