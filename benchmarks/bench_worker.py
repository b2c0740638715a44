"""One benchmark run in its own process (so its peak memory is its own): prints one JSON line.

    python benchmarks/bench_worker.py '{"model": ..., "defines": {...}, "depth": N,
                                        "engine": "bmc", "kinds": [...], "props": [...]}'

Stage times come from wrapping (in this process only) the functions of each stage; every
wrapper counts its time minus the time of wrapped calls inside it, so stages add up:
parse, check (names/types), encode (building Z3 terms), z3 (solver.add/check/model),
trace (extracting, minimising and replaying traces), other (the rest: engine bookkeeping).
Stages are measured in this process only: with engine `auto` (BMC and the prover in worker
processes) most of the time shows as "other".
"""

from __future__ import annotations

import functools
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any


class Stages:
    """Exclusive time per stage: a stack of running wrapped calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.stack: list[list[float]] = []  # per running call: [start, time of nested calls]

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        fn: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            frame = [time.perf_counter(), 0.0]
            self.stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                self.stack.pop()
                total = time.perf_counter() - frame[0]
                self.seconds[stage] = self.seconds.get(stage, 0.0) + total - frame[1]
                if self.stack:
                    self.stack[-1][1] += total

        setattr(owner, name, timed)


def instrument() -> Stages:
    import z3

    from tcpspec.checker import check as checker

    from tcpspec.frontend import parser

    from tcpspec.run import pipeline
    from tcpspec.engines import bmc, prover as kind
    from tcpspec.encoding.transition_system import TransitionSystem

    st = Stages()
    st.wrap(parser, "load_program", "parse")
    st.wrap(checker, "check_program", "check")
    for name in ("_encode_step", "init", "state_at", "holds_at", "step_violated", "well_formed"):
        st.wrap(TransitionSystem, name, "encode")
    for name in ("check", "add", "model", "push", "pop"):
        st.wrap(z3.Solver, name, "z3")
    for name in ("extract_trace", "prefer_small_values", "replay_or_explain"):
        if hasattr(bmc, name):
            st.wrap(bmc, name, "trace")
    del pipeline, kind
    return st


def run(spec: dict[str, Any]) -> dict[str, Any]:
    st = instrument()
    from tcpspec.run import pipeline

    t0 = time.perf_counter()
    model = pipeline.load_model(spec["model"], spec.get("defines") or {})
    opts = pipeline.CheckOptions(properties=tuple(spec.get("props", ())), kinds=tuple(spec.get("kinds", ())),
                                 depth=spec["depth"], engine=spec.get("engine", "bmc"),
                                 timeout=spec.get("timeout"))
    results = pipeline.check_model(model, opts)
    total = time.perf_counter() - t0
    stages = {k: round(v, 4) for k, v in st.seconds.items()}
    stages["other"] = round(total - sum(st.seconds.values()), 4)
    return {
        "seconds": round(total, 4),
        "stages": stages,
        # engine auto runs BMC and the prover in worker processes: count the largest of them too
        "peak_rss_mb": round(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                 resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024, 1),
        "results": [{"property": r.property, "verdict": r.verdict.value, "engine": r.engine,
                     "depth": r.depth, "seconds": round(r.seconds, 4)} for r in results],
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
