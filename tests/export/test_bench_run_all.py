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
