"""Differential testing: on random small models, the symbolic engines and the explicit-state
search must agree on every verdict and on the length of every shortest counterexample/witness.

The explicit search (`interp_search.explore`) shares no code with the Z3 encoder; the models
come from `gen_models.py`. CI runs a fixed, derandomized sample; `TCPSPEC_LONG=1` runs thousands.
"""

from __future__ import annotations

import gen_models
from gen_models import COMMON, LONG, load_text
from hypothesis import assume, given, settings

from tcpspec.checker import ir
from tcpspec.engines.bmc import run_bmc
from tcpspec.engines.prover import prove
from tcpspec.interp.search import explore
from tcpspec.core.results import Verdict

DEPTH = 5


def _reference(model: ir.Model, depth: int) -> dict[str, int | None]:
    res = explore(model, depth, max_states=200_000)
    assume(res.exhaustive)  # every value enumerated, nothing cut: a None is a real "none"
    return {name: (None if t is None else t.length) for name, t in res.traces.items()}


@settings(max_examples=3000 if LONG else 150, **COMMON)  # type: ignore[arg-type]
@given(gen_models.model_text())
def test_bmc_agrees_with_explicit_search(text: str) -> None:
    model = load_text(text)
    want = _reference(model, DEPTH)
    for theory in ("int", "bv"):
        got: dict[str, int | None] = {}
        results = run_bmc(model, list(model.properties), DEPTH, 20.0, theory)
        # A solver timeout is not a disagreement, and one slow example must not stall CI.
        assume(all(r.verdict is not Verdict.UNKNOWN for r in results))
        for r in results:
            got[r.property] = r.trace.length if r.verdict in (Verdict.VIOLATED, Verdict.REACHED) and r.trace else None
        assert got == want, f"theory {theory}: engines {got} vs explicit search {want}\n{text}"


@settings(max_examples=400 if LONG else 20, **COMMON)  # type: ignore[arg-type]
@given(gen_models.model_text())
def test_a_proof_is_never_contradicted_by_the_search(text: str) -> None:
    model = load_text(text)
    res = explore(model, 12, max_states=200_000)
    assume(res.exhaustive)
    props = [p for p in model.properties if p.kind is not ir.PropertyKind.REACHABLE]
    for name, outcome in prove(model, props, 60).items():
        if outcome.proved:
            assert res.traces[name] is None, f"{name} proved, but the search violates it:\n{text}"


@settings(max_examples=1000 if LONG else 30, **COMMON)  # type: ignore[arg-type]
@given(gen_models.family_model_text())
def test_bmc_agrees_with_explicit_search_on_families(text: str) -> None:
    """Families expand into instances and dynamic indices into if-chains in the checker: the
    encoder and the interpreter read the same expansion, so this checks the expansion's
    consumers, and the search shares nothing with Z3."""
    model = load_text(text)
    want = _reference(model, 4)
    for theory in ("int", "bv"):
        results = run_bmc(model, list(model.properties), 4, 20.0, theory)
        assume(all(r.verdict is not Verdict.UNKNOWN for r in results))
        got = {r.property: r.trace.length if r.verdict in (Verdict.VIOLATED, Verdict.REACHED) and r.trace else None
               for r in results}
        assert got == want, f"theory {theory}: engines {got} vs explicit search {want}\n{text}"
