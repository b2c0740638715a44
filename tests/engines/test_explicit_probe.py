"""Solver-proposed injections in the explicit search (engines/explicit_probe.py).

The attacker copy of TCP (SYN-SENT accepts any SEG.ACK) breaks `client.una_le_nxt` only with a
forged acknowledgment number past SND.NXT, which the sampled values (0, 2^32-1) are not; the
breadth-first search alone cannot reach its third step within the head start's budget. The
probe must find it, and must never change a verdict: whatever it proposes, the default
check's answer (the explicit search's runs, confirmed by BMC) is BMC's own.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import event, given, settings
from hypothesis import strategies as st

from tcpspec.checker import ir
from tcpspec.engines.bmc import run_bmc
from tcpspec.engines.explicit import PROBED, ExplicitOptions, head_start, run_explicit
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import PropertyResult, Verdict

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "trust"))
from gen_models import COMMON, LONG, load_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ATTACK = ROOT / "models" / "broken" / "tcp_syn_sent_any_ack.tcpspec"


def _safety(model: ir.Model) -> list[ir.Property]:
    return [p for p in model.properties if p.kind is not ir.PropertyKind.LEMMA]


def test_the_probe_finds_the_forged_ack_of_the_attacker_copy() -> None:
    """The head start alone (no BMC): the violation at depth 3, a replayed run whose forged
    SEG.ACK is none of the sampled values; without the probe the head start finds nothing."""
    m = load_model(str(ATTACK))
    head = head_start(m, _safety(m), 20, None, keep_going=False)
    r = head.pending["client.una_le_nxt"]
    assert r.verdict is Verdict.VIOLATED and r.engine == "explicit" and r.depth == 3 and r.detail == PROBED
    assert r.trace is not None
    forged = r.trace.steps[2]
    assert forged.transition == "s2c.injection" and forged.params["ackno"] not in (0, 2**32 - 1)
    assert r.trace.steps[3].transition == "client.syn_sent_recv_syn_ack"
    assert not head.final  # sampled values: BMC must confirm that none is shorter
    off = head_start(m, _safety(m), 20, None, keep_going=False, probe=False)
    assert not off.pending


def test_the_default_check_reports_the_explicit_searchs_run() -> None:
    """The default check: the violation is the explicit search's run (engine explicit),
    confirmed shortest by BMC, at the shortest depth (models/expected.json: 3)."""
    m = load_model(str(ATTACK))
    res = {r.property: r for r in check_model(m, CheckOptions())}
    r = res["client.una_le_nxt"]
    assert r.verdict is Verdict.VIOLATED and r.depth == 3 and r.engine == "explicit", r
    assert r.detail == "shortest over all values: confirmed (BMC found no shorter violation)"
    assert {x.depth for x in res.values() if x.verdict is Verdict.VIOLATED} == {3}


def test_the_engine_alone_says_the_run_may_not_be_the_shortest() -> None:
    m = load_model(str(ATTACK))
    res = {r.property: r for r in run_explicit(m, _safety(m), 6, 120.0, ExplicitOptions(max_states=20_000),
                                              keep_going=False)}
    r = res["client.una_le_nxt"]
    assert r.verdict is Verdict.VIOLATED and r.depth == 3 and r.detail == PROBED
    # Never a run longer than the bound: with --depth 2 the proposals may not add their steps.
    short = run_explicit(m, _safety(m), 2, 120.0, ExplicitOptions(max_states=3_000), keep_going=False)
    assert not [x for x in short if x.verdict is Verdict.VIOLATED]


# ---------------------------------------------------------------- differential: never a verdict

GUARDS = ["r.v == p_s", "r.v == p_s + 1", "p_s < r.v", "r.v <= p_s + 4", "r.f", "!r.f", "x < 2",
          "r.v == 2147483648", "r.v != 0"]
BODIES = ["s := r.v;", "s := s + 1;", "x := x + 1;", "b := true;", "b := r.f;", "x := 0;"]
INVARIANTS = ["p.s == 0 || p.x > 0", "p.s <= 5", "!(p.b && p.x == 2)", "p.s < 2147483648 || !p.b", "p.s != 7",
              "p.x < 3"]
DEPTH = 4


@st.composite
def attacked_model(draw: st.DrawFn) -> str:
    """A receiver of injected messages with a 32-bit field, guards comparing it with its state."""
    trans = []
    for i in range(draw(st.integers(1, 3))):
        guard = " && ".join(draw(st.lists(st.sampled_from(GUARDS), min_size=1, max_size=2, unique=True)))
        body = " ".join(draw(st.lists(st.sampled_from(BODIES), min_size=1, max_size=2, unique=True)))
        trans.append(f"  transition r{i} receive r from ch when {guard.replace('p_s', 's')} {{ {body} }}")
    if draw(st.booleans()):
        trans.append("  transition tick when x < 3 { x := x + 1; }")
    invs = draw(st.lists(st.sampled_from(INVARIANTS), min_size=1, max_size=3, unique=True))
    return (
        "message M { v: seq32 = 0, f: bool = false }\n"
        f"channel ch: M[{draw(st.integers(1, 2))}] with injection = true;\n"
        "process P() {\n  var s: seq32 = 0;\n  var x: 0..3 = 0;\n  var b: bool = false;\n"
        + "\n".join(trans) + "\n}\ninstance p = P();\n"
        + "\n".join(f"invariant inv{i}: {e};" for i, e in enumerate(invs)) + "\n"
    )


def _answers(results: list[PropertyResult]) -> dict[str, tuple[str, int | None]]:
    return {r.property: (r.verdict.value, r.depth if r.verdict in (Verdict.VIOLATED, Verdict.REACHED) else None)
            for r in results}


@settings(max_examples=200 if LONG else 25, **COMMON)  # type: ignore[arg-type]
@given(attacked_model(), st.booleans())
def test_the_probe_never_changes_a_verdict(text: str, keep_going: bool) -> None:
    """BMC alone, and BMC after the head start with and without the probe (as the portfolio
    runs them): the same verdict and depth for every property; every run the probe found is
    a real one (replayed) no shorter than BMC's."""
    m = load_text(text)
    props = list(m.properties)
    plain = _answers(run_bmc(m, props, DEPTH, 60.0, keep_going=keep_going))
    for probe in (True, False):
        head = head_start(m, props, DEPTH, 60.0, keep_going, probe=probe)
        if probe:
            event(f"the probe found a run: {any(r.detail == PROBED for r in head.pending.values())}")
        for name, r in head.pending.items():
            assert r.trace is not None, text
            if keep_going:  # (else BMC stops at its first violation's depth)
                assert plain[name][0] == "violated" and (r.depth or 0) >= (plain[name][1] or 0), text
        got = _answers(run_bmc(m, props, DEPTH, 60.0, keep_going=keep_going, head=head))
        assert got == plain, f"probe={probe}: {got} vs BMC {plain}\n{text}"
