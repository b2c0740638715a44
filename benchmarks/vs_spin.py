"""Our engines vs SPIN's exhaustive search on the exported Promela, as the ranges grow; and
both finding the bug of each broken TCP copy (models/broken/tcp_*.tcpspec).

    python benchmarks/vs_spin.py [--quick] [--cap SECONDS] [--json FILE]
    python benchmarks/vs_spin.py --broken [--only NAME] [--cap SECONDS] [--json FILE]

Question, both tools: do the invariants and step properties of models/seed_handshake.tcpspec
hold on every run? (Its longest run has 15 steps, so BMC to depth 16 covers every run.)
- ours: `tcpspec check --depth 16 --kind invariant --kind step` in a fresh process, over every
  32-bit ISN and every payload length 1..MAXLEN;
- SPIN: `spin -a`, `gcc -O2`, `pan` on `tcpspec export --to promela` with the ISNs (`iss`) taking
  N values (other free sequence variables, written before read, take one) and 1..MAXLEN.
Series: payload range grows (N = 8), ISN choices grow (MAXLEN = 4), and all 2^32 ISNs.

`--broken`, bug finding, one row per broken TCP copy, each tool from scratch in the same run:
- ours: `tcpspec check COPY --no-cache` (the default check, every property) in a fresh process:
  the wall time to its exit (it stops at the first violation);
- SPIN: `tcpspec export` of the copy's invariants and step properties (every ISN variable at 0,
  as ours covers every ISN from 0), `spin -a`, `gcc` with `-O2` (SPIN's usual flags, as above)
  and with `-O0` (the quickest build), `pan -c1` (stop at the first violation; its trace is not
  the shortest). Compile and search are reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = "models/seed_handshake.tcpspec"
DEPTH = 16


def isn_values(n: int) -> tuple[int, ...]:
    """n distinct ISNs, the wrap-around edge first: 2^32-1, 0, then spread over the space."""
    vals = [2**32 - 1, 0] + [(i * 0x9E3779B9) % 2**32 for i in range(1, n)]
    return tuple(dict.fromkeys(vals))[:n]


def ours(maxlen: int, cap: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "tcpspec", "check", SEED, "-D", f"MAXLEN={maxlen}", "--depth", str(DEPTH),
           "--engine", "bmc", "--kind", "invariant", "--kind", "step", "--format", "json"]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "verdict": "> cap"}
    doc = json.loads(proc.stdout)
    verdicts = {r["verdict"] for r in doc["results"]}
    return {"seconds": round(time.perf_counter() - t0, 3), "verdict": "holds" if verdicts == {"holds"} else
            ",".join(sorted(verdicts))}


def spin(maxlen: int, n_isn: int, cap: float) -> dict[str, Any]:
    from tcpspec.exporters.promela import ExportOptions, export_promela
    from tcpspec.exporters.spin import run_spin
    from tcpspec.run.pipeline import load_model

    model = load_model(str(ROOT / SEED), {"MAXLEN": str(maxlen)})
    props = tuple(p.name for p in model.properties if p.kind.value != "reachable")
    opts = ExportOptions(isn_values=isn_values(n_isn), isn_vars=("iss",), properties=props)
    with tempfile.TemporaryDirectory(prefix="tcpspec-spin-") as tmp:
        r = run_spin(export_promela(model, opts), Path(tmp), all_errors=False, timeout=cap, memory_mb=1536)
    if r.timed_out:
        verdict = "> cap (gcc)" if r.output == "timed out building pan" else "> cap"
    elif not r.complete:
        verdict = "out of memory" if not (r.violated or r.reached) else "violated"
    else:
        verdict = "violated" if r.violated else "holds"
    return {"seconds": round(r.seconds, 3) if not r.timed_out else None, "search_seconds": round(r.search_seconds, 3),
            "states": r.states, "verdict": verdict}


BROKEN = "models/broken"


def broken_ours(path: str, cap: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "tcpspec", "check", path, "--no-cache", "--format", "json"]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "violated": [], "exit": None}
    secs = round(time.perf_counter() - t0, 3)
    doc = json.loads(proc.stdout)
    bad = sorted(r["property"] for r in doc["results"] if r["verdict"] == "violated")
    depth = min((r["depth"] for r in doc["results"] if r["verdict"] == "violated"), default=None)
    engines = sorted({r["engine"] for r in doc["results"] if r["verdict"] == "violated"})
    return {"seconds": secs, "violated": bad, "depth": depth, "engines": engines, "exit": proc.returncode}


def broken_spin(path: str, cap: float, optimize: bool) -> dict[str, Any]:
    from tcpspec.exporters.promela import ExportOptions, export_promela
    from tcpspec.exporters.spin import run_spin
    from tcpspec.run.pipeline import load_model

    t0 = time.perf_counter()
    model = load_model(str(ROOT / path))
    props = tuple(p.name for p in model.properties if p.kind.value != "reachable")
    text = export_promela(model, ExportOptions(isn_values=(0,), properties=props))
    export_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="tcpspec-spin-") as tmp:
        r = run_spin(text, Path(tmp), all_errors=False, timeout=cap, memory_mb=1536, optimize=optimize)
    compile_s = None if r.output == "timed out building pan" else round(r.seconds - r.search_seconds, 3)
    return {"export_seconds": round(export_s, 3), "compile_seconds": compile_s,
            "search_seconds": None if r.timed_out else round(r.search_seconds, 3),
            "seconds": None if r.timed_out else round(r.seconds, 3), "violated": sorted(r.violated),
            "states": r.states, "kbytes": len(text) // 1024}


def broken_rows(cap: float, only: str | None) -> list[dict[str, Any]]:
    rows = []
    print(f"{'broken copy':<36} {'ours':>7} {'depth':>5}  {'SPIN -O2':>8} {'compile':>7} {'search':>6}"
          f"  {'SPIN -O0':>8} {'compile':>7}  ours/SPIN-O2  ours/SPIN-O0")
    for f in sorted((ROOT / BROKEN).glob("tcp_*.tcpspec")):
        if only and only not in f.name:
            continue
        path = str(f.relative_to(ROOT))
        o = broken_ours(path, cap)
        s2 = broken_spin(path, cap, optimize=True)
        s0 = broken_spin(path, cap, optimize=False)

        def ratio(s: dict[str, Any]) -> float | None:
            return round(o["seconds"] / s["seconds"], 2) if o["seconds"] and s["seconds"] else None

        row = {"model": path, "ours": o, "spin_O2": s2, "spin_O0": s0, "ratio_O2": ratio(s2), "ratio_O0": ratio(s0)}
        rows.append(row)
        show = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
        print(f"{f.name:<36} {show(o['seconds']):>7} {str(o.get('depth')):>5}  {show(s2['seconds']):>8} "
              f"{show(s2['compile_seconds']):>7} {show(s2['search_seconds']):>6}  {show(s0['seconds']):>8} "
              f"{show(s0['compile_seconds']):>7}  {show(row['ratio_O2']):>12}  {show(row['ratio_O0']):>12}", flush=True)
    return rows


def series(quick: bool) -> list[tuple[str, int, int | None]]:
    if quick:
        return [("payload", 4, 2), ("isn", 2, 2)]
    rows: list[tuple[str, int, int | None]] = [("payload range 1..MAXLEN, 8 ISNs", m, 8) for m in (1, 4, 16, 64, 256)]
    rows += [("ISN choices, MAXLEN=4", 4, n) for n in (1, 8, 64, 512, 4096)]
    rows += [("all 2^32 ISNs, MAXLEN=64", 64, None)]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cap", type=float, default=180.0)
    ap.add_argument("--json", default=str(ROOT / "benchmarks/vs_spin.json"))
    ap.add_argument("--broken", action="store_true", help="bug finding on the broken TCP copies instead")
    ap.add_argument("--only", default=None, help="--broken: only copies whose file name contains this")
    args = ap.parse_args()
    if args.broken:
        load = os.getloadavg()
        out = broken_rows(args.cap, args.only)
        with open(args.json, "w") as f:
            json.dump({"series": "broken", "load_before": load, "load_after": os.getloadavg(), "rows": out}, f, indent=1)
        print(f"wrote {args.json} (load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f})")
        return
    rows = []
    print(f"{'series':<34} {'MAXLEN':>6} {'ISNs':>6} {'ours':>9} {'SPIN':>9} {'SPIN search':>11} {'SPIN states':>11}  winner")
    for name, maxlen, n in series(args.quick):
        o = ours(maxlen, args.cap)
        s = spin(maxlen, n, args.cap) if n is not None else {"seconds": None, "verdict": "cannot enumerate 2^32"}
        fast = [(t, who) for who, t in (("ours", o["seconds"]), ("SPIN", s["seconds"])) if t is not None]
        winner = min(fast)[1] if fast else "-"
        row = {"series": name, "maxlen": maxlen, "isns": n if n is not None else 2**32, "ours": o, "spin": s,
               "winner": winner}
        rows.append(row)
        show = lambda d: f"{d['seconds']:.2f}s" if d["seconds"] is not None else d["verdict"]  # noqa: E731
        print(f"{name:<34} {maxlen:>6} {str(n if n is not None else '2^32'):>6} {show(o):>9} {show(s)[:9]:>9} "
              f"{str(s.get('search_seconds', '-')):>11} {str(s.get('states', '-')):>11}  {winner}"
              + ("" if o["verdict"] == "holds" and s["verdict"] in ("holds", "> cap", "> cap (gcc)", "out of memory",
                                                                    "cannot enumerate 2^32") else
                 f"  VERDICTS: ours {o['verdict']}, SPIN {s['verdict']}"), flush=True)
    with open(args.json, "w") as f:
        json.dump({"depth": DEPTH, "model": SEED, "rows": rows}, f, indent=1)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
