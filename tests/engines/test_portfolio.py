"""`--engine auto` (engines/portfolio.py): BMC and the prover in two processes, merged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.engines import portfolio
from tcpspec.engines.portfolio import _merge, run_auto
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import PropertyResult, Verdict

ROOT = Path(__file__).resolve().parents[2]

COUNTERS = (ROOT / "tests" / "data" / "counters.tcpspec").read_text() + """
invariant x_tiny: p.x <= 1;
reachable nine: p.x == 9;
"""


def _model(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "m.tcpspec"
    path.write_text(text)
    return load_model(str(path))


def test_auto_takes_proofs_from_the_prover_and_traces_from_bmc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portfolio, "EXPLICIT_FIRST", False)  # BMC and the prover alone
    m = _model(tmp_path, COUNTERS)
    res = {r.property: r for r in run_auto(m, list(m.properties), 6, 60)}
    assert res["x_small"].verdict is Verdict.PROVED and res["x_small"].engine == "kind"
    assert res["x_small"].certificate
    assert res["x_tiny"].verdict is Verdict.VIOLATED and res["x_tiny"].depth == 2
    assert res["x_tiny"].engine == "bmc" and res["x_tiny"].trace is not None
    assert res["three"].verdict is Verdict.REACHED and res["three"].depth == 3
    assert res["nine"].verdict is Verdict.UNREACHED  # bounded: the prover never decides reachability
    assert list(res) == [p.name for p in m.properties]  # the model's order


def test_auto_takes_everything_from_an_exhaustive_explicit_search(tmp_path: Path) -> None:
    """A finite model the explicit search sees whole: its verdicts are final at once, each proof
    with the re-checked certificate of the reachable states, each trace the shortest for every
    value; the run does not wait for BMC or the prover."""
    m = _model(tmp_path, COUNTERS)
    res = {r.property: r for r in run_auto(m, list(m.properties), 6, 60)}
    assert {r.engine for r in res.values()} == {"explicit"}
    assert res["x_small"].verdict is Verdict.PROVED and res["x_small"].certificate
    assert res["x_small"].detail.startswith("exhaustive: 4 states, diameter 3")
    assert res["x_tiny"].verdict is Verdict.VIOLATED and res["x_tiny"].depth == 2
    assert res["x_tiny"].detail == "shortest over all values"
    assert res["three"].verdict is Verdict.REACHED and res["three"].depth == 3
    assert res["nine"].verdict is Verdict.UNREACHED and res["nine"].detail.startswith("exhaustive")


def test_auto_through_the_pipeline_agrees_with_bmc_on_a_broken_model() -> None:
    m = load_model(str(ROOT / "models/broken/seed_ack_plus_two.tcpspec"))
    auto = {r.property: r for r in check_model(m, CheckOptions(engine="auto", depth=6, properties=("server.syn_ack_rule",)))}
    bmc = {r.property: r for r in check_model(m, CheckOptions(engine="bmc", depth=6, properties=("server.syn_ack_rule",)))}
    assert auto["server.syn_ack_rule"].verdict is Verdict.VIOLATED
    assert auto["server.syn_ack_rule"].depth == bmc["server.syn_ack_rule"].depth == 2


def _r(verdict: Verdict, engine: str = "bmc") -> PropertyResult:
    return PropertyResult("p", "invariant", verdict, engine, 3, 0.1)


def test_merge_rules(tmp_path: Path) -> None:
    m = _model(tmp_path, COUNTERS)
    inv, reach = m.property("x_small"), m.property("three")
    assert inv.kind is ir.PropertyKind.INVARIANT
    # a violation is final at once; a bounded `holds` waits for the prover
    assert _merge(inv, _r(Verdict.VIOLATED), None).verdict is Verdict.VIOLATED  # type: ignore[union-attr]
    assert _merge(inv, _r(Verdict.HOLDS), None) is None
    assert _merge(inv, None, _r(Verdict.PROVED, "kind")).verdict is Verdict.PROVED  # type: ignore[union-attr]
    assert _merge(inv, _r(Verdict.HOLDS), _r(Verdict.UNKNOWN, "kind")).verdict is Verdict.HOLDS  # type: ignore[union-attr]
    # a proof and a counterexample of the same property: a bug, never a verdict
    both = _merge(inv, _r(Verdict.VIOLATED), _r(Verdict.PROVED, "kind"))
    assert both is not None and both.verdict is Verdict.UNKNOWN and "internal error" in both.detail
    assert _merge(reach, _r(Verdict.REACHED), None).verdict is Verdict.REACHED  # type: ignore[union-attr]


def test_engine_processes_die_with_a_killed_parent(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "tcpspec", "check", str(ROOT / "models/tcp.tcpspec"), "--depth", "30"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None and proc.stdout.readline().startswith("model:")
    kids: list[str] = []
    for _ in range(600):  # until both engine processes run (a guard against a hang, not a speed limit)
        kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        if len(kids) >= 2:  # engine processes (BMC, the prover) and the resource tracker
            break
        time.sleep(0.5)
    assert kids, "no engine processes"
    proc.send_signal(signal.SIGKILL)  # no cleanup possible in the parent
    proc.wait()
    deadline = time.monotonic() + 120  # they poll once a second; a busy machine may take longer
    alive = list(kids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.5)
        alive = [k for k in alive if os.path.exists(f"/proc/{k}") and "zombie" not in open(f"/proc/{k}/status").read().lower()]
    assert not alive, f"orphaned engine processes: {alive}"


def test_the_timeout_bounds_a_property_not_each_engine() -> None:
    """--timeout is a property's time from the start of the run. When the prover gives up at
    the timeout, what it leaves (tcp's lemmas, which only reach BMC then) is not handed to a
    BMC restarted with the whole timeout again (`--timeout 10` ran 25 s that way): nothing is
    left of it, so the verdict is unknown at once, and says why."""
    m = load_model(str(ROOT / "models/tcp.tcpspec"))
    res = {r.property: r for r in check_model(m, CheckOptions(engine="auto", timeout=2, keep_going=True))}
    lemmas = [p.name for p in m.properties if p.kind is ir.PropertyKind.LEMMA]
    assert lemmas and all(res[n].verdict is Verdict.UNKNOWN for n in lemmas)
    assert {res[n].detail for n in lemmas} == {"timeout: no verdict within --timeout 2 s"}


def test_kind_leaves_bmc_what_the_prover_left_of_the_timeout() -> None:
    """The same in `--engine kind`, where BMC runs after the prover: once the prover has spent
    the timeout on tcp.tcpspec, BMC gives up at its first query (it used to search for another
    2 s and reach targets 5 steps deep)."""
    m = load_model(str(ROOT / "models/tcp.tcpspec"))
    res = check_model(m, CheckOptions(engine="kind", timeout=2, keep_going=True))
    assert all(r.verdict is Verdict.UNKNOWN for r in res)
    # (or, on a busy machine, the whole run was stopped past the timeout: pipeline._within_timeout)
    assert all(r.engine == "bmc" and r.depth is not None and r.depth <= 1
               or r.detail == "timeout: no verdict within --timeout 2 s" for r in res)


SAMPLED = """
process P() {
  var v: bv32;
  var done: bool = false;
  transition t when !done { done := true; }
}
instance p = P();
invariant never_done_at_zero: !(p.done && p.v == 0);
"""


def test_a_violation_found_with_sampled_values_waits_for_bmc(tmp_path: Path) -> None:
    """The explicit search tries v in {0, 2^32-1} only: its violation (1 step) is reported once
    BMC has found nothing shorter for any v -- the same run, said to be confirmed."""
    m = _model(tmp_path, SAMPLED)
    (r,) = run_auto(m, list(m.properties), 6, 60)
    assert r.verdict is Verdict.VIOLATED and r.depth == 1
    assert r.detail == "shortest over all values: confirmed (BMC found no shorter violation)"


def test_bmc_reports_a_shorter_violation_than_the_sampled_search(tmp_path: Path) -> None:
    m = _model(tmp_path, SAMPLED.replace("!(p.done && p.v == 0)", "!(p.done && p.v == 0) && p.v != 5"))
    (r,) = run_auto(m, list(m.properties), 6, 60)
    assert r.verdict is Verdict.VIOLATED and r.depth == 0 and r.engine == "bmc"
    assert r.trace is not None and r.trace.steps[0].state["p.v"] == 5


def _dies(*args: object, **kwargs: object) -> None:
    import os

    os._exit(3)  # no report, no exception: as a crash or a kill from outside looks to the parent


def test_an_engine_process_that_dies_is_an_error_not_an_unknown(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Both workers end without a word: the run raises EngineError naming them and how they
    ended, instead of answering `unknown` for every property (which reads as "gave up")."""
    import pytest

    from tcpspec.core.diagnostics import EngineError
    from tcpspec.engines import portfolio

    m = _model(tmp_path, COUNTERS)
    monkeypatch.setattr(portfolio, "EXPLICIT_FIRST", False)  # the explicit search would decide them all
    monkeypatch.setattr(portfolio, "_bmc_worker", _dies)  # fork: the workers see the patch
    monkeypatch.setattr(portfolio, "_prover_worker", _dies)
    with pytest.raises(EngineError) as err:
        run_auto(m, list(m.properties), 4, 60, start_method="fork")
    assert "the BMC process (exit code 3)" in str(err.value) and "the prover process (exit code 3)" in str(err.value)
    assert err.value.results == []


def test_a_dead_prover_keeps_what_bmc_decided(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from tcpspec.core.diagnostics import EngineError
    from tcpspec.engines import portfolio

    m = _model(tmp_path, COUNTERS)
    monkeypatch.setattr(portfolio, "EXPLICIT_FIRST", False)  # the explicit search would decide them all
    monkeypatch.setattr(portfolio, "_prover_worker", _dies)
    with pytest.raises(EngineError) as err:
        run_auto(m, list(m.properties), 4, 60, start_method="fork", keep_going=True)
    assert str(err.value) == "the prover process (exit code 3) ended without a result"
    got = {r.property: r.verdict for r in err.value.results}
    assert got["x_tiny"] is Verdict.VIOLATED and got["three"] is Verdict.REACHED  # BMC's definitive answers

