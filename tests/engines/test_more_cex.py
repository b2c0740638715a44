"""`--max-cex N` (engines/more_cex.py): several counterexamples, each a different transition
sequence, each a replayed shortest run to its own violation; text and JSON list them all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcpspec.cli import main
from tcpspec.interp.search import replay
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict

COUNTER = """
process P() {
  var x: 0..9 = 0;
  transition inc1 when x < 8 { x := x + 1; }
  transition inc2 when x < 8 { x := x + 2; }
}
instance p = P();
invariant small: p.x < 4;
"""


@pytest.fixture
def counter(tmp_path: Path) -> Path:
    path = tmp_path / "counter.tcpspec"
    path.write_text(COUNTER)
    return path


@pytest.mark.parametrize("engine", ["bmc", "auto"])
def test_distinct_action_sequences_all_replayed(counter: Path, engine: str) -> None:
    m = load_model(str(counter))
    (res,) = check_model(m, CheckOptions(properties=("small",), depth=6, engine=engine, max_cex=5, timeout=60))
    assert res.verdict is Verdict.VIOLATED
    assert len(res.traces) == 5 and res.traces[0] is res.trace
    seqs = [tuple(s.transition for s in t.steps[1:]) for t in res.traces]
    assert len(set(seqs)) == 5
    assert seqs[0] == ("p.inc2", "p.inc2")  # the shortest first
    assert [len(s) for s in seqs] == sorted(len(s) for s in seqs)
    for t in res.traces:
        assert replay(m, t, m.property("small"), require_first=True).ok


def test_fewer_runs_than_asked(tmp_path: Path) -> None:
    # Within 2 steps exactly three runs first reach x >= 2: inc2; inc1,inc1; inc1,inc2.
    path = tmp_path / "counter.tcpspec"
    path.write_text(COUNTER.replace("p.x < 4", "p.x < 2"))
    m = load_model(str(path))
    (res,) = check_model(m, CheckOptions(properties=("small",), depth=2, engine="bmc", max_cex=10, timeout=60))
    seqs = sorted(tuple(s.transition for s in t.steps[1:]) for t in res.traces)
    assert seqs == [("p.inc1", "p.inc1"), ("p.inc1", "p.inc2"), ("p.inc2",)]


def test_cli_text_and_json(counter: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(counter), "--engine", "bmc", "--depth", "5", "--max-cex", "3"]) == 1
    out = capsys.readouterr().out
    assert "counterexample 1 of 3 (2 steps):" in out and "counterexample 3 of 3" in out
    assert main(["check", str(counter), "--engine", "bmc", "--depth", "5", "--max-cex", "3", "--format", "json"]) == 1
    (r, _) = json.loads(capsys.readouterr().out)["results"]
    assert len(r["traces"]) == 3 and r["traces"][0] == r["trace"]
    assert main(["check", str(counter), "--engine", "bmc", "--depth", "5", "--format", "json"]) == 1
    (r, _) = json.loads(capsys.readouterr().out)["results"]
    assert "traces" not in r
    assert main(["check", str(counter), "--max-cex", "0"]) == 2
