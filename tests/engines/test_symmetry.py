"""Instance symmetry (solving/symmetry.py): found only where Z3 verifies it, and a re-check that
asks half the consecution cases still refutes what the other half would."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.solving import symmetry
from tcpspec.proof.certificate import CertInvariant, Certificate, property_builder, recheck
from tcpspec.run.pipeline import load_model
from tcpspec.encoding.theories import choose_theory
from tcpspec.encoding.transition_system import TransitionSystem

ROOT = Path(__file__).resolve().parents[2]

# Two peers running one process over mirrored channels. b is the only one that sends on ba, so
# `ba_small` is about b's steps alone: a re-check asking a's cases must still see it fail.
PEERS = """
message M { v: 0..3 }
channel ab: M[1];
channel ba: M[1];
process P(inbox: chan M, outbox: chan M, limit: 0..3, start: 0..3) {
  var sent: 0..3 = 0;
  var got: 0..3 = start;
  transition send_one when sent < limit { sent := sent + 1; send outbox M { v: sent + 1 }; }
  transition take receive m from inbox { got := m.v; }
}
instance a = P(inbox: ba, outbox: ab, limit: 3, start: 0);
instance b = P(inbox: ab, outbox: ba, limit: 3, start: 0);
invariant a_bounded: a.sent <= 3;
invariant b_bounded: b.sent <= 3;
step ba_small: on send m to ba ensure m.v <= 2;
invariant a_got_low: a.got <= 2;
invariant b_got_low: b.got <= 2;
"""


def _ts(tmp_path: Path, text: str) -> TransitionSystem:
    path = tmp_path / "m.tcpspec"
    path.write_text(text)
    m = load_model(str(path))
    return TransitionSystem(m, choose_theory(m, "auto"))


def test_mirrored_peers_have_a_verified_swap(tmp_path: Path) -> None:
    ts = _ts(tmp_path, PEERS)
    sym = symmetry.find(ts)
    assert sym is not None and sym.instances == ("a", "b")
    names = [t.name for t in ts.transitions]
    assert [names[i] for i in sym.representatives] == ["a.send_one", "a.take"]
    assert [names[j] for j in sym.image] == ["b.send_one", "b.take", "a.send_one", "a.take"]


@pytest.mark.parametrize("change", [
    ("outbox: ba, limit: 3", "outbox: ba, limit: 2"),  # a guard differs: a transition check fails
    ("limit: 3, start: 0);\ninvariant", "limit: 3, start: 1);\ninvariant"),  # the initial states differ
    ("channel ba: M[1];", "channel ba: M[2];"),  # capacities differ: not even proposed
    ("channel ab: M[1];", "channel ab: M[1] with loss;"),  # only one channel loses: not proposed
])
def test_no_swap_where_the_instances_differ(tmp_path: Path, change: tuple[str, str]) -> None:
    text = PEERS.replace(*change)
    assert text != PEERS
    assert symmetry.find(_ts(tmp_path, text)) is None


def _certificate(m: ir.Model, names: list[str]) -> Certificate:
    invs = [CertInvariant(n, n, property_builder(m.property(n)), "property") for n in names]
    return Certificate(invs, proved=[])


@pytest.mark.parametrize("use_symmetry", [True, False])
def test_a_step_property_of_the_other_half_is_still_refuted(tmp_path: Path, use_symmetry: bool) -> None:
    ts = _ts(tmp_path, PEERS)
    m = ts.model
    cert = _certificate(m, ["a_bounded", "b_bounded"])
    assert recheck(m, cert, [m.property("a_bounded"), m.property("b_bounded")], use_symmetry=use_symmetry) is None
    failed = recheck(m, cert, [m.property("ba_small")], use_symmetry=use_symmetry)
    assert failed is not None and "ba_small" in failed


def test_an_invariant_not_closed_under_the_swap_is_rechecked_whole(tmp_path: Path) -> None:
    """Inv = {a_got_low} alone: its mirror is neither in it nor implied, so every case is asked."""
    ts = _ts(tmp_path, PEERS)
    sym = symmetry.find(ts)
    assert sym is not None
    m = ts.model
    a_only = [ts.holds_at(m.property("a_got_low"), 0)]
    assert not symmetry.closed(ts, sym, a_only)
    assert symmetry.closed(ts, sym, a_only + [ts.holds_at(m.property("b_got_low"), 0)])
    failed = recheck(m, _certificate(m, ["a_got_low"]), [m.property("a_got_low")])
    assert failed is not None and "consecution" in failed  # a.take of a 3 breaks it


def test_tcp_client_and_server_are_mirrors() -> None:
    m = load_model(str(ROOT / "models" / "tcp.tcpspec"))
    sym = symmetry.find(TransitionSystem(m, choose_theory(m, "auto")))
    assert sym is not None and sym.instances == ("client", "server")
    assert len(sym.representatives) == len(m.transitions) // 2


# Two counters per instance, as in tests/data/counters.tcpspec. `both_small` is its own mirror
# only up to the order of its conjuncts; `b_le2` fails only on b's steps, which the symmetric
# rounds never take: it must go with its partner `a_le2`.
TWINS = """
process P() {
  var x: bv4 = 0;
  var y: bv4 = 0;
  transition tick when y < 3 { x := x + 1; y := y + 1; }
  step tick_moves_both: ensure x' - x == y' - y;
}
instance a = P();
instance b = P();
invariant a_small: a.x <= 3;
invariant b_small: b.x <= 3;
invariant both_small: a.x <= 3 && b.x <= 3;
invariant a_le2: a.x <= 2;
invariant b_le2: b.x <= 2;
"""


def test_houdini_over_half_the_transitions_keeps_what_the_whole_keeps(tmp_path: Path) -> None:
    from tcpspec.solving.budget import Budget
    from tcpspec.engines.houdini import houdini

    path = tmp_path / "twins.tcpspec"
    path.write_text(TWINS)
    m = load_model(str(path))
    found = {}
    for use in (True, False):
        invs, steps, stats, reason = houdini(m, Budget(60), use_symmetry=use)
        assert reason == "" and stats.symmetric is use
        found[use] = ({c.name for c in invs}, {p.name for p in steps})
    assert found[True] == found[False]
    props = {n for n in found[True][0] if not n.startswith("lemma")}
    assert props == {"a_small", "b_small", "both_small"}
    assert found[True][1] == {"a.tick_moves_both", "b.tick_moves_both"}


def test_a_property_without_a_mirror_turns_the_swap_off(tmp_path: Path) -> None:
    from tcpspec.solving.budget import Budget
    from tcpspec.engines.houdini import houdini

    path = tmp_path / "twins.tcpspec"
    path.write_text(TWINS.replace("invariant b_le2: b.x <= 2;\n", ""))
    invs, _, stats, _ = houdini(load_model(str(path)), Budget(60))
    assert not stats.symmetric and {"a_small", "b_small", "both_small"} <= {c.name for c in invs}


def test_bmc_starts_the_targets_runs_with_one_side_only_for_targets_that_are_their_own_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tcpspec.engines import bmc
    from tcpspec.engines.bmc import _mirrored_first_step, run_bmc
    from tcpspec.solving.budget import Budget
    from tcpspec.core.results import Verdict

    text = PEERS + "reachable one_sent: a.sent + b.sent == 1;\nreachable b_first: b.sent == 1 && a.sent == 0;\n"
    ts = _ts(tmp_path, text)
    m = ts.model
    assert _mirrored_first_step(ts, [m.property("one_sent")], Budget(10)) is not None
    assert _mirrored_first_step(ts, [m.property("one_sent"), m.property("b_first")], Budget(10)) is None
    monkeypatch.setattr(bmc, "SEED_STATES", 0)  # the solver's own witnesses, not the interpreter's
    for names in (["one_sent"], ["one_sent", "b_first"]):
        res = {r.property: r for r in run_bmc(m, [m.property(n) for n in names], 6, 30)}
        assert all(r.verdict is Verdict.REACHED and r.depth == 1 for r in res.values()), res
    # Only a's steps first: one_sent's witness starts with a (b's would be just as short).
    only = run_bmc(m, [m.property("one_sent")], 6, 30)[0]
    assert only.trace is not None and only.trace.steps[-1].transition == "a.send_one"
    monkeypatch.setattr(bmc, "MIRROR_TARGETS", False)
    assert run_bmc(m, [m.property("one_sent")], 6, 30)[0].depth == 1
