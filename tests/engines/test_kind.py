"""The inductive prover (engines/prover.py, engines/houdini.py): proofs, lemmas, certificates, the BMC fallback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tcpspec.proof.certificate import CertInvariant, Certificate, recheck, render
from tcpspec.engines.prover import prove, run_kind
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict

ROOT = Path(__file__).resolve().parents[2]

# x <= 3 is not inductive alone (x = 3, y = 0 steps to x = 4); with the lemma x == y it is.
COUNTERS = (ROOT / "tests" / "data" / "counters.tcpspec").read_text()

# The same counters, but x runs away: x <= 3 is violated after 4 steps.
RUNAWAY = COUNTERS.replace("transition tick when y < 3", "transition tick when y < 5")


def _model(tmp_path: Path, text: str, name: str = "m.tcpspec"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text)
    return load_model(str(path))


def test_needs_a_lemma_and_proves_with_it(tmp_path: Path) -> None:
    m = _model(tmp_path, COUNTERS)
    x_small = m.property("x_small")
    without = prove(m, [x_small], 30, use_lemmas=False, k_max=1)
    assert not without["x_small"].proved
    out = prove(m, [x_small, m.property("p.tick_moves_both")], 30)
    assert all(o.proved for o in out.values()), {k: o.detail for k, o in out.items()}
    cert = out["x_small"].certificate
    assert cert is not None and any(c.text == "p.x == p.y" for c in cert.invariants)
    assert "invariant" in render(cert) and "p.x == p.y" in render(cert)


def test_run_kind_proves_and_bmc_finds_the_rest(tmp_path: Path) -> None:
    m = _model(tmp_path, COUNTERS)
    res = {r.property: r for r in run_kind(m, list(m.properties), 6, 30)}
    assert res["x_small"].verdict is Verdict.PROVED and res["x_small"].engine == "kind"
    assert "certificate re-checked" in res["x_small"].detail and res["x_small"].certificate
    assert res["three"].verdict is Verdict.REACHED and res["three"].depth == 3  # BMC's witness


def test_reachable_violation_is_not_proved(tmp_path: Path) -> None:
    m = _model(tmp_path, RUNAWAY)
    res = check_model(m, CheckOptions(properties=("x_small",), depth=6, engine="kind"))
    assert res[0].verdict is Verdict.VIOLATED and res[0].engine == "bmc" and res[0].depth == 4
    assert res[0].trace is not None


def test_recheck_rejects_tampered_certificates(tmp_path: Path) -> None:
    m = _model(tmp_path, COUNTERS)
    x_small = m.property("x_small")
    cert = prove(m, [x_small], 30)["x_small"].certificate
    assert cert is not None
    assert recheck(m, cert, [x_small]) is None
    # Without the lemmas (x == y, x <= y, ...) the property alone is not inductive.
    dropped = Certificate([c for c in cert.invariants if c.origin != "lemma"], proved=["x_small"])
    problem = recheck(m, dropped, [x_small])
    assert problem is not None and "consecution" in problem
    # A false lemma fails initiation.
    bad = CertInvariant("lemma_bad", "p.x == 1", lambda ts, k: ts.state_at(k)["p.x"] == 1)  # type: ignore[arg-type,return-value]
    problem = recheck(m, Certificate(cert.invariants + [bad]), [x_small])
    assert problem is not None and "initiation" in problem and "lemma_bad" in problem
    # A lemma that holds initially but is not preserved fails consecution.
    frozen = CertInvariant("lemma_frozen", "p.y == 0", lambda ts, k: ts.state_at(k)["p.y"] == 0)  # type: ignore[arg-type,return-value]
    problem = recheck(m, Certificate(cert.invariants + [frozen]), [x_small])
    assert problem is not None and "consecution" in problem and "lemma_frozen" in problem
    # The prover's trial certificates: a failing joint query is the answer, no one-by-one search.
    problem = recheck(m, Certificate(cert.invariants + [frozen]), [x_small], quick=True)
    assert problem == "consecution: the joint query came back sat"
    problem = recheck(m, Certificate(cert.invariants + [bad]), [x_small], quick=True)
    assert problem is not None and problem.startswith("initiation") and "lemma_bad" not in problem


def test_recheck_asks_step_properties_with_the_joint_query_and_names_a_failing_one(tmp_path: Path) -> None:
    """The step properties are asked in the consecution query; when one fails there, it is
    still named, by the one-by-one checks that follow."""
    m = _model(tmp_path, COUNTERS.replace("ensure x' - x == y' - y", "ensure x' - x == y' - y + 1"))
    x_small, step = m.property("x_small"), m.property("p.tick_moves_both")
    cert = prove(m, [x_small], 30)["x_small"].certificate
    assert cert is not None and recheck(m, cert, [x_small]) is None
    problem = recheck(m, cert, [x_small, step])
    assert problem is not None and "step property p.tick_moves_both" in problem
    ok = _model(tmp_path, COUNTERS, "ok.tcpspec")
    assert recheck(ok, cert, [ok.property("x_small"), ok.property("p.tick_moves_both")]) is None


# Three transitions, the one that breaks `x <= 3` alone (tick) in the middle: the re-check's
# consecution cases (one per transition) are spread over threads.
IDLING = COUNTERS.replace("  transition tick when y < 3 {",
                          "  transition idle { skip; }\n  transition tick when y < 3 {").replace(
    "  step tick_moves_both", "  transition wait when y == 3 { skip; }\n  step tick_moves_both")


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_recheck_split_by_transition_agrees_with_the_whole_query(tmp_path: Path, threads: int) -> None:
    m = _model(tmp_path, IDLING)
    assert [t.name for t in m.transitions] == ["p.idle", "p.tick", "p.wait"]
    x_small, step = m.property("x_small"), m.property("p.tick_moves_both")
    cert = prove(m, [x_small, step], 30)["x_small"].certificate
    assert cert is not None
    assert recheck(m, cert, [x_small, step], threads=threads) is None
    dropped = Certificate([c for c in cert.invariants if c.origin != "lemma"], proved=["x_small"])
    assert recheck(m, dropped, [x_small], quick=True, threads=threads) == "consecution: the joint query came back sat"
    problem = recheck(m, dropped, [x_small], threads=threads)
    assert problem is not None and problem.startswith("consecution: Inv /\\ T => x_small'")


@pytest.mark.parametrize("when", ["before", "during", "never"])
def test_recheck_with_a_spare_core_joining_late_agrees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """The prover's re-check (1 thread) takes a second thread once `spare` is set: set before,
    during (after its first case) or never, the cases still cover every transition."""
    import threading

    from tcpspec.proof import certificate as certmod

    m = _model(tmp_path, IDLING)
    x_small, step = m.property("x_small"), m.property("p.tick_moves_both")
    cert = prove(m, [x_small, step], 30)["x_small"].certificate
    assert cert is not None
    spare = threading.Event()
    if when == "before":
        spare.set()
    plain_check = certmod.check
    asked: list[str] = []

    def check(solver, assumptions, budget):  # type: ignore[no-untyped-def]
        me = threading.current_thread()
        asked.append(me.name)
        if when == "during":
            spare.set()
        if me is threading.main_thread() and when != "never":
            time.sleep(0.3)  # so that the late thread surely takes a case
        return plain_check(solver, assumptions, budget)

    monkeypatch.setattr(certmod, "check", check)
    monkeypatch.setattr(certmod.os, "cpu_count", lambda: 2)
    assert recheck(m, cert, [x_small, step], threads=1, spare=spare) is None
    dropped = Certificate([c for c in cert.invariants if c.origin != "lemma"], proved=["x_small"])
    assert recheck(m, dropped, [x_small], quick=True, threads=1, spare=spare) == "consecution: the joint query came back sat"
    helped = any(name != threading.main_thread().name for name in asked)
    assert helped == (when != "never")


def test_unknown_engine_is_a_usage_error(tmp_path: Path) -> None:
    from tcpspec.core.diagnostics import UsageError

    m = _model(tmp_path, COUNTERS)
    with pytest.raises(UsageError):
        check_model(m, CheckOptions(engine="nonsense"))


def test_seed_handshake_step_properties() -> None:
    m = load_model(str(ROOT / "models" / "seed_handshake.tcpspec"))
    props = [p for p in m.properties if p.name in ("client.fin_consumes_one", "server.fin_consumes_one", "range_ok")]
    out = prove(m, props, 120, use_lemmas=False)  # these need no lemmas: quick
    assert all(o.proved for o in out.values()), {k: o.detail for k, o in out.items()}


def test_seed_handshake_step_property_needing_lemmas() -> None:
    """client.syn_ack_rule holds only because no SYN is in flight once the client is ESTABLISHED."""
    m = load_model(str(ROOT / "models" / "seed_handshake.tcpspec"))
    out = prove(m, [m.property("client.syn_ack_rule")], 120)
    assert out["client.syn_ack_rule"].proved, out["client.syn_ack_rule"].detail


def test_cli_writes_certificate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tcpspec.cli import main

    path = tmp_path / "counters.tcpspec"
    path.write_text(COUNTERS)
    cert = tmp_path / "proof.txt"
    code = main(["check", str(path), "--engine", "kind", "--depth", "5", "--certificate", str(cert)])
    assert code == 0, capsys.readouterr().out
    text = cert.read_text()
    assert text.startswith("// tcpspec proof certificate") and "invariant x_small: p.x <= 3;" in text
    assert "p.x == p.y" in text


OVERFLOW = """
process P() {
  var n: 0..2 = 0;
  var done: bool = false;
  transition inc when !done { n := n + 1; }
  transition stop { done := true; }
}
instance p = P();
invariant small: p.n <= 2;
"""


@pytest.mark.parametrize("theory", ["int", "bv"])
def test_range_violation_is_not_proved(tmp_path: Path, theory: str) -> None:
    """range_ok fails on the third inc: never proved (state 1 may be out of range), BMC finds it."""
    m = _model(tmp_path, OVERFLOW)
    out = prove(m, list(m.properties), 30, theory=theory)
    assert not out["range_ok"].proved
    res = {r.property: r for r in run_kind(m, list(m.properties), 5, 30, theory)}
    assert res["range_ok"].verdict is Verdict.VIOLATED and res["range_ok"].depth == 3
    assert res["small"].verdict is Verdict.PROVED  # in-range steps keep n <= 2


def test_tcp_invariants_proved_for_every_isn() -> None:
    """RFC 9293 model: every invariant, lemma and step property proved for every ISN (Houdini in
    two phases, certificate re-checked), the three cross-endpoint ones only with the model's
    pair lemmas (see README)."""
    m = load_model(str(ROOT / "models" / "tcp.tcpspec"))
    props = [p for p in m.properties if p.kind.value in ("invariant", "step", "lemma")]
    out = prove(m, props, 900)
    open_ = sorted(name for name, o in out.items() if not o.proved)
    assert not open_, open_
    assert len(out) > 100
    for name in ("client.una_le_nxt", "server.send_window", "client.fin_acked_in_time_wait",
                 "server.fin_acked_before_close", "client.diagram_edges", "range_ok",
                 "client_acks_only_sent", "server_acks_only_sent", "no_half_open"):
        assert out[name].proved and "certificate re-checked" in out[name].detail
