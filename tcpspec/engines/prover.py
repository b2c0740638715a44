"""The induction prover, `--engine kind`: unbounded proofs with a re-checked certificate.

For the wanted invariants and step properties it takes, in order: the proof cache's certificate
for this very model, or for an earlier version of its file, if it passes the re-check now;
else Houdini's survivors (engines/houdini.py) as a 1-inductive certificate, re-checked from
scratch (`certificate.recheck`) before anything is reported as proved; and for what that leaves
open, k-induction over the proved lemmas (engines/kinduction.py). This module is the driver
and the engine's entry point; the two induction searches are the modules it names.

`run_kind` proves what it can and hands the rest to BMC, so violations and reachability
witnesses are BMC's shortest traces.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tcpspec.checker import ir
from tcpspec.proof.certificate import CertInvariant, Certificate, recheck, render
from tcpspec.engines.houdini import InvCandidate, houdini, vacuous
from tcpspec.engines.kinduction import DEFAULT_K_MAX, KOutcome, k_induction
from tcpspec.solving.budget import Budget
from tcpspec.core.results import PropertyResult, Verdict
from tcpspec.core.trace import Trace

ENGINE = "kind"


@dataclass
class ProofOutcome:
    proved: bool
    detail: str
    certificate: Certificate | None = None
    seconds: float = 0.0
    cti: Trace | None = None  # not proved: the counterexample to induction (not necessarily reachable)


def prove(
    model: ir.Model, props: list[ir.Property], timeout: float | None, theory: str = "auto",
    use_lemmas: bool = True, k_max: int = DEFAULT_K_MAX,
    on_unproved: Callable[[list[str], bool], None] | None = None, spare_core: threading.Event | None = None,
) -> dict[str, ProofOutcome]:
    """Try to prove each of `props` (reachables are never proved); name -> outcome.

    `spare_core`, once set, says the re-check of a certificate may use a second thread (the
    portfolio's BMC has left its core to it).

    `on_unproved(names)` is told early, before each re-check of a certificate (and before
    k-induction, which may take minutes), what that certificate leaves unproved (maybe
    nothing): the portfolio then lets BMC look for the violation first, or for the
    reachability witnesses. It may be told twice: when the re-check settles Houdini's phase 2
    (see `houdini`) and, if that fails, after phase 2."""
    t0 = time.perf_counter()
    budget = Budget(timeout)
    wanted = [p for p in props if p.kind is not ir.PropertyKind.REACHABLE]
    out: dict[str, ProofOutcome] = {}
    for p in props:
        if p.kind is ir.PropertyKind.REACHABLE:
            out[p.name] = ProofOutcome(False, "reachability targets are not proved by induction")
    if not wanted:
        return out
    cached = _cached_proof(model, wanted, theory, budget) if use_lemmas else None
    if cached is not None:
        secs = time.perf_counter() - t0
        detail = (f"1-inductive with {len(cached.invariants)} invariants (an earlier run's certificate, from the "
                  "proof cache); certificate re-checked")
        for p in wanted:
            out[p.name] = ProofOutcome(True, detail, cached, secs)
        return out
    earlier = _earlier_proof(model, wanted, theory, budget) if use_lemmas else None
    if earlier is not None:
        from tcpspec.proof import cache as proof_cache

        proof_cache.store(model, theory, render(earlier))
        secs = time.perf_counter() - t0
        detail = (f"1-inductive with {len(earlier.invariants)} invariants (the certificate of an earlier version "
                  "of this model file, from the proof cache); certificate re-checked")
        for p in wanted:
            out[p.name] = ProofOutcome(True, detail, earlier, secs)
        return out

    def certify(invs: list[InvCandidate], steps: list[ir.Property], quick: bool = False) -> tuple[Certificate, list[ir.Property], str | None]:
        """The survivors as a certificate, what it proves, and its re-check's complaint (None: it holds)."""
        names = {c.name for c in invs} | {p.name for p in steps}
        proved = [p for p in wanted if p.name in names]
        if on_unproved is not None:  # quick: a trial, with phase 2's candidates taken on trust
            on_unproved([p.name for p in wanted if p.name not in names], quick)
        # Lemmas `e == V ==> ...` are implied by a surviving `e != V`: dropping them leaves an
        # equivalent invariant.
        texts = {c.text for c in invs}
        kept = [c for c in invs if not vacuous(c, texts)]
        cert = Certificate(
            [CertInvariant(c.name, c.text, c.build, c.origin) for c in kept], k=1, model_path=model.path,
            proved=[p.name for p in proved],
        )
        return cert, proved, recheck(model, cert, proved, theory, budget.seconds_left(), quick, threads=1,  # beside BMC
                                     spare=spare_core)

    settled: list[tuple[Certificate, list[ir.Property]]] = []

    def settle(invs: list[InvCandidate], steps: list[ir.Property], unsure: set[str]) -> bool:
        cert, proved, problem = certify(invs, steps, quick=True)
        if problem is None:
            settled.append((cert, proved))
        elif on_unproved is not None:
            # The trial told "nothing unproved" (certify); what phase 1 dropped is open again
            # until phase 2 is done. Else an idle BMC would wait for phase 2 with a violation
            # ahead.
            on_unproved([p.name for p in wanted if p.name in unsure], False)
        return problem is None

    invs, steps, stats, reason = houdini(model, budget, theory, use_lemmas, settle=settle)
    if reason:
        secs = time.perf_counter() - t0
        for p in wanted:
            out[p.name] = ProofOutcome(False, f"induction gave up: {reason}", seconds=secs)
        return out
    names = {c.name for c in invs} | {p.name for p in steps}
    if settled:
        (cert, proved), problem = settled[0], None
    else:
        cert, proved, problem = certify(invs, steps)
    if problem is None and proved:
        from tcpspec.proof import cache as proof_cache

        proof_cache.store(model, theory, render(cert))
    secs = time.perf_counter() - t0
    open_ = [p for p in wanted if p.name not in names]
    deeper = _k_induction(model, open_, k_max, budget, theory, cert.invariants if problem is None else [])
    secs = time.perf_counter() - t0
    for p in wanted:
        if p.name in deeper and deeper[p.name].proved:
            k = deeper[p.name]
            out[p.name] = ProofOutcome(True, k.detail, k.certificate, secs)
        elif p.name not in names:
            more = f"; {deeper[p.name].detail}" if p.name in deeper else ""
            out[p.name] = ProofOutcome(False, f"not 1-inductive with the generated lemmas{more}", seconds=secs,
                                       cti=stats.ctis.get(p.name))
        elif problem is not None:
            out[p.name] = ProofOutcome(False, f"certificate re-check failed: {problem}", seconds=secs)
        else:
            detail = (
                f"1-inductive with {cert.lemma_count} lemmas ({len(cert.invariants)} invariants; "
                f"{stats.candidates} candidates, {stats.rounds} rounds); certificate re-checked"
            )
            out[p.name] = ProofOutcome(True, detail, cert, secs)
    return out


def _cached_proof(model: ir.Model, wanted: list[ir.Property], theory: str, budget: Budget) -> Certificate | None:
    """The proof cache's certificate for this very model, if it proves every wanted property and
    passes the re-check with fresh solvers now; else None (then the proof is searched)."""
    from tcpspec.proof import cache as proof_cache
    from tcpspec.proof.recheck import certificate_for, recheck_read
    from tcpspec.core.diagnostics import ModelError, UsageError

    cert = proof_cache.load_certificate(model, theory)
    if cert is None or not {p.name for p in wanted} <= set(cert.proved):
        return None
    try:
        defines = {n: proof_cache.constant_text(v) for n, v in model.constants.items()}
        again, certificate = certificate_for(model.path, cert, defines)
    except (ModelError, UsageError, OSError):
        return None
    if recheck_read(again, certificate, cert.proved, theory, budget.seconds_left(), sources=model.sources) is not None:
        return None
    return certificate


def _earlier_proof(model: ir.Model, wanted: list[ir.Property], theory: str, budget: Budget) -> Certificate | None:
    """For an edited model file, the certificate stored for its earlier text (proof_cache
    `load_earlier`), if what of it still checks against the model proves every wanted property
    now, by the re-check with fresh solvers; else None (then the proof is searched). A failing
    trial is cut at its first failing obligation (`quick`): on tcp.tcpspec it costs at most
    one re-check."""
    from tcpspec.proof import cache as proof_cache
    from tcpspec.proof.recheck import earlier_certificate_for, recheck_read
    from tcpspec.core.diagnostics import ModelError, UsageError

    text = proof_cache.load_earlier(model, theory)
    if text is None:
        return None
    try:
        defines = {n: proof_cache.constant_text(v) for n, v in model.constants.items()}
        got = earlier_certificate_for(model.path, text, defines, {p.name for p in model.properties})
    except (ModelError, UsageError, OSError):
        return None
    if got is None:
        return None
    again, certificate = got
    names = [p.name for p in wanted]
    if recheck_read(again, certificate, names, theory, budget.seconds_left(), sources=model.sources,
                    quick=True) is not None:
        return None
    certificate.proved = names
    return certificate


def _k_induction(
    model: ir.Model, props: list[ir.Property], k_max: int, budget: Budget, theory: str, lemmas: list[CertInvariant],
) -> dict[str, KOutcome]:
    """What 1-induction left open, by k-induction (2..k_max) over the proved lemmas."""
    if not props or k_max < 2 or budget.expired:
        return {}
    left = budget.seconds_left()
    return k_induction(model, props, k_max, left, theory, lemmas)


def run_kind(
    model: ir.Model, props: list[ir.Property], depth: int, timeout: float | None, theory: str = "auto",
    k_max: int = DEFAULT_K_MAX, keep_going: bool = True,
) -> list[PropertyResult]:
    """PROVED for what induction proves, BMC to `depth` for the rest; in the order of `props`."""
    from tcpspec.engines.bmc import run_bmc

    budget = Budget(timeout)  # per property, and every property is with the prover first
    outcomes = prove(model, props, timeout, theory, k_max=k_max)
    results: dict[str, PropertyResult] = {}
    rest: list[ir.Property] = []
    for p in props:
        o = outcomes[p.name]
        if o.proved and o.certificate is not None:
            results[p.name] = PropertyResult(
                property=p.name, kind=p.kind.value, verdict=Verdict.PROVED, engine=ENGINE, depth=None,
                seconds=round(o.seconds, 3), doc=p.doc, detail=o.detail, certificate=render(o.certificate),
            )
        else:
            rest.append(p)
    if rest:
        # What the prover left of the timeout: the timeout bounds a property's time, not each engine's.
        for r in run_bmc(model, rest, depth, budget.seconds_left(floor=0.001), theory, keep_going=keep_going):
            o = outcomes[r.property]
            if r.verdict is Verdict.HOLDS and o.detail:
                r.detail = f"{r.detail}; not proved: {o.detail}" if r.detail else f"not proved: {o.detail}"
            if r.verdict in (Verdict.HOLDS, Verdict.UNKNOWN):
                r.cti = o.cti
            results[r.property] = r
    return [results[p.name] for p in props]
