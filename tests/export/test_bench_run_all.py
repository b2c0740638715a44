"""`benchmarks/run_all.py --quick` runs end to end and writes the figures it prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_run_all_quick_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/run_all.py"), "--quick", "--json", str(out),
                           "--only", "depth", "proof", "stages", "scaling", "--cap", "90"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    runs = {r["name"]: r for r in doc["runs"]}
    assert "bmc seed_handshake depth 4 (invariants+steps)" in proc.stdout
    broken = next(r for name, r in runs.items() if "broken" in name)
    assert [x["property"] for x in broken["results"] if x["verdict"] == "violated"] == ["server.syn_ack_rule"]
    assert broken["stages"]["trace"] > 0 and broken["peak_rss_mb"] > 10
    assert all(not r["capped"] for r in runs.values())
    assert runs["bmc seed_handshake depth 4 (invariants+steps)"]["stages"]["z3"] > 0


def test_bmc_depth_options_keep_the_answers() -> None:
    """The per-depth benchmark's search-space options (normal form, cleared depths asserted) must
    not change an answer: unsat at every depth of the correct seed model, sat at the broken one's
    shortest depth (2)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bmc_depth import measure
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))

    def answers(path: str, **options: bool) -> list[str]:
        rows = measure(str(ROOT / path), 5, "auto", 120.0, **options)["depths"]
        return [row["answer"] for row in rows]  # type: ignore[attr-defined]

    for options in ({}, {"normal_form": True}, {"assume_cleared": True}, {"normal_form": True, "assume_cleared": True}):
        assert answers("models/seed_handshake.tcpspec", **options) == ["unsat"] * 6, options
        assert answers("models/broken/seed_ack_plus_two.tcpspec", **options)[:3] == ["unsat", "unsat", "sat"], options
