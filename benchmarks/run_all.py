"""Whole-run figures for tcpspec, one command: prints a table, writes benchmarks/results.json.

    python benchmarks/run_all.py [--quick] [--cap SECONDS] [--json FILE] [--only GROUP ...]

Groups: `depth` (BMC of tcp.tcpspec to 10/20/40/80 steps), `proof` (time to verdict per
property, engines bmc, kind and auto; the default `tcpspec check` of tcp.tcpspec), `stages` (parse/check/encode/z3/trace/other of one run),
`scaling` (CAP 1..4, MSS 1..2^k, lossy vs reliable), `solvers` (z3 vs Bitwuzla on the same
exported BMC queries). Each run is a fresh process (benchmarks/bench_worker.py) so its peak
memory is its own; a run over the per-run cap is recorded as "> cap". `--quick` is a smoke
mode on the small seed model (a test runs it).
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
TCP = "models/tcp.tcpspec"
SEED = "models/seed_handshake.tcpspec"
SAFETY = ["invariant", "step"]


def worker(spec: dict[str, Any], cap: float) -> dict[str, Any]:
    """Run one spec in a subprocess; `{"capped": True}` when it exceeds `cap` seconds."""
    cmd = [sys.executable, str(ROOT / "benchmarks/bench_worker.py"), json.dumps(spec)]
    t0 = time.perf_counter()
    try:
        # The proof cache off: every run searches its proofs (a cache hit would measure a re-check).
        env = {**os.environ, "TCPSPEC_NO_CACHE": "1"}
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=cap, env=env)
    except subprocess.TimeoutExpired:
        return {"spec": spec, "capped": True, "seconds": None, "wall": round(time.perf_counter() - t0, 2)}
    if proc.returncode != 0:
        return {"spec": spec, "error": proc.stderr.strip()[-500:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"spec": spec, "capped": False, **out}


def fmt(r: dict[str, Any], cap: float) -> str:
    if r.get("error"):
        return "error"
    return f"> {cap:g}s" if r["capped"] else f"{r['seconds']:.2f}s"


def group_depth(quick: bool, cap: float) -> list[dict[str, Any]]:
    model, depths = (SEED, [2, 4]) if quick else (TCP, [10, 20, 40, 80])
    rows = []
    for d in depths:
        r = worker({"model": model, "depth": d, "kinds": SAFETY}, cap)
        rows.append({"name": f"bmc {Path(model).stem} depth {d} (invariants+steps)", **r})
        if r.get("capped"):  # deeper runs only take longer
            rows += [{"name": f"bmc {Path(model).stem} depth {e} (invariants+steps)", "spec": {"depth": e},
                      "capped": True, "seconds": None, "skipped": True} for e in depths if e > d]
            break
    return rows


def group_proof(quick: bool, cap: float) -> list[dict[str, Any]]:
    model, depth = (SEED, 4) if quick else (TCP, 8)
    rows = []
    for engine in ("bmc",) if quick else ("bmc", "kind", "auto"):  # quick: induction takes ~10 s even on the seed
        r = worker({"model": model, "depth": depth, "engine": engine, "kinds": SAFETY}, cap)
        rows.append({"name": f"{engine} {Path(model).stem} depth {depth}: time to verdict per property", **r})
    if not quick:  # the README's main job: every property, the defaults (engine auto, depth 20)
        r = worker({"model": model, "depth": 20, "engine": "auto"}, cap)
        rows.append({"name": f"tcpspec check {model} (defaults: auto, depth 20, all properties)", **r})
    return rows


def group_stages(quick: bool, cap: float) -> list[dict[str, Any]]:
    model, depth = (SEED, 4) if quick else (TCP, 8)
    r = worker({"model": model, "depth": depth, "kinds": SAFETY}, cap)
    rows = [{"name": f"stages: bmc {Path(model).stem} depth {depth} (invariants+steps)", **r}]
    r2 = worker({"model": "models/broken/tcp_no_wraparound.tcpspec" if not quick else
                 "models/broken/seed_ack_plus_two.tcpspec", "depth": 4, "kinds": SAFETY}, cap)
    rows.append({"name": "stages: bmc on a broken model (traces extracted and replayed)", **r2})
    return rows


def group_scaling(quick: bool, cap: float) -> list[dict[str, Any]]:
    if quick:
        specs = [("MAXLEN", str(v), SEED, 3) for v in (1, 4)]
    else:
        depth = 6
        specs = [("CAP", str(c), TCP, depth) for c in (1, 2, 3, 4)]
        specs += [("MSS", str(2 ** k), TCP, depth) for k in (0, 4, 8, 16, 31)]
        specs += [("LOSS", v, TCP, depth) for v in ("false", "true")]
    rows = []
    for name, value, model, depth in specs:
        r = worker({"model": model, "depth": depth, "kinds": SAFETY, "defines": {name: value}}, cap)
        rows.append({"name": f"scaling {Path(model).stem} -D {name}={value}, bmc depth {depth}", **r})
    if not quick:  # 2 vs 3 endpoints: a second client on the same channels
        for model in (TCP, "benchmarks/models/tcp_three.tcpspec"):
            r = worker({"model": model, "depth": 6, "kinds": SAFETY}, cap)
            rows.append({"name": f"scaling endpoints: {Path(model).stem}, bmc depth 6", **r})
    return rows


def group_solvers(quick: bool, cap: float) -> list[dict[str, Any]]:
    from benchmarks_solvers import compare  # type: ignore[import-not-found]

    return compare(quick, cap)


GROUPS = {"depth": group_depth, "proof": group_proof, "stages": group_stages, "scaling": group_scaling,
          "solvers": group_solvers}


def machine() -> dict[str, Any]:
    import z3

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    return {"python": platform.python_version(), "z3": z3.get_version_string(), "cpus": os.cpu_count(),
            "machine": platform.machine(), "system": platform.platform(), "commit": commit.strip(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def print_table(rows: list[dict[str, Any]], cap: float) -> None:
    print(f"{'run':<66} {'time':>9} {'z3 %':>5} {'peak MB':>8}  verdicts / notes")
    for r in rows:
        stages = r.get("stages") or {}
        tot = r.get("seconds") or 0.0
        z3p = f"{100 * stages.get('z3', 0) / tot:.0f}" if tot and stages else "-"
        verdicts: dict[str, int] = {}
        for x in r.get("results", []):
            verdicts[x["verdict"]] = verdicts.get(x["verdict"], 0) + 1
        note = r.get("note") or ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items()))
        time_text = r.get("time_text") or fmt(r, cap)
        print(f"{r['name'][:66]:<66} {time_text:>9} {z3p:>5} {str(r.get('peak_rss_mb', '-')):>8}  {note}")
        if stages and r["name"].startswith("stages"):
            print("    " + "  ".join(f"{k} {v:.3f}s" for k, v in stages.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke mode on the seed model (seconds)")
    ap.add_argument("--cap", type=float, default=None, help="seconds per run (default 120, quick 20)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks/results.json"))
    ap.add_argument("--only", nargs="*", choices=sorted(GROUPS), default=None)
    args = ap.parse_args()
    cap = args.cap if args.cap is not None else (20.0 if args.quick else 120.0)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    rows: list[dict[str, Any]] = []
    for name in args.only or list(GROUPS):
        rows += [{"group": name, **r} for r in GROUPS[name](args.quick, cap)]
    print_table(rows, cap)
    with open(args.json, "w") as f:
        json.dump({"machine": machine(), "cap_seconds": cap, "quick": args.quick, "runs": rows}, f, indent=1)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
