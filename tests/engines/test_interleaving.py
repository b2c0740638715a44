"""The normal form of interleavings (engines/interleaving.py): footprints read off the steps,
independent pairs that Z3 confirms commute, and BMC depths unchanged by the reduction."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.engines import bmc, interleaving
from tcpspec.engines.interleaving import Interleaving
from tcpspec.run.pipeline import load_model
from tcpspec.core.results import Verdict
from tcpspec.encoding.theories import choose_theory
from tcpspec.encoding.transition_system import TransitionSystem

ROOT = Path(__file__).resolve().parents[2]
RLIMIT = 500_000_000  # Z3's work for a commutation query: ten times the most one below takes (47.5 M)

# `a.note` and `b.bump` touch disjoint state, so they commute; `tell` is about the step that
# sends, and reads b's counter: only the run "bump, then note" breaks it, and in that run the
# higher-ranked transition comes first, which the normal form forbids between inner steps.
PAIR = """
message M { v: 0..1 }
channel c: M[1];
process A() { var x: 0..1 = 0; transition note when len(c) == 0 { x := 1; send c M { v: 1 }; } }
process B() { var y: 0..3 = 0; transition bump when y < 3 { y := y + 1; } }
instance a = A();
instance b = B();
step tell: on send m to c ensure b.y == 0;
invariant y_small: b.y <= 2;
"""


def _pair(tmp_path: Path) -> ir.Model:
    (tmp_path / "pair.tcpspec").write_text(PAIR)
    return load_model(str(tmp_path / "pair.tcpspec"))


def test_footprints_name_what_each_transition_reads_and_writes(tmp_path: Path) -> None:
    m = _pair(tmp_path)
    ts = TransitionSystem(m, choose_theory(m, "auto"))
    fp = dict(zip((t.name for t in ts.transitions), interleaving.footprints(ts)))
    assert fp["a.note"] == (frozenset({"c"}), frozenset({"a.x", "c"}))
    assert fp["b.bump"] == (frozenset({"b.y"}), frozenset({"b.y"}))
    found = interleaving.find(ts)
    assert found is not None and found.blocked == ((), (0,))  # note may not follow bump


@pytest.mark.parametrize("normal_form", [True, False])
def test_a_step_property_is_found_at_its_depth_although_its_last_step_is_out_of_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, normal_form: bool,
) -> None:
    monkeypatch.setattr(bmc, "NORMAL_FORM", normal_form)
    m = _pair(tmp_path)
    props = [p for p in m.properties if not p.builtin]
    results = {r.property: r for r in bmc.run_bmc(m, props, 4, None)}
    assert results["tell"].verdict is Verdict.VIOLATED and results["tell"].depth == 2
    assert results["y_small"].verdict is Verdict.VIOLATED and results["y_small"].depth == 3


@pytest.mark.parametrize("model,defines", [
    ("models/tcp.tcpspec", {}),
    ("models/tcp.tcpspec", {"LOSS": "true", "DUP": "true"}),
    ("models/seed_handshake.tcpspec", {}),
    ("models/abp.tcpspec", {}),
])
def test_z3_confirms_that_every_independent_pair_commutes(model: str, defines: dict[str, str]) -> None:
    m = load_model(str(ROOT / model), defines)
    ts = TransitionSystem(m, choose_theory(m, "auto"))
    found = interleaving.find(ts)
    assert found is not None and found.pairs > 0
    # Z3's count of its own work, not the clock: the 10 s cap of a run made this fail on a busy
    # machine (tcp.tcpspec with LOSS and DUP: 47.5 M of Z3's rlimit, 3.5-6.4 s on a loaded VM).
    assert interleaving.verified(ts, found, None, rlimit=RLIMIT)


def test_the_commutation_check_refutes_a_dependent_pair() -> None:
    m = load_model(str(ROOT / "models/tcp.tcpspec"))
    ts = TransitionSystem(m, choose_theory(m, "auto"))
    names = [t.name for t in ts.transitions]
    # The server's SYN reception reads the segment the client's active open sends.
    a, b = names.index("server.listen_recv_syn"), names.index("client.active_open")
    blocked = [() for _ in names]
    blocked[a] = (b,)
    assert interleaving.find(ts) is not None and b not in interleaving.find(ts).blocked[a]  # type: ignore[union-attr]
    assert not interleaving.verified(ts, Interleaving(tuple(blocked)), None, rlimit=RLIMIT)


def test_the_safety_track_finds_the_same_shortest_violations_with_and_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    m = load_model(str(ROOT / "models/broken/tcp_una_wrong.tcpspec"))
    names = {"client.una_moves_to_ack", "server.una_moves_to_ack", "client.una_le_nxt", "no_half_open"}
    props = [p for p in m.properties if p.name in names]
    depths = {}
    for on in (True, False):
        monkeypatch.setattr(bmc, "NORMAL_FORM", on)
        depths[on] = {r.property: (r.verdict, r.depth) for r in bmc.run_bmc(m, props, 6, None)}
    assert depths[True] == depths[False]
    assert depths[True]["client.una_moves_to_ack"] == (Verdict.VIOLATED, 6)  # models/expected.json
