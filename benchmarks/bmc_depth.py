"""Per-depth BMC cost: how long one deepening step takes, model by model.

    python benchmarks/bmc_depth.py [MODEL ...] [--depth N] [--theory auto|int|bv] [--json FILE]
                                   [--normal-form] [--assume-cleared]

Prints, for each depth k, the seconds to encode step k and to ask "does any property fail in
exactly k steps?" (the grouped query BMC asks first), plus the parse/check/encode overhead.
`--normal-form` searches one order of commuting steps, as the engine's safety track does
(engines/interleaving.py). `--assume-cleared` asserts, once depth k is unsat, that no property
fails at state k (sound: every state k steps deep was just shown to satisfy them), so deeper
queries may use the properties as lemmas; on tcp.tcpspec it did not pay (as hypotheses that
are not inductive on their own, they widen the search).
"""

from __future__ import annotations

import argparse
import json
import time

import z3

from tcpspec.checker import ir
from tcpspec.engines import interleaving
from tcpspec.run.pipeline import load_model
from tcpspec.encoding.theories import choose_theory
from tcpspec.encoding.transition_system import TransitionSystem

DEFAULT_MODELS = ["models/seed_handshake.tcpspec", "models/two_phase_commit.tcpspec", "models/tcp.tcpspec"]


def measure(path: str, depth: int, theory: str, budget: float, normal_form: bool = False,
            assume_cleared: bool = False) -> dict[str, object]:
    t0 = time.perf_counter()
    model = load_model(path)
    t_front = time.perf_counter() - t0
    ts = TransitionSystem(model, choose_theory(model, theory))
    solver = ts.th.solver()
    solver.add(ts.init())
    props = [p for p in model.properties if p.kind is not ir.PropertyKind.REACHABLE and not p.builtin]
    normal = interleaving.find(ts) if normal_form else None
    rows = []
    total = 0.0
    for k in range(depth + 1):
        t1 = time.perf_counter()
        bads = [
            ts.step_violated(p, k - 1) if p.kind is ir.PropertyKind.STEP else z3.Not(ts.holds_at(p, k))
            for p in props
            if k > 0 or p.kind is not ir.PropertyKind.STEP
        ]
        t2 = time.perf_counter()
        answer = str(solver.check(z3.Or(bads))) if bads else "-"
        t3 = time.perf_counter()
        if assume_cleared and answer == "unsat":
            solver.add(z3.Not(z3.Or(bads)))
        solver.add(ts.step_at(k).trans, ts.well_formed(k + 1), ts.step_at(k).range_ok)
        if normal is not None and k >= 2:  # steps k-2, k-1 (the last step stays free, as in the engine)
            solver.add(normal.between(ts, k - 2))
        t4 = time.perf_counter()
        rows.append({"depth": k, "answer": answer, "encode_s": round(t2 - t1 + t4 - t3, 3), "solve_s": round(t3 - t2, 3)})
        total += t4 - t1
        if total > budget:
            break
    return {"model": path, "theory": ts.th.name, "front_end_s": round(t_front, 3), "depths": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=DEFAULT_MODELS)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--theory", default="auto")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per model before stopping")
    ap.add_argument("--json")
    ap.add_argument("--normal-form", action="store_true", help="one order of commuting steps, as the engine searches")
    ap.add_argument("--assume-cleared", action="store_true", help="assert the properties at every depth found unsat")
    args = ap.parse_args()
    results = [measure(m, args.depth, args.theory, args.budget, args.normal_form, args.assume_cleared)
               for m in args.models]
    for r in results:
        print(f"{r['model']}  theory={r['theory']}  parse+check={r['front_end_s']}s")
        print("  depth  answer  encode_s  solve_s")
        for row in r["depths"]:  # type: ignore[union-attr]
            print(f"  {row['depth']:>5}  {row['answer']:>6}  {row['encode_s']:>8}  {row['solve_s']:>7}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
