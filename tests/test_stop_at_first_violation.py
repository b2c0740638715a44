"""A check ends at its first violation (like SPIN and TLC) unless --keep-going.

Every property that fails in the shortest number of steps is still found: the search finishes
the depth of its first violation. What is open then is `unknown` with results.STOPPED, never
`holds`. A false lemma does not stop the run (a lemma is a helper for the prover).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import STOPPED, Verdict

ROOT = Path(__file__).resolve().parents[1]
SEED_FIN = str(ROOT / "models" / "broken" / "seed_fin_no_consume.tcpspec")

TWO_FAULTS = """
process P() {
  var x: 0..15 = 0;
  transition tick when x < 15 { x := x + 1; }
}
instance p = P();
lemma wrong_helper: p.x <= 1;
invariant early: p.x <= 2;
invariant late: p.x <= 5;
invariant fine: p.x <= 15;
"""


@pytest.fixture
def two_faults(tmp_path: Path) -> str:
    path = tmp_path / "two_faults.tcpspec"
    path.write_text(TWO_FAULTS)
    return str(path)


@pytest.mark.parametrize("engine", ["bmc", "kind", "auto", "pdr"])
def test_the_first_violation_ends_the_run(two_faults: str, engine: str) -> None:
    model = load_model(two_faults)
    out = {r.property: r for r in check_model(model, CheckOptions(depth=10, engine=engine))}
    assert out["early"].verdict is Verdict.VIOLATED and out["early"].depth == 3
    if engine == "auto":  # lemmas go to BMC once the prover is done with them: not decided at the stop
        assert out["wrong_helper"].verdict is Verdict.UNKNOWN and out["wrong_helper"].detail == STOPPED
    else:
        assert out["wrong_helper"].verdict is Verdict.VIOLATED  # found first (2 steps), did not stop the run
    assert out["late"].verdict is Verdict.UNKNOWN and out["late"].detail == STOPPED
    if engine == "kind":  # proofs first, then BMC on the rest
        assert out["fine"].verdict is Verdict.PROVED
    else:  # auto: whatever the prover had done by then; the report must not depend on timing
        assert out["fine"].verdict is Verdict.UNKNOWN and out["fine"].detail == STOPPED


def test_keep_going_checks_every_property(two_faults: str) -> None:
    model = load_model(two_faults)
    out = {r.property: r for r in check_model(model, CheckOptions(depth=10, engine="bmc", keep_going=True))}
    assert (out["early"].depth, out["late"].depth) == (3, 6)
    assert out["late"].verdict is Verdict.VIOLATED and out["fine"].verdict is Verdict.HOLDS


def test_every_violation_of_the_shortest_length_is_found() -> None:
    """seed_fin_no_consume: the client's fin_consumes_one fails in 8 steps; the others only later."""
    model = load_model(SEED_FIN)
    out = {r.property: r for r in check_model(model, CheckOptions(engine="bmc"))}
    assert out["client.fin_consumes_one"].verdict is Verdict.VIOLATED and out["client.fin_consumes_one"].depth == 8
    for name in ("server.fin_consumes_one", "client.fin_ack_rule", "server.fin_ack_rule"):
        assert out[name].verdict is Verdict.UNKNOWN and out[name].detail == STOPPED
    kept = {r.property: r for r in check_model(model, CheckOptions(engine="bmc", keep_going=True))}
    assert [kept[n].depth for n in ("client.fin_consumes_one", "server.fin_consumes_one",
                                    "client.fin_ack_rule", "server.fin_ack_rule")] == [8, 11, 13, 10]


def test_keep_going_in_the_project_configuration(tmp_path: Path, two_faults: str) -> None:
    from tcpspec.run.config import load_config

    (tmp_path / "tcpspec.toml").write_text(
        f'keep_going = true\n[[models]]\npath = "{two_faults}"\n[[models]]\npath = "{two_faults}"\nkeep_going = false\n')
    config = load_config(str(tmp_path / "tcpspec.toml"))
    assert [m.options.keep_going for m in config.models] == [True, False]



def test_auto_holds_back_a_proof_that_comes_before_the_violation(
        two_faults: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The prover done first (BMC made to start late): its proof of `fine` is not reported
    before BMC, and is STOPPED with the rest, as when BMC is first. With --keep-going it stands."""
    import time

    from tcpspec.engines import portfolio

    late = portfolio._bmc_worker

    def slow_bmc(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(3.0)
        late(*args, **kwargs)

    monkeypatch.setattr(portfolio, "_bmc_worker", slow_bmc)  # fork: the worker sees the patch
    model = load_model(two_faults)
    props = [p for p in model.properties if p.name in ("early", "late", "fine")]
    seen: list[str] = []
    out = {r.property: r for r in portfolio.run_auto(model, props, 10, None, start_method="fork", keep_going=False,
                                                     on_result=lambda r: seen.append(r.property))}
    assert out["early"].verdict is Verdict.VIOLATED and out["early"].depth == 3
    assert out["fine"].verdict is Verdict.UNKNOWN and out["fine"].detail == STOPPED
    assert sorted(seen) == ["early", "fine", "late"]  # each reported once
    kept = {r.property: r for r in portfolio.run_auto(model, props, 10, None, start_method="fork", keep_going=True)}
    assert kept["fine"].verdict is Verdict.PROVED and kept["late"].depth == 6
