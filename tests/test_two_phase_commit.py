"""models/two_phase_commit.tcpspec as a family: the proof, the broken copy, and `-D N`.

The verdicts themselves are pinned in models/expected.json (tests/test_models_library.py);
this file pins what that table cannot: that the prover proves the consistency invariants from
the model's lemmas, and that the broken copy is the model with one fault.
"""

from __future__ import annotations

from pathlib import Path

from tcpspec.engines.bmc import run_bmc
from tcpspec.engines.kind import prove
from tcpspec.interp_search import replay
from tcpspec.pipeline import load_model
from tcpspec.results import Verdict

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "two_phase_commit.tcpspec"
BROKEN = ROOT / "models" / "broken" / "two_phase_commit_quorum.tcpspec"
FAULT = (
    "  transition decide_commit when state == C_WAITING && (forall j in 0..N - 1: j in voted && yes[j]) {",
    "  transition decide_commit when state == C_WAITING && card(voted) >= N - 1 && (forall j in voted: yes[j]) "
    "{  // FAULT: one vote may be missing",
)


def test_the_broken_copy_is_the_model_with_one_fault() -> None:
    base = MODEL.read_text(encoding="utf-8")
    broken = BROKEN.read_text(encoding="utf-8")
    header, _, body = broken.partition("\n\n")
    assert header.startswith("// Broken copy of models/two_phase_commit.tcpspec")
    assert FAULT[0] in base
    assert body == base.replace(FAULT[0], FAULT[1]), "edit both files (or the FAULT line here) together"


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
