"""`--engine auto`: BMC and the prover side by side, in two processes, first definitive verdict.

BMC is definitive for violations and reachability witnesses (shortest, replayed traces); the
prover is definitive for `proved` (a re-checked certificate). A bounded `holds` from BMC is
only kept when the prover could not prove the property. So the run ends as soon as every
property has a definitive answer: a broken model does not wait for the prover, and a proved
model does not wait for BMC to finish its bound.

Both processes get the model (it pickles: plain dataclasses) and build their own Z3 context.
A proof and a counterexample for the same property would mean a soundness bug in one of the
engines: that property is then reported `unknown` with an internal-error detail, never a verdict.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tcpspec.checker import ir
from tcpspec.core.diagnostics import EngineError
from tcpspec.solving.budget import Budget, grace
from tcpspec.engines.processes import exit_text, worker_context
from tcpspec.core.results import STOPPED, PropertyResult, RunInterrupted, Verdict, finished, stops_run

ENGINE = "auto"
_FINAL_FROM_BMC = (Verdict.VIOLATED, Verdict.REACHED)
# The explicit search goes first, in this process while the prover's starts (explicit.head_start;
# off: BMC and the prover alone, as before -- tests compare).
EXPLICIT_FIRST = True


def _head_start(model: ir.Model, props: list[ir.Property], depth: int, timeout: float | None, keep_going: bool,
                on_progress: Callable[[str], None] | None, symmetry: bool = True) -> Any:
    """The explicit search's head start. This process would only wait for the workers meanwhile,
    and a violation it finds needs no engine process at all (the broken TCP copies)."""
    from tcpspec.engines.explicit import head_start

    if on_progress is not None:
        on_progress("explicit search")
    head = head_start(model, props, depth, timeout, keep_going, symmetry=symmetry)
    if on_progress is not None and head.summary:
        on_progress(head.summary)
    return head


def _stops_for_sure(head: Any, keep_going: bool, timeout: float | None, memory_mb: int | None) -> bool:
    """The explicit search found (and replayed) a run that breaks a property whose violation ends
    the run, and nothing keeps BMC from getting to its depth (no --timeout, no memory ceiling):
    BMC will report it or a shorter one, and the run stops there."""
    return (not keep_going and timeout is None and memory_mb is None and not head.stop
            and any(stops_run(r) for r in head.pending.values()))


def _bmc_here(model: ir.Model, names: list[str], depth: int, theory: str, head: Any,
              got: dict[str, dict[str, PropertyResult]], on_progress: Callable[[str], None] | None) -> list[PropertyResult]:
    """BMC in this process, to the depth of the run's end (`_stops_for_sure`), from a fresh Z3
    context as in a worker. On Ctrl-C what it found goes to `got` before the interrupt goes on."""
    from tcpspec.engines.bmc import run_bmc
    from tcpspec.engines.processes import fresh_z3_context

    fresh_z3_context()
    on_depth = None if on_progress is None else (lambda k, n: on_progress(f"BMC depth {k}, {n} open"))
    try:
        return run_bmc(model, [model.property(n) for n in names], depth, None, theory, on_depth=on_depth,
                       keep_going=False, head=head)
    except RunInterrupted as e:
        got["bmc"].update({r.property: r for r in finished(e)})
        raise


def _die_with_parent(parent: int) -> None:
    """A worker whose parent was killed (SIGTERM, SIGKILL: no chance to stop us) must not search
    on alone for hours: it polls, and exits once it has been re-parented.

    It also leaves SIGTERM to the parent: a SIGTERM to the whole process group (systemd, a CI
    runner) would kill a worker before it could hand over what it had found; the parent, which
    takes SIGTERM as Ctrl-C, passes SIGINT on (Z3 stops its query at once for that one) and kills
    what is left (`_drain`, run_auto's `finally`)."""
    import signal
    import threading

    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _limit_memory(memory_mb: int | None) -> None:
    if memory_mb is not None:
        import z3

        z3.set_param("memory_max_size", memory_mb)


def _bmc_worker(out: Any, model: ir.Model, names: list[str], depth: int, timeout: float | None, theory: str,
                memory_mb: int | None = None, parent: int = 0, keep_going: bool = True, run: int = 0,
                control: Any = None, head: Any = None) -> None:
    """Messages are (who, results, problem, run): `run` tells a restarted BMC's answers from
    those its terminated predecessor may have queued just before. `control` brings ("drop",
    names) for what the prover proved, ("safety_first", None) when it could not prove some
    safety property, ("targets_first", None) when Houdini proved them all (bmc.Steering; "trial" instead of None
    when phase 2's candidates were taken on trust: no idling then), and
    ("resume", None) when the prover has reported. ("idle", ...) says BMC has left its core to
    the prover's re-check (bmc.run_bmc); ("stopping", k, ...) that a violation ends the run at depth k.
    `head`: what the explicit search found first (contract.HeadStart): depths BMC need not
    ask again, runs it takes as found."""
    from tcpspec.engines.bmc import LiveSteering, run_bmc

    _die_with_parent(parent)
    _limit_memory(memory_mb)
    steer = LiveSteering()

    def listen() -> None:  # a thread, so that an update can cut short the query under way
        while True:
            what, which = control.get()
            steer.update(dropped=which if what == "drop" else (), safety_first=what == "safety_first",
                         targets_first=what == "targets_first", resume=what == "resume", sure=which != "trial")

    if control is not None:
        import threading

        threading.Thread(target=listen, daemon=True).start()

    try:
        props = [model.property(n) for n in names]
        results = run_bmc(model, props, depth, timeout, theory, on_depth=lambda k, n: out.put(("depth", k, n, run)),
                          keep_going=keep_going, steer=steer, on_idle=lambda: out.put(("idle", None, "", run)),
                          on_stop=lambda k: out.put(("stopping", k, "", run)), head=head)
        out.put(("bmc", results, "", run))
    except KeyboardInterrupt as e:  # Ctrl-C reaches the whole process group, or the parent sends it
        found = finished(e)
        if found:  # the parent reports them with the interrupt
            out.put(("partial", found, "interrupted", run))
    except Exception as err:  # noqa: BLE001 - reported to the parent as an engine failure
        out.put(("bmc", None, f"{type(err).__name__}: {err}", run))


def _prover_worker(out: Any, model: ir.Model, names: list[str], timeout: float | None, theory: str,
                   memory_mb: int | None = None, parent: int = 0, control: Any = None) -> None:
    """`control` brings ("spare_core", None) once BMC has left its core (`_bmc_worker`): the
    certificate's re-check then takes it too (proof/certificate.py: `spare`)."""
    import threading

    from tcpspec.proof.certificate import render
    from tcpspec.engines.prover import ENGINE as KIND

    _die_with_parent(parent)
    _limit_memory(memory_mb)
    spare = threading.Event()
    if control is not None:
        def listen() -> None:
            while True:
                what, _ = control.get()
                if what == "spare_core":
                    spare.set()

        threading.Thread(target=listen, daemon=True).start()
    try:
        from tcpspec.engines.prover import prove

        props = [model.property(n) for n in names]
        outcomes = prove(model, props, timeout, theory, on_unproved=lambda names, trial: out.put(("hint", names, "trial" if trial else "", 0)),
                         spare_core=spare)
        results = []
        for p in props:
            o = outcomes[p.name]
            if o.proved and o.certificate is not None:
                results.append(PropertyResult(
                    property=p.name, kind=p.kind.value, verdict=Verdict.PROVED, engine=KIND, depth=None,
                    seconds=round(o.seconds, 3), doc=p.doc, detail=o.detail, certificate=render(o.certificate),
                ))
            else:
                results.append(PropertyResult(
                    property=p.name, kind=p.kind.value, verdict=Verdict.UNKNOWN, engine=KIND, depth=None,
                    seconds=round(o.seconds, 3), doc=p.doc, detail=o.detail, cti=o.cti,
                ))
        out.put(("prover", results, "", 0))
    except KeyboardInterrupt:
        pass
    except Exception as err:  # noqa: BLE001
        out.put(("prover", None, f"{type(err).__name__}: {err}", 0))


# After Ctrl-C or SIGTERM: how long the parent waits for what the engines had found, and after how
# long it passes the interrupt on itself (a `kill -INT` of the parent alone; a terminal's Ctrl-C
# reaches the whole process group at once). Then they are terminated: all gone within 2 s.
_DRAIN_SECONDS = 1.0
_NUDGE_AFTER = 0.2


def _drain(out: Any, workers: list[Any]) -> list[tuple[str, list[PropertyResult]]]:
    """The results the interrupted engines send before they exit (`_bmc_worker`: what BMC had
    found; a prover that had just finished: its proofs)."""
    import signal

    got: list[tuple[str, list[PropertyResult]]] = []
    start = time.monotonic()
    nudged = False
    while time.monotonic() - start < _DRAIN_SECONDS:
        if not nudged and time.monotonic() - start > _NUDGE_AFTER:
            nudged = True
            for w in workers:
                if w.is_alive() and w.pid is not None:
                    try:
                        os.kill(w.pid, signal.SIGINT)
                    except OSError:
                        pass
        try:
            who, results, _problem, _run = out.get(timeout=0.05)
        except queue.Empty:
            if not any(w.is_alive() for w in workers) and out.empty():
                break
            continue
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
            break
        if who in ("bmc", "partial", "prover") and results:
            got.append(("prover" if who == "prover" else "bmc", list(results)))
    return got


def _finished(props: list[ir.Property], final: dict[str, PropertyResult],
              got: dict[str, dict[str, PropertyResult]]) -> list[PropertyResult]:
    """What an interrupted run reports: its final results, and every engine's own definitive
    answer that came in (a replayed violation or witness, a re-checked proof, BMC's bounded
    verdict); not what neither engine had decided."""
    out = []
    for p in props:
        r = final.get(p.name)
        if r is None:
            proof, b = got["prover"].get(p.name), got["bmc"].get(p.name)
            if proof is not None and proof.verdict is Verdict.PROVED and (b is None or b.verdict not in _FINAL_FROM_BMC):
                r = proof
            elif b is not None and b.verdict is not Verdict.UNKNOWN:
                r = b
        if r is not None:
            out.append(r)
    return out


def _undecided(p: ir.Property, seconds: float, detail: str) -> PropertyResult:
    """The run's own `unknown` for `p`, which neither engine decided (stopped, timed out, lost)."""
    return PropertyResult(p.name, p.kind.value, Verdict.UNKNOWN, ENGINE, None, seconds, doc=p.doc, detail=detail)


def _confirm(found: PropertyResult, bmc: PropertyResult | None, proof: PropertyResult | None) -> PropertyResult | None:
    """A violation the explicit search found with sampled values (contract.HeadStart.pending):
    BMC's verdict once it has asked every shallower depth -- the same run, confirmed shortest
    (bmc.CONFIRMED), or a shorter one -- else, on a timeout, the search's own run, said to be
    unconfirmed. Before BMC reports: None (wait), unless the prover proved it (then `found`,
    for `_merge` to flag the contradiction)."""
    from tcpspec.engines.explicit import NOT_CONFIRMED

    if bmc is None:
        return found if proof is not None and proof.verdict is Verdict.PROVED else None
    if bmc.verdict is Verdict.UNKNOWN and "timeout" in bmc.detail:
        return replace(found, detail=NOT_CONFIRMED, seconds=bmc.seconds)
    return bmc


def _merge(p: ir.Property, bmc: PropertyResult | None, proof: PropertyResult | None) -> PropertyResult | None:
    """The definitive result for `p` from what has arrived so far, or None to keep waiting."""
    proved = proof is not None and proof.verdict is Verdict.PROVED
    if bmc is not None and bmc.verdict in _FINAL_FROM_BMC:
        if proved:
            return replace(
                bmc, verdict=Verdict.UNKNOWN, trace=None, engine=ENGINE,
                detail="internal error: the prover proved what BMC refuted; please report",
            )
        return bmc
    if proved:
        return proof
    if p.kind is ir.PropertyKind.REACHABLE:
        return bmc  # the prover never decides reachability
    if bmc is not None and proof is not None:
        if bmc.verdict is Verdict.HOLDS:
            detail = bmc.detail
            if proof.detail:
                detail = f"{bmc.detail}; not proved: {proof.detail}" if bmc.detail else f"not proved: {proof.detail}"
            return replace(bmc, detail=detail, cti=proof.cti)
        return bmc
    return None


def run_auto(
    model: ir.Model, props: list[ir.Property], depth: int, timeout: float | None, theory: str = "auto",
    start_method: str | None = None,
    on_result: Callable[[PropertyResult], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
    memory_mb: int | None = None, keep_going: bool = True, symmetry: bool = True,
) -> list[PropertyResult]:
    """Every property's first definitive verdict from BMC or the prover; in the order of `props`.

    Without `keep_going`, BMC ends with the depth of its first violation, and so does the run:
    the prover is stopped, and every property BMC has not found violated or reached by then is
    `unknown` (STOPPED), proofs included, so that the report is the same in every run: a proof
    that comes in while BMC is still searching is held back until BMC has reported (this costs
    no time, the run waits for BMC's reachability witnesses anyway) and is STOPPED if BMC stops.

    When the prover reports, BMC drops what is proved: one grouped query per depth over the
    proved invariants is most of BMC's cost. If only reachability targets are left, the running
    BMC goes on (they have their own unrolling, engines/bmc.py); else BMC is restarted on what
    is left. Lemmas go to BMC only then (the ones not proved): they are the prover's helpers,
    and lemmas over channel slots make BMC's grouped query far slower than the other
    properties. When Houdini could not prove a safety property, BMC is told early to look for
    its violation first (engines/bmc.py: Steering); when it proved them all, BMC looks for the
    witnesses first while the certificate is re-checked, and the proofs then interrupt the
    safety query under way (bmc.LiveSteering).
    """
    # None: spawned workers that need no `__main__` guard in the caller (engines/processes.py).
    ctx: Any = worker_context() if start_method is None else mp.get_context(start_method)
    out = ctx.Queue()
    names = [p.name for p in props]
    provable = [p.name for p in props if p.kind is not ir.PropertyKind.REACHABLE]

    head = None  # what the explicit search found first (engines/contract.py: HeadStart)
    bmc_run = 0  # which BMC process is the current one (it is restarted when the prover reports)
    bmc_reported = True  # has the current one answered?
    bmc_stopping = False  # the current one found a violation that ends the run at its depth

    # What a violation of can stop the run (reachability targets and lemmas do not).
    stoppable = {p.name for p in props if p.kind not in (ir.PropertyKind.REACHABLE, ir.PropertyKind.LEMMA)}

    def proved(name: str) -> bool:
        r = got["prover"].get(name)
        return r is not None and r.verdict is Verdict.PROVED

    def bmc_may_stop() -> bool:
        """Could the running BMC still find a violation that stops the run? Not on what is proved."""
        return any(n in stoppable and n not in got["bmc"] and not proved(n) for n in bmc_names)

    control = None  # to the current BMC: what is proved, and the prover's hint (bmc.Steering)
    safety_first = False  # the prover could not prove some safety property
    targets_first = False  # Houdini proved every safety property; its re-check is under way
    targets_sure = False  # ... without taking phase 2's candidates on trust (a BMC may idle for it)

    # `timeout` bounds each property's time from the start of the run, not each engine's: a BMC
    # restarted when the prover reports gets what is left, not the whole timeout again.
    budget = Budget(timeout)

    def start_bmc(which: list[str]) -> Any:
        nonlocal bmc_run, bmc_reported, bmc_stopping, control
        bmc_run += 1
        bmc_reported = False
        bmc_stopping = False
        control = ctx.Queue()
        if safety_first:
            control.put(("safety_first", None))
        elif targets_first:
            control.put(("targets_first", None if targets_sure else "trial"))
        w = ctx.Process(target=_bmc_worker, args=(out, model, which, depth, budget.seconds_left(floor=0.001), theory,
                                                  memory_mb, os.getpid(),
                                                  keep_going, bmc_run, control, head), daemon=True)
        w.start()
        return w

    t0 = time.perf_counter()
    lemmas = {p.name for p in props if p.kind is ir.PropertyKind.LEMMA}
    # What the proof cache's certificate claims (proof/cache.py) is likely to be proved by the
    # re-check alone: BMC leaves it to the prover (and takes it back if the re-check fails).
    from tcpspec.proof import cache as proof_cache

    cached = proof_cache.load_certificate(model, theory)
    claimed = set(cached.proved) if cached is not None else set()
    bmc_names = [n for n in names if (n not in lemmas or not provable) and n not in claimed]
    bmc = None
    prover = None
    to_prover = ctx.Queue()
    if provable:
        prover = ctx.Process(target=_prover_worker, args=(out, model, provable, timeout, theory, memory_mb, os.getpid(),
                                                          to_prover), daemon=True)
        prover.start()
    got: dict[str, dict[str, PropertyResult]] = {"bmc": {}, "prover": {}}
    failures: dict[str, str] = {}
    final: dict[str, PropertyResult] = {}
    prover_done = prover is None
    prover_lost = False  # its process ended without a report
    timed_out = False  # the workers outlasted the timeout (budget.grace)
    interrupted = False  # Ctrl-C or SIGTERM: what has finished is raised with RunInterrupted
    try:
        if EXPLICIT_FIRST:
            head = _head_start(model, props, depth, timeout, keep_going, on_progress, symmetry)
            for r in head.final:
                final[r.property] = r
                if on_result is not None:
                    on_result(r)
            if head.stop:  # its violation ends the run, as BMC's would (see `stopped` below)
                for p in props:
                    if p.name not in final:
                        final[p.name] = _undecided(p, round(time.perf_counter() - t0, 3), STOPPED)
                        if on_result is not None:
                            on_result(final[p.name])
            bmc_names = [n for n in bmc_names if n not in final]
            if _stops_for_sure(head, keep_going, timeout, memory_mb) and bmc_names:
                # The run will end at that violation's depth or sooner, and every proof would be
                # reported STOPPED: no prover, and BMC confirms the depth in this process, which
                # would only wait for it (a BMC process costs its start: spawn, imports).
                if prover is not None:
                    prover.kill()
                    prover.join(timeout=5)
                    prover, prover_done = None, True
                out.put(("bmc", _bmc_here(model, bmc_names, depth, theory, head, got, on_progress), "", bmc_run))
                bmc_names = []
        if bmc_names and len(final) < len(props):
            bmc = start_bmc(bmc_names)
        while len(final) < len(props):
            try:
                who, results, problem, run = out.get(timeout=0.2)
                if who == "bmc" and run == bmc_run:
                    bmc_reported = True
                if who == "stopping":  # BMC only finishes the depth of its first violation now
                    bmc_stopping = bmc_stopping or run == bmc_run
                    continue
                if who == "partial":  # from a BMC stopped by an interrupt: `_drain` takes them
                    continue
                if who == "hint":  # what Houdini could not prove: BMC looks for a violation first
                    if any(n in stoppable for n in results):
                        safety_first = True
                        hint = "safety_first"
                    else:  # only the re-check is left: BMC finds the witnesses first
                        targets_first = True
                        targets_sure = targets_sure or problem != "trial"
                        hint = "targets_first"
                    if bmc is not None and bmc.is_alive():
                        control.put((hint, None if targets_sure else "trial"))  # type: ignore[union-attr]
                    continue
                if who == "idle":  # BMC waits for the proofs: the prover's re-check may take its core
                    if run == bmc_run and not prover_done:
                        to_prover.put(("spare_core", None))
                    continue
                if who == "depth":
                    if on_progress is not None:
                        proving = "" if prover_done else ", proving in parallel"
                        on_progress(f"BMC depth {results}, {problem} open{proving}")
                    continue
            except queue.Empty:
                if (bmc is None or not bmc.is_alive()) and (prover is None or not prover.is_alive()) and out.empty():
                    break  # a worker died without a word (killed, out of memory)
                if timeout is not None and budget.expired and time.monotonic() > budget.deadline + grace(timeout):  # type: ignore[operator]
                    # The engines check the timeout between queries, not while they build an
                    # encoding (a large CAP builds for minutes): the run ends here all the same.
                    timed_out = True
                    break
                if prover is not None and not prover_done and not prover.is_alive() and not prover_lost:
                    prover_lost = True  # it will never report: an idle BMC must not wait for it
                    if bmc is not None and bmc.is_alive():
                        control.put(("resume", None))  # type: ignore[union-attr]
                continue
            if results is None and "memory" in problem:
                results = [PropertyResult(p.name, p.kind.value, Verdict.UNKNOWN, "bmc" if who == "bmc" else "kind",
                                          None, 0.0, doc=p.doc, detail="memory limit reached (--memory-limit)")
                           for p in props if who == "bmc" or p.name in provable]
            if results is None:
                failures[who] = problem
            else:
                got[who].update({r.property: r for r in results})
            if who == "prover":
                prover_done = True
                targets_first = targets_sure = False  # the proofs are in: BMC is restarted or told what to drop
            stopped = who == "bmc" and not keep_going and any(stops_run(r) for r in got["bmc"].values())
            for p in props:
                if p.name in final:
                    continue
                b, proof = got["bmc"].get(p.name), got["prover"].get(p.name)
                if stopped:
                    # The run ends here: BMC's violation or witness, else STOPPED -- also where the
                    # prover happened to be done, so that the report does not depend on which
                    # process was faster (BMC's part is the same in every run).
                    # Lemmas reach BMC only once the prover is done, so BMC's word on them would
                    # depend on timing too: they are STOPPED as well.
                    decided = b is not None and b.verdict in _FINAL_FROM_BMC and p.name not in lemmas
                    final[p.name] = b if decided else _undecided(  # type: ignore[assignment]
                        p, round(time.perf_counter() - t0, 3), STOPPED)
                    if on_result is not None:
                        on_result(final[p.name])
                    continue
                if proof is None and prover_done and "prover" in failures:
                    proof = PropertyResult(p.name, p.kind.value, Verdict.UNKNOWN, "kind", None, 0.0,
                                           detail=f"prover failed: {failures['prover']}")
                if p.name not in provable and proof is None:
                    proof = PropertyResult(p.name, p.kind.value, Verdict.UNKNOWN, "kind", None, 0.0)
                if b is None and "bmc" in failures:
                    b = PropertyResult(p.name, p.kind.value, Verdict.UNKNOWN, "bmc", None, 0.0,
                                       detail=f"internal error in BMC: {failures['bmc']}")
                if head is not None and p.name in head.pending:
                    b = _confirm(head.pending[p.name], b, proof)
                r = _merge(p, b, proof)
                if r is not None and r is proof and not keep_going and not bmc_reported and bmc_may_stop():
                    continue  # held back: BMC may still stop the run (see above)
                if r is not None:
                    final[p.name] = r
                    if on_result is not None:
                        on_result(r)
            still = [n for n in names if n not in final and n not in got["bmc"] and not proved(n)]
            running = bmc is not None and bmc.is_alive()
            # A fresh BMC on what is left, when that includes safety properties: faster than
            # dropping the proved ones from the running BMC, whose solver keeps what it learned
            # about them. When only targets are left, their own unrolling goes on.
            safety_left = any(n in stoppable for n in still)
            # Not once BMC is finishing the depth of a violation that ends the run: the report is
            # BMC's then, whatever the prover says, and a fresh BMC would first have to get back
            # to that depth.
            restart = not bmc_stopping and (set(still) - set(bmc_names) or (safety_left and running and len(still) < len(bmc_names)))
            if who == "prover" and still and restart:
                if bmc is not None:
                    bmc.kill()  # SIGTERM is the parent's (_die_with_parent)
                    bmc.join(timeout=5)
                if budget.expired:
                    # Nothing left of the timeout: a fresh BMC would only start up to say so.
                    for p in [q for q in props if q.name in still]:
                        final[p.name] = _undecided(p, round(time.perf_counter() - t0, 3),
                                                   f"timeout: no verdict within --timeout {timeout:g} s")
                        if head is not None and p.name in head.pending:
                            final[p.name] = _confirm(head.pending[p.name], final[p.name], None)  # type: ignore[assignment]
                        if on_result is not None:
                            on_result(final[p.name])
                    bmc = None
                    continue
                bmc_names = still
                bmc = start_bmc(bmc_names)
            elif who == "prover" and running and len(still) < len(bmc_names):
                control.put(("drop", [n for n in bmc_names if proved(n)]))  # type: ignore[union-attr]
                bmc_names = still
            if who == "prover" and bmc is not None and bmc.is_alive():
                control.put(("resume", None))  # type: ignore[union-attr]  # an idle BMC searches what is left
    except KeyboardInterrupt:
        interrupted = True
        late = _drain(out, [w for w in (bmc, prover) if w is not None])
        for who, results in late:
            got[who].update({r.property: r for r in results})
    finally:
        for w in (bmc, prover):
            if w is not None and w.is_alive():
                w.kill()
        for w in (bmc, prover):
            if w is not None:
                w.join(timeout=5)
    if interrupted:
        raise RunInterrupted(_finished(props, final, got))
    secs = round(time.perf_counter() - t0, 3)
    for p in props:
        r = final.get(p.name)
        if r is not None and r.engine == "explicit" and r.verdict is Verdict.VIOLATED and proved(p.name):
            final[p.name] = replace(r, verdict=Verdict.UNKNOWN, trace=None, engine=ENGINE,
                                    detail="internal error: the prover proved what the explicit search refuted; please report")
        if p.name not in final and proved(p.name):
            final[p.name] = got["prover"][p.name]  # BMC ended without a word, after the prover's proof
        if p.name not in final and timed_out:
            final[p.name] = _undecided(p, secs, f"timeout: no verdict within --timeout {timeout:g} s")
    if len(final) < len(props) and not failures:
        # A process died without a word (a crash, a kill from outside): the properties it had
        # not answered must not come back as a quiet `unknown` (nor could a user tell why).
        dead = [f"the {who} process ({exit_text(w.exitcode)})" for who, w, done in
                (("BMC", bmc, bmc_reported), ("prover", prover, prover_done)) if w is not None and not done]
        raise EngineError(f"{' and '.join(dead) or 'an engine process'} ended without a result",
                          [final[n] for n in names if n in final])
    for p in props:
        if p.name not in final:
            why = "; ".join(f"{k}: {v}" for k, v in failures.items()) or "an engine process ended without a result"
            final[p.name] = _undecided(p, secs, f"internal error: {why}")
    return [final[n] for n in names]
