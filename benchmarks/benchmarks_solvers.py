"""z3 vs Bitwuzla on the same BMC queries, exported as SMT-LIB (bit-vector theory).

The query is `tcpspec.exporters.smtlib.bmc_query(..., exact=True)`: "does an invariant or step
property fail in exactly k steps", the question BMC asks at depth k. z3 flattens it to plain
SMT-LIB (declare-fun + assert) and both solvers read that same text, each in a fresh process.

    python benchmarks/benchmarks_solvers.py z3|bitwuzla FILE   # one solve: prints JSON
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def write_query(model_path: str, depth: int, defines: dict[str, str], out: Path) -> None:
    import z3

    from tcpspec.exporters.smtlib import bmc_query, export_smtlib
    from tcpspec.run.pipeline import load_model

    model = load_model(str(ROOT / model_path), defines)
    props = [p for p in model.properties if p.kind.value != "reachable"]
    solver = z3.Solver()
    solver.add(z3.parse_smt2_string(bmc_query(export_smtlib(model, "bv", props), depth, exact=True)))
    out.write_text(solver.to_smt2())


def solve(solver: str, path: str) -> dict[str, Any]:
    text = Path(path).read_text()
    t0 = time.perf_counter()
    if solver == "z3":
        import z3

        s = z3.Solver()
        s.add(z3.parse_smt2_string(text))
        answer = str(s.check())
    else:
        import bitwuzla as bw

        parser = bw.Parser(bw.TermManager(), bw.Options())
        parser.parse(text.replace("(check-sat)", ""), True, False)
        answer = str(parser.bitwuzla().check_sat())
    return {"answer": answer, "seconds": round(time.perf_counter() - t0, 4)}


def _one(solver: str, path: Path, cap: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__)), solver, str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=cap, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"answer": "> cap", "seconds": None}
    if proc.returncode != 0:
        return {"answer": "error", "seconds": None, "error": proc.stderr.strip()[-300:]}
    return dict(json.loads(proc.stdout))


def bitwuzla_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("bitwuzla") is not None


def _said(run: dict[str, Any]) -> str:
    """A solver's answer and time for the table ("not installed" and "> cap" have no time)."""
    return run["answer"] if run["seconds"] is None else f"{run['answer']} {run['seconds']}s"


def compare(quick: bool, cap: float) -> list[dict[str, Any]]:
    cases = [("models/seed_handshake.tcpspec", k, {}) for k in (2, 4)] if quick else (
        [("models/seed_handshake.tcpspec", k, {}) for k in (8, 12)]
        + [("models/tcp.tcpspec", k, {}) for k in (4, 6, 8)])
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tcpspec-solvers-") as tmp:
        for model, k, defines in cases:
            q = Path(tmp) / f"{Path(model).stem}_{k}.smt2"
            write_query(model, k, defines, q)
            z = _one("z3", q, cap)
            b = _one("bitwuzla", q, cap) if bitwuzla_installed() else {"answer": "not installed", "seconds": None}
            if b["answer"] not in ("not installed", z["answer"]) and "cap" not in (b["answer"] + z["answer"]):
                raise RuntimeError(f"z3 and Bitwuzla disagree on {q.name}: {z} vs {b}")
            note = f"z3 {_said(z)} | bitwuzla {_said(b)}"
            rows.append({"name": f"solvers: {Path(model).stem} BMC query at exactly depth {k} (bv)",
                         "spec": {"model": model, "depth": k}, "capped": False, "z3": z, "bitwuzla": b,
                         "seconds": z["seconds"], "time_text": f"{z['seconds']}s" if z["seconds"] else "> cap",
                         "note": note})
    return rows


if __name__ == "__main__":
    print(json.dumps(solve(sys.argv[1], sys.argv[2])))
