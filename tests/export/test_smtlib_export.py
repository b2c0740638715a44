"""The SMT-LIB export, re-read by z3, answers BMC queries as our BMC does (depth 1-2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3

from tcpspec.engines.bmc import run_bmc
from tcpspec.exporters.smtlib import bmc_query, export_smtlib
from tcpspec.run.pipeline import load_model
from tcpspec.core.results import Verdict

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("theory", ["int", "bv"])
@pytest.mark.parametrize("path,depth", [("models/seed_handshake.tcpspec", 2),
                                        ("models/broken/seed_ack_plus_two.tcpspec", 1),
                                        ("models/broken/seed_ack_plus_two.tcpspec", 2)])
def test_exported_bmc_query_agrees_with_bmc(path: str, depth: int, theory: str) -> None:
    model = load_model(str(ROOT / path))
    props = [p for p in model.properties if p.kind.value != "reachable"]
    ours = run_bmc(model, props, depth, None, theory)
    failed = any(r.verdict is Verdict.VIOLATED for r in ours)
    solver = z3.Solver()
    solver.add(z3.parse_smt2_string(bmc_query(export_smtlib(model, theory, props), depth)))
    assert solver.check() == (z3.sat if failed else z3.unsat)
    assert failed == (path.startswith("models/broken") and depth == 2)


def test_reachability_target_is_sat_once_reachable() -> None:
    model = load_model(str(ROOT / "models/seed_handshake.tcpspec"))
    props = [model.property("both_established")]
    system = export_smtlib(model, "int", props)
    answers = []
    for k in (3, 4):
        solver = z3.Solver()
        solver.add(z3.parse_smt2_string(bmc_query(system, k)))
        answers.append(solver.check())
    assert answers == [z3.unsat, z3.sat]  # the handshake takes 4 steps
    assert "(define-fun trans" in system.text and "(define-fun |inv both_established|" in system.text
