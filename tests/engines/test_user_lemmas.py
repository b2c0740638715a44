"""`lemma` declarations, channel slots `ch[i]` and `forall`/`exists`: checked, encoded, proved.

The queue model numbers its messages 0, 1, 2, ...; `head_age` (the head of a full queue is
CAP messages old) is not inductive on its own, and the prover's generated candidates do not
relate two slots of a channel, so only the user's lemmas close the proof.
"""

from __future__ import annotations

from pathlib import Path

import pytest


from tcpspec.interp import evaluate
from tcpspec.core.diagnostics import ModelError
from tcpspec.engines.prover import prove
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict

QUEUE = """
const CAP = 3;
message M { a: 0..7 = 0, b: bool = false }
channel ch: M[CAP];
process P(out: chan M) {
  var x: 0..7 = 0;
  transition put when x < 7 { send out M { a: x, b: true }; x := x + 1; }
  transition take receive m from out when true { skip; }
}
instance p = P(out: ch);
/// the head of a full queue was sent CAP messages ago
invariant head_age: len(ch) == CAP ==> ch[0].a + CAP == p.x;
invariant flags: forall i in 0..CAP - 1: ch[i].b == (i < len(ch));
reachable full: len(ch) == CAP && ch[2].a == 4;
"""

LEMMAS = """
/// messages in flight are numbered in order
lemma in_order: forall i in 0..CAP - 2: i + 1 < len(ch) ==> ch[i].a + 1 == ch[i + 1].a;
/// the last one is the latest sent
lemma last_is_x: forall i in 0..CAP - 1: i + 1 == len(ch) ==> ch[i].a + 1 == p.x;
"""


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "q.tcpspec"
    path.write_text(text)
    return load_model(str(path))


def _verdicts(tmp_path: Path, text: str, engine: str) -> dict[str, tuple[str, Verdict]]:
    path = tmp_path / "q.tcpspec"
    path.write_text(text)
    results = check_model(load_model(str(path)), CheckOptions(engine=engine, depth=8, timeout=60))
    return {r.property: (r.kind, r.verdict) for r in results}


def test_lemmas_close_a_proof_that_fails_without_them(tmp_path: Path) -> None:
    model = _load(tmp_path, QUEUE)
    head = [p for p in model.properties if p.name == "head_age"]
    assert not prove(model, head, 60)["head_age"].proved
    with_lemmas = _load(tmp_path, QUEUE + LEMMAS)
    outcome = prove(with_lemmas, [p for p in with_lemmas.properties if p.name == "head_age"], 60)["head_age"]
    assert outcome.proved and outcome.certificate is not None
    assert {"in_order", "last_is_x"} <= {c.name for c in outcome.certificate.invariants}


def test_phase_2_is_settled_by_the_recheck_or_searched_when_that_fails(tmp_path: Path) -> None:
    """`houdini(settle=...)`: a trial that passes ends the search with every phase 2 candidate
    kept; one that fails leaves phase 2 to the solver, with the answer it gives without."""
    from tcpspec.engines import houdini as hd
    from tcpspec.solving.budget import Budget

    model = _load(tmp_path, QUEUE + LEMMAS + "lemma short: len(ch) < 2;\n")
    plain = hd.houdini(model, Budget(60))
    tried: list[set[str]] = []
    unsure: list[set[str]] = []

    def refuse(invs, steps, on_trust) -> bool:  # type: ignore[no-untyped-def]
        tried.append({c.name for c in invs})
        unsure.append(on_trust)
        return False

    refused = hd.houdini(model, Budget(60), settle=refuse)
    assert {"in_order", "last_is_x", "short"} <= tried[0]  # all of phase 2's candidates were tried
    assert {"in_order", "last_is_x", "short", "head_age"} <= unsure[0]  # phase 1 dropped head_age
    assert not refused[2].settled_by_recheck
    assert sorted(c.name for c in refused[0]) == sorted(c.name for c in plain[0])
    assert "short" not in {c.name for c in plain[0]} and "in_order" in {c.name for c in plain[0]}
    accepted = hd.houdini(model, Budget(60), settle=lambda invs, steps, on_trust: True)
    assert accepted[2].settled_by_recheck and "short" in {c.name for c in accepted[0]}


def test_a_failed_trial_reopens_what_it_took_on_trust(tmp_path: Path) -> None:
    """The trial tells the portfolio "nothing unproved" (a trial: BMC may put the targets first,
    not idle); when it fails, what phase 1 dropped is unproved again at once, not only after
    phase 2 (a BMC waiting for the prover would otherwise sit on a violation)."""
    model = _load(tmp_path, QUEUE + LEMMAS + "lemma short: len(ch) < 2;\n")
    wanted = [p for p in model.properties if p.kind.value != "reachable"]
    calls: list[tuple[list[str], bool]] = []
    out = prove(model, wanted, 60, on_unproved=lambda names, trial: calls.append((sorted(names), trial)))
    assert calls[0] == ([], True)
    assert calls[1][1] is False and {"short", "head_age"} <= set(calls[1][0])
    assert calls[-1] == (["short"], False) and out["head_age"].proved and not out["short"].proved


def test_lemmas_are_reported_with_their_own_kind(tmp_path: Path) -> None:
    got = _verdicts(tmp_path, QUEUE + LEMMAS, "kind")
    assert got["in_order"] == ("lemma", Verdict.PROVED)
    assert got["last_is_x"] == ("lemma", Verdict.PROVED)
    assert got["head_age"] == ("invariant", Verdict.PROVED)
    assert got["full"] == ("reachable", Verdict.REACHED)


def test_a_false_lemma_is_violated_and_not_used(tmp_path: Path) -> None:
    wrong = QUEUE + "lemma short: len(ch) < 2;\n"
    got = _verdicts(tmp_path, wrong, "kind")
    assert got["short"] == ("lemma", Verdict.VIOLATED)
    assert got["head_age"][1] is Verdict.HOLDS  # still not proved: the false lemma did not help
    bmc = check_model(_load(tmp_path, wrong), CheckOptions(engine="bmc", depth=8, properties=("short",)))
    assert bmc[0].verdict is Verdict.VIOLATED and bmc[0].depth == 2


def test_slots_and_quantifiers_agree_with_the_interpreter(tmp_path: Path) -> None:
    """Every state of the explicit search satisfies the expanded properties exactly when Z3
    says the invariant holds: both read `ch[i]` past the length as the empty message."""
    model = _load(tmp_path, QUEUE + LEMMAS + "invariant past_end: len(ch) < 3 ==> ch[2].a == 0 && !ch[2].b;\n")
    got = check_model(model, CheckOptions(engine="bmc", depth=10))
    assert all(r.verdict in (Verdict.HOLDS, Verdict.REACHED) for r in got)
    state = {"p.x": 2, "ch": [{"a": 0, "b": True}]}
    prop = next(p for p in model.properties if p.name == "past_end")
    assert evaluate.eval_expr(prop.expr, evaluate.Env(pre=state)) is True


@pytest.mark.parametrize(
    "text, message",
    [
        ("invariant a: forall i of 0..2: true;", "expected 'in'"),
        ("invariant a: forall i in 0..p.x: true;", "must be a constant integer"),
        ("invariant a: forall CAP in 0..1: true;", "'CAP' already names something"),
        ("invariant a: ch[3].b;", "index 3 is outside channel 'ch'"),
        ("invariant a: p.x[0] == 1;", "cannot be indexed: only a map (m[k]) or a channel"),
        ("invariant a: forall i in 0..5000: true;", "at most 1024"),
        ("lemma a: p.x;", "lemma 'a' must be a bool"),
    ],
)
def test_errors_are_positioned(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ModelError) as err:
        _load(tmp_path, QUEUE + text + "\n")
    assert message in str(err.value)
    assert "q.tcpspec:" in str(err.value)


def test_in_is_still_a_name(tmp_path: Path) -> None:
    model = _load(tmp_path, QUEUE.replace("out", "in") + "invariant x: forall in in 0..1: in >= 0;\n")
    assert any(p.name == "x" for p in model.properties)


def test_seed_model_is_proved_with_its_lemmas_and_not_without() -> None:
    """The seed's `una_le_nxt` (SND.UNA =< SND.NXT in serial order) needs the model's own
    lemmas bounding SND.NXT - SND.UNA; without them the prover cannot rule out states where the
    two are 2^31 apart."""
    import dataclasses

    from tcpspec.checker import ir

    root = Path(__file__).resolve().parents[2]
    model = load_model(str(root / "models" / "seed_handshake.tcpspec"))
    wanted = [p for p in model.properties if p.kind is not ir.PropertyKind.REACHABLE]
    with_lemmas = prove(model, wanted, 600)  # a guard against a hang: the whole test took 51 s on a slow VM
    assert all(o.proved for o in with_lemmas.values()), {n: o.detail for n, o in with_lemmas.items() if not o.proved}
    bare = dataclasses.replace(model, properties=[p for p in model.properties if p.kind is not ir.PropertyKind.LEMMA])
    una = [p for p in bare.properties if p.name.endswith("una_le_nxt")]
    assert not any(o.proved for o in prove(bare, una, 120).values())


@pytest.mark.parametrize("defines", [{}, {"K": "4", "CAP": "2"}, {"DUP": "true", "CAP": "2"}])
def test_abp_is_proved_with_its_lemmas_and_not_without(defines: dict[str, str]) -> None:
    """The alternating-bit protocol's safety needs the FIFO argument (stale frames and acks ahead
    of current ones), which the generated lemmas do not state; the model's lemmas do."""
    import dataclasses

    from tcpspec.checker import ir

    root = Path(__file__).resolve().parents[2]
    model = load_model(str(root / "models" / "abp.tcpspec"), defines)
    wanted = [p for p in model.properties if p.kind is not ir.PropertyKind.REACHABLE]
    assert len(wanted) == 11
    proofs = prove(model, wanted, 120)
    assert all(o.proved for o in proofs.values()), {n: o.detail for n, o in proofs.items() if not o.proved}
    bare = dataclasses.replace(model, properties=[p for p in model.properties if p.kind is not ir.PropertyKind.LEMMA])
    in_order = [p for p in bare.properties if p.name == "delivered_in_order"]
    assert not prove(bare, in_order, 120)["delivered_in_order"].proved


def test_abp_breaks_when_duplicates_land_behind_newer_frames() -> None:
    """With CAP = 3 a duplicated stale frame can follow a current one: the receiver then takes it
    for the next message. The default check finds it (and proves nothing it should not)."""
    root = Path(__file__).resolve().parents[2]
    model = load_model(str(root / "models" / "abp.tcpspec"), {"DUP": "true", "CAP": "3"})
    out = {r.property: r for r in check_model(model, CheckOptions(depth=10, kinds=("invariant",)))}
    assert out["delivered_in_order"].verdict is Verdict.VIOLATED
    assert out["delivered_in_order"].trace is not None and out["delivered_in_order"].trace.length == 9


def test_message_fields_whose_range_excludes_zero(tmp_path: Path) -> None:
    """Empty slots hold each field's smallest value: with `a: 1..7` the model still has an
    initial state (it had none when empty slots were held at 0, outside the range)."""
    text = QUEUE.replace("a: 0..7 = 0", "a: 1..7 = 1").replace("var x: 0..7 = 0", "var x: 1..7 = 1")
    text = text.replace("ch[0].a + CAP == p.x", "ch[0].a + CAP == p.x || p.x == 7")
    got = _verdicts(tmp_path, text + "invariant empty: len(ch) < 3 ==> ch[2].a == 1;\n", "bmc")
    assert got["empty"] == ("invariant", Verdict.HOLDS)
    assert got["flags"] == ("invariant", Verdict.HOLDS)
