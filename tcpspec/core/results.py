"""Verdicts and per-property results. `unknown` is its own verdict, never "no violation"."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from tcpspec.core.trace import Trace


class Verdict(str, Enum):
    HOLDS = "holds"  # no violation up to the bound (bounded engines)
    PROVED = "proved"  # holds in every reachable state, with a re-checked certificate
    VIOLATED = "violated"
    REACHED = "reached"
    UNREACHED = "unreached"  # target not reached within the bound
    UNKNOWN = "unknown"  # timeout, solver gave up, or the engine could not decide


@dataclass
class PropertyResult:
    property: str
    kind: str  # "invariant" | "lemma" | "reachable" | "step"
    verdict: Verdict
    engine: str
    depth: int | None  # bound searched, or the length of the trace when there is one
    seconds: float
    trace: Trace | None = None
    doc: str = ""
    detail: str = ""  # why unknown, what was proved, ...
    certificate: str = ""  # proved results: the rendered proof certificate (proof/certificate.py)
    cti: Trace | None = None  # not proved: a counterexample to induction (one step, not necessarily reachable)
    traces: list[Trace] = field(default_factory=list)  # --max-cex: every trace, `trace` first
    # engine explicit: the search's figures (states, diameter, exhaustive, sampled values, ...)
    search: dict[str, object] | None = None

    @property
    def failed(self) -> bool:
        """Whether a CI gate should fail on this result (exit code 1)."""
        return self.verdict in (Verdict.VIOLATED, Verdict.UNREACHED)


# The detail of a property a run did not decide because it stopped at its first violation
# (SPIN and TLC stop there too; `--keep-going` checks every property to the end).
STOPPED = "not decided: the run stopped at its first violation (--keep-going checks every property)"


def within_stop(r: PropertyResult, depth: int) -> PropertyResult:
    """`r` as a run that stopped at a violation of `depth` steps reports it: a witness longer
    than that is not reported (STOPPED), so the report does not depend on which search was ahead."""
    if r.verdict is Verdict.REACHED and r.depth is not None and r.depth > depth:
        return replace(r, verdict=Verdict.UNKNOWN, depth=depth, trace=None, detail=STOPPED)
    return r


def stops_run(r: PropertyResult) -> bool:
    """A violation that ends a run unless --keep-going: any but a lemma's (a lemma is a helper
    for the prover; a false one is reported, and the properties it was meant to help go on)."""
    return r.verdict is Verdict.VIOLATED and r.kind != "lemma"


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a check, with the results that had finished by then (violations
    and witnesses found, proofs made): they are reported, the run still ends as interrupted.
    A KeyboardInterrupt, so that every cleanup written for Ctrl-C runs for it too."""

    def __init__(self, results: list[PropertyResult]) -> None:
        super().__init__()
        self.results = results


def finished(e: BaseException) -> list[PropertyResult]:
    """The finished results an interrupt carries (none for a bare KeyboardInterrupt)."""
    return list(getattr(e, "results", []))


# The start of the detail of an `unknown` that is tcpspec's own failure, not the solver's: an
# engine process that died (a crash, the OOM killer), an engine that refuted what another proved,
# a trace that did not replay. The run then exits 4, as an exception would, with the cause.
INTERNAL_ERROR = "internal error"


def is_internal_error(r: PropertyResult) -> bool:
    return r.verdict is Verdict.UNKNOWN and r.detail.startswith(INTERNAL_ERROR)


def exit_code(results: list[PropertyResult]) -> int:
    """The CLI contract: 1 if any failure (a replayed trace is definitive whatever else went
    wrong), else 4 if any internal error, else 3 if any unknown, else 0."""
    if any(r.failed for r in results):
        return 1
    if any(is_internal_error(r) for r in results):
        return 4
    if any(r.verdict is Verdict.UNKNOWN for r in results):
        return 3
    return 0


def steps(n: int) -> str:
    """"1 step", "4 steps": a count of steps as the reports say it."""
    return f"{n} step" if n == 1 else f"{n} steps"
