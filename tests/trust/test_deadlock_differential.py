"""`--deadlock` against a brute-force search: on random small models (gen_models.py), the
shortest run BMC finds to a state without successor has the length the explicit breadth-first
search finds, in both number theories, and none is found when the search finds none.
CI runs a fixed, derandomized sample; `TCPSPEC_LONG=1` runs many more."""

from __future__ import annotations

import gen_models
from gen_models import COMMON, LONG, load_text
from hypothesis import assume, given, settings

from tcpspec.checker import ir
from tcpspec.engines.bmc import run_bmc
from tcpspec.engines.deadlock import with_deadlock
from tcpspec.interp.values import freeze
from tcpspec.interp.semantics import initial_states, is_exhaustive, successors
from tcpspec.core.results import Verdict

DEPTH = 4


def _first_stuck_depth(model: ir.Model, depth: int) -> int | None:
    """Breadth-first over in-range steps (a range-violating step ends a run: BMC does the same);
    the first level holding a state where nothing can fire."""
    level = initial_states(model)
    seen = {freeze(s) for s in level}
    for d in range(depth + 1):
        nxt = []
        for s in level:
            steps = list(successors(model, s))
            if not steps:
                return d
            for st in steps:
                if st.outcome.range_ok and st.outcome.state is not None and freeze(st.outcome.state) not in seen:
                    seen.add(freeze(st.outcome.state))
                    nxt.append(st.outcome.state)
        level = nxt
        assume(len(seen) < 50_000)
    return None


@settings(max_examples=600 if LONG else 60, **COMMON)  # type: ignore[arg-type]
@given(gen_models.model_text())
def test_deadlock_depth_agrees_with_explicit_search(text: str) -> None:
    model = load_text(text)
    assume(is_exhaustive(model))
    want = _first_stuck_depth(model, DEPTH)
    prop = with_deadlock(model)
    for theory in ("int", "bv"):
        (r,) = run_bmc(model, [prop], DEPTH, 20.0, theory)
        assume(r.verdict is not Verdict.UNKNOWN)
        got = r.trace.length if r.verdict is Verdict.VIOLATED and r.trace is not None else None
        assert got == want, f"theory {theory}: BMC {got} vs explicit search {want}\n{text}"
