"""Counterexamples to induction: kept when the prover fails, shown in text and JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.engines.prover import prove
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict

# x only takes even values, so it is never 11; but x = 9 (odd, unreachable) steps to 11, and no
# generated lemma speaks of parity: induction fails with exactly that CTI (and k-induction
# needs k = 6, past the default k_max = 4).
ODD = """
process P() {
  var x: 0..20 = 0;
  transition step2 when x < 10 { x := x + 2; }
}
instance p = P();
invariant never_seven: p.x != 11;
"""


def _model(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "odd.tcpspec"
    path.write_text(text)
    return load_model(str(path))


def test_prover_keeps_the_cti(tmp_path: Path) -> None:
    m = _model(tmp_path, ODD)
    out = prove(m, [m.property("never_seven")], 30)["never_seven"]
    assert not out.proved and out.cti is not None
    pre, post = out.cti.steps
    assert pre.state["p.x"] == 9 and post.state["p.x"] == 11 and post.transition == "p.step2"


def test_kind_result_carries_cti_and_proved_ones_do_not(tmp_path: Path) -> None:
    m = _model(tmp_path, ODD)
    res = {r.property: r for r in check_model(m, CheckOptions(engine="kind", depth=6))}
    assert res["never_seven"].verdict is Verdict.HOLDS and res["never_seven"].cti is not None
    assert res["range_ok"].verdict is Verdict.PROVED and res["range_ok"].cti is None


def test_cti_in_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tcpspec.cli import main

    path = tmp_path / "odd.tcpspec"
    path.write_text(ODD)
    assert main(["check", str(path), "--engine", "kind", "--depth", "6"]) == 0
    assert "with a counterexample to induction: -v shows why the proof failed" in capsys.readouterr().out
    assert main(["check", str(path), "--engine", "kind", "--depth", "6", "-v"]) == 0
    out = capsys.readouterr().out
    assert "counterexample to induction: not necessarily reachable" in out
    assert "p.x: 9 -> 11" in out and "<-- breaks never_seven" in out
    assert main(["check", str(path), "--engine", "kind", "--depth", "6", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by = {r["property"]: r for r in doc["results"]}
    cti = by["never_seven"]["cti"]
    assert by["never_seven"]["trace"] is None and by["range_ok"]["cti"] is None
    assert [s["p.x"] for s in cti["states"]] == [{"#bigint": "9"}, {"#bigint": "11"}]
    assert "not necessarily reachable" in cti["#meta"]["description"]


def test_real_violation_has_a_trace_not_a_cti(tmp_path: Path) -> None:
    m = _model(tmp_path, ODD.replace("p.x != 11", "p.x != 4"))
    r = check_model(m, CheckOptions(engine="kind", depth=6, properties=("never_seven",)))[0]
    assert r.verdict is Verdict.VIOLATED and r.trace is not None and r.cti is None


def test_default_engine_carries_the_cti_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`auto` (BMC and the prover in two processes) keeps the prover's CTI on BMC's `holds`.
    Without the explicit head start, which proves this small model exhaustively."""
    from tcpspec.engines import portfolio

    monkeypatch.setattr(portfolio, "EXPLICIT_FIRST", False)
    m = _model(tmp_path, ODD)
    res = {r.property: r for r in check_model(m, CheckOptions(engine="auto", depth=6))}
    r = res["never_seven"]
    assert r.verdict is Verdict.HOLDS and r.cti is not None
    assert [s.state["p.x"] for s in r.cti.steps] == [9, 11]
