"""Differential tests of the explicit engine (engines/explicit.py) on random small models.

The claim of data independence (engines/seqspace.py) -- a search from ISN 0 answers for every
ISN -- is tested here against BMC, which searches every value of every sequence number
symbolically, and against the explicit search itself with every value enumerated: the same
verdicts, and the same length of every shortest counterexample and witness. The models come
from gen_models.py; `free_seq` gives them free sequence numbers, so that the claim is used.
"""

from __future__ import annotations

import gen_models
from gen_models import COMMON, LONG, load_text
from hypothesis import assume, event, given, settings

from tcpspec.checker import ir
from tcpspec.engines.bmc import run_bmc
from tcpspec.engines.explicit import ExplicitOptions, run_explicit
from tcpspec.core.results import PropertyResult, Verdict

DEPTH = 5


def _lengths(results: list[PropertyResult]) -> dict[str, int | None]:
    """Each property's shortest counterexample/witness length, None when there is none."""
    out: dict[str, int | None] = {}
    for r in results:
        assert r.verdict is not Verdict.UNKNOWN or "timeout" in r.detail, f"{r.property}: {r.detail}"
        found = r.verdict in (Verdict.VIOLATED, Verdict.REACHED)
        out[r.property] = r.trace.length if found and r.trace is not None else None
    return out


def _explicit(model: ir.Model, independence: bool = True) -> tuple[dict[str, int | None], list[PropertyResult]]:
    results = run_explicit(model, list(model.properties), DEPTH, 60.0, ExplicitOptions(independence=independence))
    assume(all(r.verdict is not Verdict.UNKNOWN for r in results))
    return _lengths(results), results


@settings(max_examples=1500 if LONG else 60, **COMMON)  # type: ignore[arg-type]
@given(gen_models.model_text(free_seq=True))
def test_isn_zero_stands_for_every_isn(text: str) -> None:
    """Data independence against the same search over all 16 values of seq4, and against BMC."""
    model = load_text(text)
    got, results = _explicit(model)
    search = results[0].search or {}
    assert search.get("exhaustive"), f"the search sampled: {search.get('sampled')}\n{text}"
    event(f"data independence: {'used' if search.get('independent') else 'not used'}")
    every, _ = _explicit(model, independence=False)
    assert got == every, f"ISN 0: {got} vs every ISN: {every}\n{text}"
    for theory in ("int", "bv"):
        bmc = run_bmc(model, list(model.properties), DEPTH, 20.0, theory)
        assume(all(r.verdict is not Verdict.UNKNOWN for r in bmc))
        assert _lengths(bmc) == got, f"theory {theory}: BMC {_lengths(bmc)} vs explicit {got}\n{text}"


@settings(max_examples=600 if LONG else 60, **COMMON)  # type: ignore[arg-type]
@given(gen_models.model_text())
def test_explicit_engine_agrees_with_bmc(text: str) -> None:
    """The engine as the CLI runs it (constants in the sequence space: opaque, read, searched
    again) against BMC."""
    model = load_text(text)
    got, _ = _explicit(model)
    bmc = run_bmc(model, list(model.properties), DEPTH, 20.0, "int")
    assume(all(r.verdict is not Verdict.UNKNOWN for r in bmc))
    assert _lengths(bmc) == got, f"BMC {_lengths(bmc)} vs explicit {got}\n{text}"
