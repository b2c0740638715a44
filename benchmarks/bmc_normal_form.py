"""BMC with and without the normal form of interleavings (engines/interleaving.py), alternating.

    python benchmarks/bmc_normal_form.py [MODEL] [--track safety|targets] [--depth N] [--runs R]

Prints the seconds at which each depth was first searched and the whole run, for each setting,
and checks that both settings give the same verdicts at the same depths.
"""

from __future__ import annotations

import argparse
import time

from tcpspec.checker import ir
from tcpspec.engines import bmc
from tcpspec.run.pipeline import load_model


def run(path: str, track: str, depth: int, normal_form: bool) -> tuple[float, list[float], list[tuple[str, str, int]]]:
    bmc.NORMAL_FORM = normal_form
    model = load_model(path)
    props = [p for p in model.properties if (p.kind is ir.PropertyKind.REACHABLE) == (track == "targets")]
    t0 = time.perf_counter()
    starts: list[float] = []
    results = bmc.run_bmc(model, props, depth, None, on_depth=lambda k, n: starts.append(time.perf_counter() - t0))
    verdicts = sorted((r.property, r.verdict.value, r.depth) for r in results)
    return time.perf_counter() - t0, starts, verdicts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default="models/tcp.tcpspec")
    ap.add_argument("--track", choices=["safety", "targets"], default="safety")
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    seen = {}
    for _ in range(args.runs):
        for nf in (True, False):
            total, starts, verdicts = run(args.model, args.track, args.depth, nf)
            seen.setdefault(nf, verdicts)
            per_depth = " ".join(f"{s:.1f}" for s in starts)
            print(f"normal form {'on ' if nf else 'off'}  {total:7.2f} s   depths started at: {per_depth}", flush=True)
    same = seen[True] == seen[False]
    print("same verdicts and depths:", same)
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
