"""`tcpspec simulate`: random runs on the interpreter, reproducible by seed, and real runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcpspec.cli import main
from tcpspec.interp.search import run_is_behaviour
from tcpspec.run.pipeline import load_model
from tcpspec.render.itf import itf_to_trace
from tcpspec.interp.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
SEED = str(ROOT / "models/seed_handshake.tcpspec")


def test_a_random_run_is_a_run_of_the_model_and_the_seed_repeats_it() -> None:
    m = load_model(SEED)
    for seed in range(5):
        trace, _ = simulate(m, 15, seed)
        assert run_is_behaviour(m, trace).ok
        again, _ = simulate(m, 15, seed)
        assert [s.transition for s in again.steps] == [s.transition for s in trace.steps]
    runs = {tuple(s.transition for s in simulate(m, 15, seed)[0].steps) for seed in range(8)}
    assert len(runs) > 1  # different seeds explore different runs


def test_cli_text_json_mermaid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", SEED, "--steps", "6", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "random run, seed 3 (6 steps):" in out and "step 1  client.connect" in out
    assert main(["simulate", SEED, "--steps", "6", "--seed", "3", "--format", "json"]) == 0
    trace = itf_to_trace(json.loads(capsys.readouterr().out), load_model(SEED))
    assert trace.length == 6
    svg = tmp_path / "run.svg"
    assert main(["simulate", SEED, "--steps", "6", "--seed", "3", "--format", "mermaid", "--svg", str(svg)]) == 0
    assert capsys.readouterr().out.startswith("sequenceDiagram") and "<svg" in svg.read_text()


def test_a_deadlock_ends_the_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "m.tcpspec"
    model.write_text("process P() {\n  var x: 0..3 = 0;\n  transition t when x < 2 { x := x + 1; }\n}\ninstance p = P();\n")
    assert main(["simulate", str(model), "--steps", "10"]) == 0
    assert "deadlock after 2 steps" in capsys.readouterr().out
