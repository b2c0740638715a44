"""Constants that size the state are checked against what the engines can encode, and the
time an engine spends outside solver queries (building the encoding) counts against --timeout."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tcpspec.cli import main
from tcpspec.core.diagnostics import ModelError
from tcpspec.solving import budget
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict

ROOT = Path(__file__).resolve().parents[2]
TCP = str(ROOT / "models/tcp.tcpspec")
COUNTER = """process P() {
  var x: 0..3 = 0;
  transition t when x < 3 { x := x + 1; }
}
instance p = P();
invariant small: p.x <= 3;
"""


def _model(tmp_path: Path, text: str = COUNTER) -> str:
    path = tmp_path / "m.tcpspec"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("command", [["check"], ["graph"], ["export", "--to", "smtlib"], ["export", "--to", "promela"]])
def test_a_huge_capacity_is_refused_by_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    argv = [command[0], TCP, *command[1:], "-D", "CAP=100000"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "at most 1024" in err and "Traceback" not in err  # the quantifiers over 0..CAP-1 come first


def test_the_state_limit_names_the_largest_channel() -> None:
    with pytest.raises(ModelError) as exc:
        load_model(TCP, {"CAP": "1000"})
    assert any("at most 4096 can be encoded; channel 'c2s' (1000 slots)" in d.message for d in exc.value.diagnostics)
    assert load_model(TCP, {"CAP": "64"}).channel("c2s").capacity == 64  # below the limit: fine


def test_a_quantifier_over_1000_values_is_checked_not_a_recursion_error(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Its copies are a balanced tree: a chain of 1000 was deeper than Python's stack."""
    text = COUNTER + "invariant q: forall i in 0..1000: p.x != i + 5;\ninvariant r: exists i in 0..1000: p.x == i;\n"
    assert main(["check", _model(tmp_path, text), "--engine", "bmc", "--depth", "4"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def _sleep(*args: object, **kwargs: object) -> None:
    time.sleep(600)  # Python code that never asks the budget: what building a huge encoding looks like


@pytest.mark.parametrize("engine,where", [("bmc", "tcpspec.engines.bmc.run_bmc"), ("kind", "tcpspec.engines.prover.run_kind"),
                                          ("pdr", "tcpspec.engines.pdr.run_pdr")])
def test_an_engine_past_its_timeout_is_stopped(engine: str, where: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "GRACE_SECONDS", 0.1)
    monkeypatch.setattr(where, _sleep)
    m = load_model(_model(tmp_path))
    (r,) = [x for x in check_model(m, CheckOptions(engine=engine, timeout=0.5, depth=3)) if x.property == "small"]
    assert r.verdict is Verdict.UNKNOWN and r.detail == "timeout: no verdict within --timeout 0.5 s"


def test_the_portfolio_stops_workers_that_outlast_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tcpspec.engines import portfolio

    monkeypatch.setattr(budget, "GRACE_SECONDS", 0.1)
    monkeypatch.setattr(portfolio, "_bmc_worker", _sleep)  # fork: the workers see the patch
    monkeypatch.setattr(portfolio, "_prover_worker", _sleep)
    m = load_model(_model(tmp_path))
    before = set(os.listdir("/proc"))
    results = portfolio.run_auto(m, list(m.properties), 3, 0.5, start_method="fork")
    assert {r.detail for r in results} == {"timeout: no verdict within --timeout 0.5 s"}
    assert all(r.verdict is Verdict.UNKNOWN for r in results)
    left = [p for p in set(os.listdir("/proc")) - before if p.isdigit() and _parent(p) == os.getpid()]
    assert not left, f"workers left running: {left}"


def _parent(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]) if fields[0] != "Z" else -1
    except OSError:
        return -1
