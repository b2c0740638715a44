"""Symmetry across a family: two-phase commit with N = 3, 4, 5 participants, with and without
the reduction (engines/family_symmetry.py, engines/explicit_symmetry.py).

    python benchmarks/symmetry.py [--cap SECONDS] [--json FILE] [--only 3,4]

For each N, `tcpspec check models/two_phase_commit.tcpspec -D N=n --no-cache --format json`
under `--engine explicit` and under the default `auto`, each with and without `--no-symmetry`,
alternately, in fresh processes: wall-clock time, exit code, the verdicts, and the explicit
search's figures (distinct states -- orbits with symmetry --, diameter, the symmetry line).
A run past the cap is recorded as `> cap`. Then the search alone, in this process
(`engines.explicit.explore` on the invariant `agreement`: every reachable state, no certificate),
with its CPU seconds (`time.process_time`), which a shared machine's load blurs less than wall
time. Figures go to docs/performance.md ("Symmetry across
a family"); the JSON file keeps the commit, the date and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODEL = "models/two_phase_commit.tcpspec"


def run(n: int, engine: str, symmetry: bool, cap: float) -> dict[str, Any]:
    args = ["check", MODEL, "-D", f"N={n}", "--no-cache", "--format", "json", "--engine", engine]
    if not symmetry:
        args.append("--no-symmetry")
    t0 = time.monotonic()
    row: dict[str, Any] = {"N": n, "engine": engine, "symmetry": symmetry}
    try:
        proc = subprocess.run([sys.executable, "-m", "tcpspec", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=cap)
    except subprocess.TimeoutExpired:
        row.update(seconds=None, capped=cap)
        return row
    row["seconds"] = round(time.monotonic() - t0, 2)
    row["exit"] = proc.returncode
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        row["error"] = proc.stderr[-400:]
        return row
    results = doc.get("results", [])
    row["verdicts"] = dict(Counter(r["verdict"] for r in results))
    row["engines"] = dict(Counter(r.get("engine") for r in results))
    search = next((r["search"] for r in results if r.get("search")), None)
    if search is not None:
        row["states"] = search["states"]
        row["diameter"] = search.get("diameter")
        row["complete"] = search["complete"]
        row["symmetry_line"] = search.get("symmetry")
        row["search_seconds"] = search.get("seconds")  # the search alone (no certificate, no Z3 check)
    return row


def search_alone(n: int, symmetry: bool, cap: float) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tcpspec.engines.explicit import ExplicitOptions, explore
    from tcpspec.run.pipeline import load_model

    model = load_model(str(ROOT / MODEL), {"N": str(n)})
    t0, c0 = time.monotonic(), time.process_time()
    _, outcome, _ = explore(model, [model.property("agreement")], 100, cap, ExplicitOptions(symmetry=symmetry))
    return {"N": n, "engine": "explore", "symmetry": symmetry, "states": outcome.states, "complete": outcome.complete,
            "diameter": outcome.diameter, "cut": outcome.cut or None,
            "cpu_seconds": round(time.process_time() - c0, 2), "seconds": round(time.monotonic() - t0, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cap", type=float, default=300.0)
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "symmetry.json"))
    ap.add_argument("--only", default="3,4,5", help="the values of N, comma-separated")
    args = ap.parse_args()
    rows = []
    for n in [int(x) for x in args.only.split(",")]:
        for engine in ("explicit", "auto"):
            for symmetry in (True, False):
                row = run(n, engine, symmetry, args.cap)
                rows.append(row)
                shown = f"{row['seconds']} s" if row.get("seconds") is not None else f"> {args.cap:.0f} s"
                print(f"N={n} {engine:8} {'sym' if symmetry else 'no-sym':6} {shown:>9}  states={row.get('states')}  "
                      f"search={row.get('search_seconds')} s  "
                      f"{row.get('verdicts')}  {row.get('symmetry_line')}", flush=True)
    for n in [int(x) for x in args.only.split(",")]:
        for symmetry in (True, False):
            row = search_alone(n, symmetry, args.cap)
            rows.append(row)
            print(f"N={n} search   {'sym' if symmetry else 'no-sym':6} states={row['states']} complete={row['complete']} "
                  f"cpu={row['cpu_seconds']} s wall={row['seconds']} s", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    out = {"commit": commit, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "load_average": os.getloadavg(), "cap": args.cap, "rows": rows}
    Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
