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

from tcpspec import ir
from tcpspec.engines.bmc import run_bmc
from tcpspec.export.promela import ExportOptions, export_promela
from tcpspec.export.spin import run_spin, spin_available
from tcpspec.pipeline import load_model
from tcpspec.results import Verdict

ROOT = Path(__file__).resolve().parents[2]
WIDE = (0, 2**32 - 1)
needs_spin = pytest.mark.skipif(not spin_available(), reason="spin/gcc not installed (CI installs them)")


def spin_verdicts(model: ir.Model, tmp: Path, max_steps: int | None = None) -> dict[str, str]:
    res = run_spin(export_promela(model, ExportOptions(isn_values=WIDE, max_steps=max_steps)), tmp,
                   optimize=False, timeout=120)
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
    ("models/tcp.tcpspec", {}, 6),
    ("models/broken/tcp_no_wraparound.tcpspec", {}, 6),
    ("models/broken/tcp_handshake_ack_off_by_one.tcpspec", {}, 6),
    ("models/tcp.tcpspec", {"CAP": "2", "LOSS": "true", "DUP": "true", "REORDER": "true"}, 4),
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
