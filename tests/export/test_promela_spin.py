"""SPIN, run on our Promela export, agrees with our verdicts (seed, TCP, broken variants).

Seed models: SPIN's exhaustive search (ISNs 0 and 2^32-1) against models/expected.json.
TCP models (infinite-state: data keeps moving the sequence numbers): runs cut at 6 steps, one
segment in flight, payload 1, against our BMC at depth 6 on the same model; and the faulty
network (loss, duplication, reordering; two segments in flight) at 4 steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.engines.bmc import run_bmc
from tcpspec.exporters.promela import ExportOptions, export_promela
from tcpspec.exporters.spin import run_spin, spin_available
from tcpspec.run.pipeline import load_model
from tcpspec.core.results import Verdict

ROOT = Path(__file__).resolve().parents[2]
WIDE = (0, 2**32 - 1)
needs_spin = pytest.mark.skipif(not spin_available(), reason="spin/gcc not installed (CI installs them)")


def spin_verdicts(model: ir.Model, tmp: Path, max_steps: int | None = None) -> dict[str, str]:
    res = run_spin(export_promela(model, ExportOptions(isn_values=WIDE, max_steps=max_steps)), tmp,
                   optimize=False, timeout=600)  # a guard against a hang (whole tests: up to 91 s on a slow VM)
    assert res.complete, res.output[-2000:]
    out = {}
    for p in model.properties:
        if p.kind is ir.PropertyKind.REACHABLE:
            out[p.name] = "reached" if p.name in res.reached else "unreached"
        else:
            out[p.name] = "violated" if p.name in res.violated else "holds"
    return out


@needs_spin
@pytest.mark.parametrize("path", ["models/seed_handshake.tcpspec", "models/broken/seed_ack_plus_two.tcpspec",
                                  "models/broken/seed_fin_no_consume.tcpspec"])
def test_spin_agrees_with_expected_on_seed_models(path: str, tmp_path: Path) -> None:
    got = spin_verdicts(load_model(str(ROOT / path)), tmp_path)
    expected = [e for e in json.loads((ROOT / "models/expected.json").read_text())
                if e["model"] == path and not e.get("defines")]
    assert expected
    for e in expected:
        assert got[e["property"]] == e["verdict"], e


@needs_spin
@pytest.mark.parametrize("path,defines,depth", [
    pytest.param("models/tcp.tcpspec", {}, 6, marks=pytest.mark.slow),
    # TCP under SPIN takes about a minute per row on a busy CI machine: with TCPSPEC_LONG=1 (the
    # smaller models above agree with BMC in every run).
    pytest.param("models/broken/tcp_no_wraparound.tcpspec", {}, 6, marks=pytest.mark.slow),
    pytest.param("models/broken/tcp_handshake_ack_off_by_one.tcpspec", {}, 6, marks=pytest.mark.slow),
    pytest.param("models/tcp.tcpspec", {"CAP": "2", "LOSS": "true", "DUP": "true", "REORDER": "true"}, 4,
                 marks=pytest.mark.slow),
])
def test_spin_agrees_with_bmc_on_tcp_models(path: str, defines: dict[str, str], depth: int, tmp_path: Path) -> None:
    model = load_model(str(ROOT / path), {"CAP": "1", "MSS": "1", **defines})
    got = spin_verdicts(model, tmp_path, max_steps=depth)
    ours = {r.property: r.verdict for r in run_bmc(model, list(model.properties), depth, None)}
    assert Verdict.UNKNOWN not in ours.values()
    assert got == {name: v.value for name, v in ours.items()}
    if "broken" in path:
        assert "violated" in got.values()


@pytest.mark.parametrize("path", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "models").rglob("*.tcpspec")))
def test_every_model_exports(path: str) -> None:
    text = export_promela(load_model(str(ROOT / path)), ExportOptions(isn_values=WIDE))
    assert "init {" in text and "proctype monitor()" in text


# Channel slots `ch[i]` (past the length: the empty message, each field its smallest value),
# `forall`, and a lemma: SPIN's exhaustive search and our BMC agree on every verdict (the model is finite: 7 sends at most).
SLOTS = """
const CAP = 3;
message M { a: 1..7 = 1, b: bool = false }
channel ch: M[CAP];
process P(out: chan M) {
  var x: 1..8 = 1;
  transition put when x < 8 { send out M { a: x, b: true }; x := x + 1; }
  transition take receive m from out when true { skip; }
}
instance p = P(out: ch);
lemma in_order: forall i in 0..CAP - 2: i + 1 < len(ch) ==> ch[i].a + 1 == ch[i + 1].a;
invariant empty_is_smallest: forall i in 0..CAP - 1: i >= len(ch) ==> ch[i].a == 1 && !ch[i].b;
invariant never_full_of_old: !(len(ch) == CAP && ch[0].a == 2);
reachable last_slot: ch[2].a == 5;
"""


@needs_spin
def test_spin_agrees_with_bmc_on_channel_slots(tmp_path: Path) -> None:
    path = tmp_path / "slots.tcpspec"
    path.write_text(SLOTS)
    model = load_model(str(path))
    ours = {r.property: r.verdict.value for r in run_bmc(model, model.properties, 16, None)}
    assert ours["never_full_of_old"] == "violated" and ours["in_order"] == "holds"
    assert ours["empty_is_smallest"] == "holds" and ours["last_slot"] == "reached"
    assert spin_verdicts(model, tmp_path) == ours
