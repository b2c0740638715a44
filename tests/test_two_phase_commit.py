"""models/two_phase_commit.tcpspec as a family: the proof, the broken copy, and `-D N`.

The verdicts themselves are pinned in models/expected.json (tests/test_models_library.py);
this file pins what that table cannot: that the prover proves the consistency invariants from
the model's lemmas, and that the broken copy is a variant of the model with one fault.
"""

from __future__ import annotations

from pathlib import Path

from tcpspec.frontend import ast
from tcpspec.engines.bmc import run_bmc
from tcpspec.engines.prover import prove
from tcpspec.interp.search import replay
from tcpspec.frontend.parser import parse_text
from tcpspec.run.pipeline import load_model
from tcpspec.core.results import Verdict

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "two_phase_commit.tcpspec"
BROKEN = ROOT / "models" / "broken" / "two_phase_commit_quorum.tcpspec"


def test_the_broken_copy_is_the_model_with_one_fault() -> None:
    """A variant with one edit (tests/test_broken_models.py checks that the rest is the base)."""
    variant = parse_text(BROKEN.read_text(encoding="utf-8"), str(BROKEN)).variant
    assert variant is not None and variant.base == "../two_phase_commit.tcpspec"
    (edit,) = variant.items
    assert isinstance(edit, ast.Replace) and edit.decl.name == "Coordinator.decide_commit"


def test_the_prover_proves_consistency_with_the_models_lemmas() -> None:
    model = load_model(str(MODEL), {"N": "3"})
    props = [p for p in model.properties if p.kind.value in ("invariant", "lemma")]
    outcomes = prove(model, props, 300)
    assert {n for n, o in outcomes.items() if not o.proved} == set()
    assert {"agreement", "validity", "follows_coordinator"} <= set(outcomes)


def test_minus_d_n_grows_the_family() -> None:
    model = load_model(str(MODEL), {"N": "5"})
    assert [i.name for i in model.instances] == ["coord"] + [f"rm[{k}]" for k in range(5)]
    assert [c.name for c in model.channels] == [f"to_rm[{k}]" for k in range(5)] + ["votes"]
    assert model.channel("votes").capacity == 5


def test_the_broken_copy_fails_with_five_participants() -> None:
    """The issue's target case (its time is in benchmarks/two_phase_commit.py): with N = 5 the
    last vote is a NO, the other four commit; 12 steps (start, 5 votes, 4 collected, commit,
    one participant's commit)."""
    model = load_model(str(BROKEN), {"N": "5"})
    (res,) = run_bmc(model, [model.property("agreement")], 12, 600.0, "auto")
    assert res.verdict is Verdict.VIOLATED and res.trace is not None and res.trace.length == 12
    assert replay(model, res.trace, model.property("agreement"), require_first=True).ok
