"""The interpreter's counterexamples to induction (engines/concrete_ctis.py) and what they do
to Houdini: fewer solver rounds, the same survivors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.interp import semantics as interp

from tcpspec.checker import ir
from tcpspec.engines import houdini as hd
from tcpspec.solving.budget import Budget
from tcpspec.engines.concrete_ctis import explore
from tcpspec.engines.lemmas import CandidateEvaluator
from tcpspec.run.pipeline import load_model

ROOT = Path(__file__).resolve().parents[2]
COUNTERS = (ROOT / "tests" / "data" / "counters.tcpspec").read_text()
EXTRA = "invariant not_two: p.x != 2;\ninvariant y_small: p.y <= 3;\n"


def _search(tmp_path: Path, start: dict[str, object], max_states: int = 50):  # type: ignore[no-untyped-def]
    """The counters' three invariants as candidates, searched from `start`: (found, alive, model)."""
    path = tmp_path / "c.tcpspec"
    path.write_text(COUNTERS + EXTRA)
    m = load_model(str(path))
    exprs = {p.name: p.expr for p in m.properties if p.kind is ir.PropertyKind.INVARIANT}
    alive: set[object] = set(exprs)
    found = explore(m, start, CandidateEvaluator(exprs), alive, seconds=5.0, max_states=max_states)  # type: ignore[arg-type]
    return found, alive, m


def test_a_step_from_the_start_breaks_a_candidate_and_the_search_goes_on(tmp_path: Path) -> None:
    # x = 3, y = 0 satisfies all three; tick gives x = 4: x_small breaks. From x = 4 on, x never
    # meets 2 again and y stops at 3, so the other two survive the search.
    found, alive, m = _search(tmp_path, {"p.x": 3, "p.y": 0})
    assert [c.broken for c in found] == [{"x_small"}]
    assert alive == {"not_two", "y_small"}
    trace = found[0].trace()
    assert trace.steps[1].transition == "p.tick" and trace.steps[1].state == {"p.x": 4, "p.y": 1}
    assert trace.steps[1].changed == ["p.x", "p.y"]
    # the step is the interpreter's own
    assert interp.apply(m, trace.steps[0].state, "p.tick", {}).state == trace.steps[1].state


def test_the_search_goes_breadth_first_and_names_the_state_before_the_break(tmp_path: Path) -> None:
    """From the initial state, not_two (no invariant at all) breaks two steps later."""
    found, alive, _ = _search(tmp_path, {"p.x": 0, "p.y": 0})
    assert [c.broken for c in found] == [{"not_two"}]
    assert found[0].pre == {"p.x": 1, "p.y": 1}
    assert alive == {"x_small", "y_small"}


def test_budget_of_no_states_finds_nothing(tmp_path: Path) -> None:
    found, alive, _ = _search(tmp_path, {"p.x": 3, "p.y": 0}, max_states=0)
    assert found == [] and alive == {"x_small", "not_two", "y_small"}


@pytest.mark.parametrize("name", ["seed_handshake", "abp", "two_phase_commit", "tls13_handshake"])
def test_houdini_keeps_the_same_survivors_with_and_without_them(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Houdini's answer is the largest inductive subset of the candidates, whatever the order
    of the drops: the interpreter's counterexamples may only save rounds."""
    m = load_model(str(ROOT / "models" / f"{name}.tcpspec"))
    with_ctis = hd.houdini(m, Budget(300))
    monkeypatch.setattr(hd, "CTI_STATES", 0)
    without = hd.houdini(m, Budget(300))
    assert with_ctis[3] == without[3] == ""
    assert sorted(c.name for c in with_ctis[0]) == sorted(c.name for c in without[0])
    assert sorted(p.name for p in with_ctis[1]) == sorted(p.name for p in without[1])
    assert without[2].concrete_drops == 0
    if with_ctis[2].concrete_drops:
        assert with_ctis[2].rounds < without[2].rounds
