"""The translations of published algorithms (models/chang_roberts, bakery, tcp_server): the
proofs the expected.json table cannot pin (it pins BMC's bounded verdicts), the figures of the
explicit search, and that each broken copy is a variant of its model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.engines.explicit import run_explicit
from tcpspec.engines.prover import prove
from tcpspec.run.pipeline import load_model
from tcpspec.core.results import Verdict

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
COPIES = {
    "chang_roberts": ["chang_roberts_relay_all", "chang_roberts_ge"],
    "bakery": ["bakery_no_choosing_wait", "bakery_no_tiebreak"],
    "tcp_server": ["server_syn_ack_seq", "server_backlog_off_by_one", "server_ack_any_entry"],
}


@pytest.mark.parametrize(("base", "copy"), [(b, c) for b, cs in COPIES.items() for c in cs])
def test_a_broken_copy_is_a_variant_of_its_model(base: str, copy: str) -> None:
    """A variant of its model with one fault (tests/test_broken_models.py checks that it changes
    only the items it names)."""
    from tcpspec.frontend.parser import parse_text

    path = MODELS / "broken" / f"{copy}.tcpspec"
    text = path.read_text(encoding="utf-8")
    variant = parse_text(text, str(path)).variant
    assert variant is not None and variant.base == f"../{base}.tcpspec"
    assert text.count("// FAULT") == 1


def test_chang_roberts_is_proved_exhaustively_for_four_nodes() -> None:
    m = load_model(str(MODELS / "chang_roberts.tcpspec"), {"N": "4"})
    props = [m.property(n) for n in ("one_leader", "leader_has_max_id", "others_lost")]
    for r in run_explicit(m, props, 20, 120.0):
        assert r.verdict is Verdict.PROVED, r.detail
        assert r.detail.startswith("exhaustive: 616 states, diameter 14"), r.detail


def test_the_tcp_server_is_proved_for_three_clients_with_its_lemmas() -> None:
    m = load_model(str(MODELS / "tcp_server.tcpspec"))
    props = [p for p in m.properties if p.kind.value in ("invariant", "lemma", "step")]
    outcomes = prove(m, props, 300)
    assert {n for n, o in outcomes.items() if not o.proved} == set()
    assert {"entry_matches_client", "one_entry_per_client", "backlog_bound"} <= set(outcomes)


@pytest.mark.slow
def test_the_bakery_is_proved_for_three_processes_with_the_tla_invariant() -> None:
    """Mutual exclusion from the TLA+ module's IInv, written as the process's seven lemmas
    (20-45 s on a 2-core machine)."""
    m = load_model(str(MODELS / "bakery.tcpspec"))
    props = [p for p in m.properties if p.kind.value in ("invariant", "lemma")]
    outcomes = prove(m, props, 600)
    assert {n for n, o in outcomes.items() if not o.proved} == set()
    assert "mutual_exclusion" in outcomes


def test_the_bakery_is_proved_for_two_processes_with_the_tla_invariant() -> None:
    m = load_model(str(MODELS / "bakery.tcpspec"), {"N": "2", "MAXNUM": "2"})
    props = [m.property("mutual_exclusion")] + [p for p in m.properties if p.kind.value == "lemma"]
    outcomes = prove(m, props, 300)
    assert {n for n, o in outcomes.items() if not o.proved} == set()
