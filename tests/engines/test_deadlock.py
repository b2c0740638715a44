"""`--deadlock` (engines/deadlock.py): the shortest run to a stuck, non-final state, confirmed
on the interpreter; `final` predicates accept end states; parameters too many to enumerate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.cli import main
from tcpspec.engines.deadlock import DEADLOCK_FREE, with_deadlock
from tcpspec.interp.search import replay
from tcpspec.interp.semantics import successors
from tcpspec.interp.live import deadlock_problem
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict

ROOT = Path(__file__).resolve().parents[2]

# a sends a number; b echoes it; a finishes only on a number above 1: with 0 or 1 both wait forever.
HANDOFF = """
const ACCEPT_WAIT = false;
enum S { START, WAIT, DONE }
message M { v: 0..3 }
channel ab: M[1];
channel ba: M[1];
process A(out: chan M, inbox: chan M) {
  var s: S = START;
  transition go choose n: 0..3 when s == START { send out M { v: n }; s := WAIT; }
  transition got receive m from inbox when s == WAIT && m.v > 1 { s := DONE; }
  final done: s == DONE;
}
process B(inbox: chan M, out: chan M) {
  var s: S = START;
  transition reply receive m from inbox when s == START { send out M { v: m.v }; s := DONE; }
  final done: s == DONE;
}
instance a = A(out: ab, inbox: ba);
instance b = B(inbox: ab, out: ba);
final waiting_is_fine: ACCEPT_WAIT && a.s == WAIT;
"""

# A counter stepped by a transition whose parameter has 65536 values (a quantified check).
WIDE = """
const LIMIT = 3;
process P() {
  var x: 0..5 = 0;
  transition tick choose n: bv16 when x < LIMIT && n == 0x1234 { x := x + 1; }
}
instance p = P();
"""


def _model(tmp_path: Path, text: str, name: str = "m.tcpspec", defines: dict[str, str] | None = None) -> ir.Model:
    path = tmp_path / name
    path.write_text(text)
    return load_model(str(path), defines)


def _check(model: ir.Model, depth: int, engine: str = "bmc", theory: str = "auto"):  # type: ignore[no-untyped-def]
    opts = CheckOptions(properties=(DEADLOCK_FREE,), depth=depth, engine=engine, theory=theory, deadlock=True, timeout=60)
    with_deadlock(model)
    (res,) = check_model(model, opts)
    return res


@pytest.mark.parametrize("theory", ["int", "bv"])
def test_shortest_deadlock_found_and_replayed(tmp_path: Path, theory: str) -> None:
    m = _model(tmp_path, HANDOFF)
    res = _check(m, 6, theory=theory)
    assert res.verdict is Verdict.VIOLATED and res.kind == "deadlock"
    assert res.trace is not None and res.trace.length == 2
    assert [s.transition for s in res.trace.steps[1:]] == ["a.go", "b.reply"]
    assert res.trace.steps[1].params["n"] in (0, 1)
    last = res.trace.steps[-1].state
    assert list(successors(m, last)) == []
    assert replay(m, res.trace, m.property(DEADLOCK_FREE), require_first=True).ok


def test_final_states_are_not_deadlocks(tmp_path: Path) -> None:
    m = _model(tmp_path, HANDOFF, defines={"ACCEPT_WAIT": "true"})
    res = _check(m, 6)
    assert res.verdict is Verdict.HOLDS and res.depth == 6
    # Instance finals accept a state when every instance that has some is done: b alone is not enough.
    m2 = _model(tmp_path, HANDOFF)
    state = {"a.s": "WAIT", "b.s": "DONE", "ab": [], "ba": []}
    assert deadlock_problem(m2, state) is None
    assert deadlock_problem(m2, {**state, "a.s": "DONE"}) == "the last state is final"


def test_auto_engine_routes_deadlock_to_bmc_never_proved(tmp_path: Path) -> None:
    m = _model(tmp_path, HANDOFF, defines={"ACCEPT_WAIT": "true"})
    res = _check(m, 5, engine="auto")
    assert res.verdict is Verdict.HOLDS and res.engine == "bmc"


@pytest.mark.parametrize("limit,verdict,length", [("3", Verdict.VIOLATED, 3), ("6", Verdict.HOLDS, None)])
def test_wide_parameters_are_quantified(tmp_path: Path, limit: str, verdict: Verdict, length: int | None) -> None:
    # LIMIT=6: x < 6 always holds in 0..5, so the step is always enabled (for n = 0x1234 only).
    m = _model(tmp_path, WIDE, defines={"LIMIT": limit})
    res = _check(m, 6)
    assert res.verdict is verdict
    if length is not None:
        assert res.trace is not None and res.trace.length == length
        assert replay(m, res.trace, m.property(DEADLOCK_FREE), require_first=True).ok


def test_abp_with_its_final_state_is_deadlock_free() -> None:
    m = load_model(str(ROOT / "models/abp.tcpspec"))
    assert _check(m, 10).verdict is Verdict.HOLDS


def test_cli_deadlock_text_json_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "handoff.tcpspec"
    path.write_text(HANDOFF)
    assert main(["check", str(path), "--engine", "bmc", "--depth", "4"]) == 0  # without --deadlock: not checked
    out = capsys.readouterr().out
    assert DEADLOCK_FREE not in out
    assert main(["check", str(path), "--deadlock", "--depth", "4", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    (r,) = [r for r in doc["results"] if r["property"] == DEADLOCK_FREE]
    assert r["kind"] == "deadlock" and r["verdict"] == "violated" and r["engine"] == "bmc"
    assert len(r["trace"]["states"]) == 3
    assert main(["check", str(path), str(path), "--deadlock"]) == 2
    assert "--deadlock" in capsys.readouterr().err
