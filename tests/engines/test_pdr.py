"""IC3/PDR through Spacer (engines/pdr.py): proofs with re-checked certificates, refutations at
BMC's shortest depth, tampered certificates rejected."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3

from tcpspec.proof.certificate import Certificate, recheck
from tcpspec.engines.pdr import _Horn, certificate_of, run_pdr
from tcpspec.solving.budget import Budget
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict

ROOT = Path(__file__).resolve().parents[2]

COUNTERS = (ROOT / "tests" / "data" / "counters.tcpspec").read_text()
RUNAWAY = COUNTERS.replace("transition tick when y < 3", "transition tick when y < 5")


def _model(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "m.tcpspec"
    path.write_text(text)
    return load_model(str(path))


def _by_name(results):  # type: ignore[no-untyped-def]
    return {r.property: r for r in results}


@pytest.mark.parametrize("theory", ["auto", "int"])
def test_proves_what_needs_a_strengthening(tmp_path: Path, theory: str) -> None:
    """x <= 3 is not 1-inductive alone; Spacer finds the strengthening (x == y or like)."""
    m = _model(tmp_path, COUNTERS)
    res = _by_name(run_pdr(m, list(m.properties), 30, theory))
    for name in ("p.x_small", "x_small", "p.tick_moves_both", "range_ok"):
        if name in res:
            assert res[name].verdict is Verdict.PROVED, (name, res[name].detail)
            assert res[name].engine == "pdr" and "certificate re-checked" in res[name].detail
            assert res[name].certificate.startswith("// tcpspec proof certificate")
    assert res["three"].verdict is Verdict.REACHED and res["three"].depth == 3  # BMC's witness


@pytest.mark.parametrize("theory", ["int", "bv"])
def test_refutation_depth_is_bmcs(tmp_path: Path, theory: str) -> None:
    m = _model(tmp_path, RUNAWAY)
    r = run_pdr(m, [m.property("x_small")], 30, theory)[0]
    assert r.verdict is Verdict.VIOLATED and r.engine == "pdr" and r.depth == 4
    assert r.trace is not None and r.trace.length == 4


def test_bit_vectors_never_prove_unchecked(tmp_path: Path) -> None:
    """Spacer under bit-vectors gives up (or its invariant fails the re-check): never a bare proof."""
    m = _model(tmp_path, COUNTERS)
    for r in run_pdr(m, [p for p in m.properties if p.kind.value != "reachable"], 30, "bv"):
        assert r.verdict in (Verdict.PROVED, Verdict.UNKNOWN), (r.property, r.verdict)
        if r.verdict is Verdict.PROVED:
            assert "certificate re-checked" in r.detail
        else:
            assert "Spacer" in r.detail or "IC3/PDR" in r.detail


def test_tampered_certificate_is_rejected(tmp_path: Path) -> None:
    m = _model(tmp_path, COUNTERS)
    prop = m.property("x_small")
    horn = _Horn(m, "int")
    out = horn.solve(prop, Budget(30))
    assert out.verdict == "proved" and out.invariant is not None
    cert = certificate_of(m, horn, out.invariant, [prop.name])
    assert recheck(m, cert, [prop], "int") is None
    # Weakened: without its strengthening, x <= 3 alone is not preserved (or not implied).
    weakened = Certificate([], proved=cert.proved)
    assert recheck(m, weakened, [prop], "int") is not None
    # Altered: one conjunct replaced by something false initially.
    first = cert.invariants[0]
    bad = type(first)(first.name, "p.x == 1", lambda ts, k: ts.state_at(k)["p.x"] == 1, "pdr")  # type: ignore[arg-type,return-value]
    problem = recheck(m, Certificate([bad] + cert.invariants[1:], proved=cert.proved), [prop], "int")
    assert problem is not None and "initiation" in problem
    # Altered: an extra conjunct that holds initially but is not preserved.
    frozen = type(first)("frozen", "p.y == 0", lambda ts, k: ts.state_at(k)["p.y"] == 0, "pdr")  # type: ignore[arg-type,return-value]
    problem = recheck(m, Certificate(cert.invariants + [frozen], proved=cert.proved), [prop], "int")
    assert problem is not None and "consecution" in problem and "frozen" in problem


def test_cli_engine_pdr_writes_certificate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tcpspec.cli import main

    path = tmp_path / "counters.tcpspec"
    path.write_text(COUNTERS)
    cert = tmp_path / "proof.txt"
    code = main(["check", str(path), "--engine", "pdr", "--depth", "5", "--timeout", "30", "--certificate", str(cert)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "proved" in out and "pdr" in out
    text = cert.read_text()
    assert text.startswith("// tcpspec proof certificate") and "invariant pdr_x_small_inv0:" in text
    assert "p.x" in text and "Spacer" in text


def test_cli_engine_pdr_violation_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tcpspec.cli import main

    path = tmp_path / "runaway.tcpspec"
    path.write_text(RUNAWAY)
    code = main(["check", str(path), "--engine", "pdr", "--prop", "x_small", "--timeout", "30"])
    out = capsys.readouterr().out
    assert code == 1 and "violated" in out and "counterexample of 4 steps" in out


def test_timeout_is_unknown_never_proved(tmp_path: Path) -> None:
    m = _model(tmp_path, COUNTERS)
    r = run_pdr(m, [m.property("x_small")], 0.0001, "int")[0]
    assert r.verdict in (Verdict.UNKNOWN, Verdict.PROVED)
    if r.verdict is Verdict.UNKNOWN:
        assert "timeout" in r.detail


SEED_PROPS = ["client.una_le_nxt", "client.fin_ack_rule", "server.syn_ack_rule", "range_ok"]


def test_seed_handshake_proofs() -> None:
    m = load_model(str(ROOT / "models" / "seed_handshake.tcpspec"))
    res = check_model(m, CheckOptions(properties=tuple(SEED_PROPS), engine="pdr", timeout=60, theory="int"))
    bad = {r.property: r.detail for r in res if r.verdict is not Verdict.PROVED}
    assert not bad, bad


@pytest.mark.parametrize("model,skip", [
    ("abp.tcpspec", ()),
    # agreement, validity and the coordinator's lemma over all votes: Spacer times out (> 60 s,
    # integers); kind and the explicit search prove them.
    ("two_phase_commit.tcpspec", ("agreement", "validity", "coord.committed_only_if_all_yes")),
])
def test_library_models_proofs(model: str, skip: tuple[str, ...]) -> None:
    m = load_model(str(ROOT / "models" / model))
    props = [p for p in m.properties if p.kind.value != "reachable" and p.name not in skip]
    res = run_pdr(m, props, 60, "auto")  # auto: integers for PDR
    bad = {r.property: r.detail for r in res if r.verdict is not Verdict.PROVED}
    assert props and not bad, bad


# Every broken variant Spacer refutes within its budget. The other tcp_* variants fail only after
# 6-11 steps, and Spacer gave up on each after 120 s (2026-12-01: data_ack_plus_one,
# simultaneous_close_time_wait, una_wrong, last_ack_no_wait, no_time_wait, passive_time_wait);
# the default check refutes them all at BMC's depth (tests/test_broken_models.py).
@pytest.mark.parametrize(
    "broken,prop,depth",
    [
        ("seed_ack_plus_two", "server.syn_ack_rule", 2),
        # 86 s of a CI worker (Spacer at depth 8): TCPSPEC_LONG=1
        pytest.param("seed_fin_no_consume", "client.fin_consumes_one", 8, marks=pytest.mark.slow),
        ("tcp_handshake_ack_off_by_one", "server.syn_ack_rule", 3),
        ("tcp_fin_no_consume", "client.fin_consumes_one", 4),
        ("tcp_syn_sent_any_ack", "client.una_le_nxt", 3),
        ("tcp_no_wraparound", "client.una_le_nxt", 1),
    ],
)
def test_broken_variants_refuted_at_bmcs_depth(broken: str, prop: str, depth: int) -> None:
    m = load_model(str(ROOT / "models" / "broken" / f"{broken}.tcpspec"))
    # 600 s: seed_fin_no_consume took 55-62 s on 2026-12-03 (alone, with the code of that
    # morning too), and failed the earlier 60 s budget in a full run; on the slower VM of
    # 2026-12-05, beside another pytest worker, 138 s of the 180 s it had then. The budget
    # only guards against a hang: the test is about the verdict, not the time.
    opts = CheckOptions(properties=(prop,), depth=depth + 2, timeout=600)
    # PDR first, in the test's fresh Z3 context as in a user's run: Spacer's time depends on
    # what the context saw before (seed_fin_no_consume: 13-27 s alone or after BMC, > 60 s
    # after the two-track BMC of 2026-12-02).
    pdr = check_model(m, opts.__class__(**{**opts.__dict__, "engine": "pdr"}))[0]
    bmc = check_model(m, opts.__class__(**{**opts.__dict__, "engine": "bmc"}))[0]
    assert bmc.verdict is Verdict.VIOLATED and bmc.depth == depth
    assert pdr.verdict is Verdict.VIOLATED and pdr.engine == "pdr" and pdr.depth == depth
    assert pdr.trace is not None and pdr.trace.length == depth


def test_z3_fixedpoint_is_available() -> None:
    """The engine relies on Spacer inside z3-solver (no extra dependency)."""
    fp = z3.Fixedpoint()
    fp.set(engine="spacer")


def test_tcp_properties_proved() -> None:
    """RFC 9293 model, every ISN: a few of the 17 invariant/step properties PDR proves (< 2 s each)."""
    m = load_model(str(ROOT / "models" / "tcp.tcpspec"))
    names = ("client.diagram_edges", "server.syn_ack_rule")
    res = check_model(m, CheckOptions(properties=names, engine="pdr", timeout=60))
    bad = {r.property: r.detail for r in res if r.verdict is not Verdict.PROVED}
    assert len(res) == 2 and not bad, bad


def test_a_property_no_state_can_break_is_proved_by_true(tmp_path: Path) -> None:
    """abp.tcpspec's slot lemmas at CAP = 1 quantify over an empty range: Spacer's answer for
    such a property once took 60-75 s of quantifier elimination or could not be read at all."""
    m = load_model(str(ROOT / "models" / "abp.tcpspec"))
    for name in ("stale_frames_first", "stale_acks_first"):
        (r,) = run_pdr(m, [m.property(name)], 60, "auto")
        assert r.verdict is Verdict.PROVED, r.detail
        assert "invariant pdr_" in r.certificate and ": true;" in r.certificate
    f = tmp_path / "m.tcpspec"
    f.write_text("process P() {\n  var x: 0..3 = 0;\n  transition t when x < 3 { x := x + 1; }\n}\n"
                 "instance p = P();\ninvariant in_type: p.x <= 3;\ninvariant not_valid: p.x <= 2;\n")
    m = load_model(str(f))
    res = {r.property: r for r in run_pdr(m, m.properties, 60, "auto")}
    assert ": true;" in res["in_type"].certificate
    assert res["not_valid"].verdict is Verdict.VIOLATED  # not every state: searched, and refuted


ONE_CONSTANT_STEP = """
process P() { var k: 0..1 = 0; transition t when k == 0 { k := 1; } }
instance p = P();
invariant k0: p.k == 0;
"""


@pytest.mark.parametrize("theory", ["int", "bv"])
def test_a_refutation_whose_trace_hides_its_step_gets_bmcs_counterexample(tmp_path: Path, theory: str) -> None:
    """Under bv, Spacer's trace for this one-step violation counts no step rule; BMC at depth 0
    found nothing and the verdict was an internal error. BMC now looks deeper."""
    m = _model(tmp_path, ONE_CONSTANT_STEP)
    res = {r.property: r for r in check_model(m, CheckOptions(engine="pdr", theory=theory, depth=5))}
    assert (res["k0"].verdict, res["k0"].depth) == (Verdict.VIOLATED, 1), res["k0"].detail
