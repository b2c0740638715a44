"""Two-phase commit as a family: the issue-34 targets, the cost of N, and maps as Z3 arrays.

    python benchmarks/two_phase_commit.py [--cap SECONDS] [--json FILE] [--quick]

1. `tcpspec check models/two_phase_commit.tcpspec -D N=3 --no-cache` (proves the consistency
   invariant `agreement` and the rest from scratch; target < 10 s) and the broken copy with
   `-D N=5` (finds the violation; target < 30 s), as a user runs them: wall-clock time of the
   CLI in a fresh process, and its exit code and summary line.
2. The same two for N = 3, 4, 5 (how the cost grows with the family).
3. BMC of every property to depth 12, N = 3 and 5, with each encoding of maps and sets: one
   term per key (what every command uses) and Z3 arrays (`theory_arrays.py`), under both number
   theories. Each run is capped (`--cap`); a capped run prints `> cap`.

Figures go to docs/performance.md ("Two-phase commit and families"); the JSON file keeps the
machine, the commit and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODEL = "models/two_phase_commit.tcpspec"
BROKEN = "models/broken/two_phase_commit_quorum.tcpspec"


def cli(args: list[str], cap: float) -> dict[str, Any]:
    """One `tcpspec` run in a fresh process: wall time, exit code, the summary line."""
    t0 = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "tcpspec", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return {"args": args, "seconds": None, "capped": True}
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return {"args": args, "seconds": round(time.monotonic() - t0, 2), "exit": proc.returncode,
            "summary": lines[-1] if lines else proc.stderr.strip()[-200:], "capped": False}


def bmc(n: int, theory: str, depth: int, cap: float) -> dict[str, Any]:
    """BMC of every property of the model with N members, in a child process (a hard cap)."""
    code = (
        "import json, time\n"
        "from tcpspec.run.pipeline import load_model\n"
        "from tcpspec.engines.bmc import run_bmc\n"
        f"m = load_model({MODEL!r}, {{'N': '{n}'}})\n"
        "props = [p for p in m.properties if not p.builtin]\n"
        f"t = time.monotonic(); rs = run_bmc(m, props, {depth}, {cap}, {theory!r})\n"
        "print(json.dumps({'seconds': round(time.monotonic() - t, 2),"
        " 'verdicts': {r.property: r.verdict.value for r in rs}}))\n"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                              timeout=cap + 60)
    except subprocess.TimeoutExpired:
        return {"n": n, "theory": theory, "depth": depth, "seconds": None, "capped": True}
    if proc.returncode != 0:
        return {"n": n, "theory": theory, "depth": depth, "error": proc.stderr.strip()[-300:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    unknown = [p for p, v in out["verdicts"].items() if v == "unknown"]
    return {"n": n, "theory": theory, "depth": depth, "seconds": out["seconds"], "capped": bool(unknown),
            "unknown": unknown}


def machine() -> dict[str, Any]:
    import z3

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    return {"python": platform.python_version(), "z3": z3.get_version_string(), "cpus": os.cpu_count(),
            "load_average": os.getloadavg(), "commit": commit.strip(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def shown(seconds: float | None, capped: bool, cap: float) -> str:
    return f"> {cap:.0f} s" if capped or seconds is None else f"{seconds:.1f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cap", type=float, default=120.0, help="seconds per run (default 120)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "two_phase_commit.json"))
    ap.add_argument("--quick", action="store_true", help="N = 3 only, BMC to depth 6")
    args = ap.parse_args()
    sizes = [3] if args.quick else [3, 4, 5]
    doc: dict[str, Any] = {"machine": machine(), "cap": args.cap, "targets": [], "scaling": [], "encodings": []}

    print("targets (CLI, fresh process, no proof cache):")
    for model, n in ((MODEL, 3), (BROKEN, 5)):
        r = cli(["check", model, "-D", f"N={n}", "--no-cache"], args.cap)
        doc["targets"].append(r)
        print(f"  {model} -D N={n}: {shown(r['seconds'], r['capped'], args.cap)}  exit {r.get('exit')}  {r.get('summary', '')}")

    print("scaling (the same commands):")
    for n in sizes:
        for model in (MODEL, BROKEN):
            r = cli(["check", model, "-D", f"N={n}", "--no-cache"], args.cap)
            r["n"] = n
            doc["scaling"].append(r)
            print(f"  N={n} {Path(model).name:<34} {shown(r['seconds'], r['capped'], args.cap):>9}  {r.get('summary', '')}")

    depth = 6 if args.quick else 12
    print(f"encodings (BMC of every property to depth {depth}):")
    for n in (3,) if args.quick else (3, 5):
        for theory in ("bv", "bv+arrays", "int", "int+arrays"):
            r = bmc(n, theory, depth, args.cap)
            doc["encodings"].append(r)
            print(f"  N={n} {theory:<11} {shown(r.get('seconds'), r.get('capped', True), args.cap):>9}"
                  + (f"  unknown: {', '.join(r['unknown'])}" if r.get("unknown") else "")
                  + (f"  error: {r['error']}" if r.get("error") else ""))

    Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    print(f"written to {args.json}")


if __name__ == "__main__":
    main()
