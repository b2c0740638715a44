"""Differential testing: on random small models, the symbolic engines and the explicit-state
search must agree on every verdict and on the length of every shortest counterexample/witness.

The explicit search (`interp_search.explore`) shares no code with the Z3 encoder; the models
come from `gen_models.py`. CI runs a fixed, derandomized sample; `TCPSPEC_LONG=1` runs thousands.
"""

from __future__ import annotations

import os
import tempfile

import gen_models
from hypothesis import HealthCheck, assume, given, settings

from tcpspec import ir
from tcpspec.engines.bmc import run_bmc
from tcpspec.engines.kind import prove
from tcpspec.interp_search import explore
from tcpspec.pipeline import load_model
from tcpspec.results import Verdict

LONG = os.environ.get("TCPSPEC_LONG") == "1"
DEPTH = 5
COMMON = dict(deadline=None, derandomize=not LONG, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _load(text: str) -> ir.Model:
    with tempfile.NamedTemporaryFile("w", suffix=".tcpspec", delete=False, encoding="utf-8") as f:
        f.write(text)
    try:
        return load_model(f.name)
    finally:
        os.unlink(f.name)


def _reference(model: ir.Model, depth: int) -> dict[str, int | None]:
    res = explore(model, depth, max_states=200_000)
    assume(res.exhaustive)  # every value enumerated, nothing cut: a None is a real "none"
    return {name: (None if t is None else t.length) for name, t in res.traces.items()}


@settings(max_examples=3000 if LONG else 300, **COMMON)  # type: ignore[arg-type]
@given(gen_models.model_text())
def test_bmc_agrees_with_explicit_search(text: str) -> None:
    model = _load(text)
    want = _reference(model, DEPTH)
    for theory in ("int", "bv"):
        got: dict[str, int | None] = {}
        results = run_bmc(model, list(model.properties), DEPTH, 20.0, theory)
        # A solver timeout is not a disagreement, and one slow example must not stall CI.
        assume(all(r.verdict is not Verdict.UNKNOWN for r in results))
        for r in results:
            got[r.property] = r.trace.length if r.verdict in (Verdict.VIOLATED, Verdict.REACHED) and r.trace else None
        assert got == want, f"theory {theory}: engines {got} vs explicit search {want}\n{text}"


@settings(max_examples=400 if LONG else 40, **COMMON)  # type: ignore[arg-type]
@given(gen_models.model_text())
def test_a_proof_is_never_contradicted_by_the_search(text: str) -> None:
    model = _load(text)
    res = explore(model, 12, max_states=200_000)
    assume(res.exhaustive)
    props = [p for p in model.properties if p.kind is not ir.PropertyKind.REACHABLE]
    for name, outcome in prove(model, props, 60).items():
        if outcome.proved:
            assert res.traces[name] is None, f"{name} proved, but the search violates it:\n{text}"
