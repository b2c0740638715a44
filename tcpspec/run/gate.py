"""Several models, many properties: independent checks as jobs, run serially or in worker processes.

A job is one model file with its `-D` constants and a set of properties. With BMC every property
is its own job (they share nothing); with `kind`/`auto` a model's properties stay in one job,
because one induction run proves them all at once and splitting it would repeat the proof per
property. Results come back in plan order whatever order the workers finish in, and a job
computes the same thing in a worker as in-process, so `-j 1` and `-j N` report the same
verdicts, depths and traces.

Nothing here prints; `cli/commands_gate.py` renders `GateRun`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from tcpspec.core.diagnostics import EngineError, ModelError, UsageError
from tcpspec.core.options import CheckOptions
from tcpspec.core.results import PropertyResult, exit_code, finished

EXIT_MODEL_ERROR = 2


@dataclass(frozen=True)
class ModelSpec:
    """What to check in one model file (a config entry or a `check` argument): the file, its
    `-D` constants, and the options of its check (`memory_mb` applies in each worker)."""

    path: str
    defines: tuple[tuple[str, str], ...] = ()
    options: CheckOptions = CheckOptions()


@dataclass(frozen=True)
class Job:
    index: int
    model_index: int  # position of `spec` in the run (two specs may be equal)
    spec: ModelSpec
    properties: tuple[str, ...]  # exact names; empty: every selected property of the model


@dataclass
class JobOutcome:
    job: Job
    results: list[PropertyResult] = field(default_factory=list)
    error: ModelError | UsageError | None = None
    interrupted: bool = False  # Ctrl-C or SIGTERM: `results` are the ones that had finished


@dataclass
class ModelReport:
    """One model's part of the run: its results in the model's order, or the error that stopped it."""

    spec: ModelSpec
    results: list[PropertyResult] = field(default_factory=list)
    error: ModelError | UsageError | None = None
    model: object | None = None  # the checked ir.Model, for renderers (None on error)


@dataclass
class GateRun:
    reports: list[ModelReport]
    interrupted: bool = False

    @property
    def results(self) -> list[tuple[ModelSpec, PropertyResult]]:
        return [(r.spec, x) for r in self.reports for x in r.results]

    def exit_code(self) -> int:
        """2 if any model or usage error, else 1 if any failure, else 3 if any unknown, else 0."""
        if any(r.error is not None for r in self.reports):
            return EXIT_MODEL_ERROR
        return exit_code([x for _, x in self.results])


def _options(spec: ModelSpec, props: tuple[str, ...]) -> CheckOptions:
    """A job's options: its model's, for the job's own properties when it has some."""
    return replace(spec.options, properties=props or spec.options.properties)


def plan(specs: list[ModelSpec]) -> tuple[list[Job], dict[int, ModelReport]]:
    """The jobs for `specs`, in order; models that fail to load are reported, not planned."""
    from tcpspec.run import pipeline
    from tcpspec.engines.registry import engine

    jobs: list[Job] = []
    errors: dict[int, ModelReport] = {}
    for i, spec in enumerate(specs):
        try:
            model = pipeline.load_model(spec.path, dict(spec.defines))
            props = pipeline.select_properties(model, spec.options.properties, spec.options.kinds)
        except (ModelError, UsageError) as err:
            errors[i] = ModelReport(spec, error=err)
            continue
        if engine(spec.options.engine).independent:  # one job per property
            jobs += [Job(len(jobs) + k, i, spec, (p.name,)) for k, p in enumerate(props)]
        elif props:
            jobs.append(Job(len(jobs), i, spec, tuple(p.name for p in props)))
    return jobs, errors


def run_job(job: Job) -> JobOutcome:
    """Load and check; runs in a worker process (everything here pickles) or in-process.

    Each job starts with a new default Z3 context, as a run of `tcpspec check` does: serial jobs
    (and a pool worker's successive jobs) would otherwise share one, and Z3's search depends on
    everything its context has seen (after hundreds of checks in one context a check can take
    ten times as long). Nothing of an earlier job's terms is used again."""
    from tcpspec.run import pipeline
    from tcpspec.engines.processes import fresh_z3_context

    global _job_running
    fresh_z3_context()
    _job_running = True
    try:
        model = pipeline.load_model(job.spec.path, dict(job.spec.defines))
        return JobOutcome(job, pipeline.check_model(model, _options(job.spec, job.properties)))
    except (ModelError, UsageError) as err:
        return JobOutcome(job, error=err)
    except KeyboardInterrupt as e:
        return JobOutcome(job, finished(e), interrupted=True)
    finally:
        _job_running = False


# A pool worker takes SIGINT (a terminal's Ctrl-C to the process group, or the parent passing an
# interrupt on) as the end of its job, once: it answers with what had finished. Idle, or a second
# time, it ignores it: a KeyboardInterrupt in the pool's own loop would print a traceback and
# lose the answer. Process-wide by nature (a signal handler), set by `_worker_init` only.
_job_running = False
_interrupted = False


def _worker_init() -> None:
    import signal

    def on_int(signum: int, frame: object) -> None:
        global _interrupted
        if _job_running and not _interrupted:
            _interrupted = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_int)
    # SIGTERM to the whole process group is the parent's to handle: it passes SIGINT on.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _serial(jobs: list[Job]) -> Iterator[JobOutcome]:
    for job in jobs:
        outcome = run_job(job)
        yield outcome
        if outcome.interrupted:  # reported with what it had finished; the rest is not started
            raise KeyboardInterrupt


def _pool(jobs: list[Job], workers: int) -> Iterator[JobOutcome]:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from concurrent.futures.process import BrokenProcessPool

    from tcpspec.engines.processes import worker_context

    # Spawned, not forked, and safe without a `__main__` guard (engines/processes.py).
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(), initializer=_worker_init)
    futures = {pool.submit(run_job, job): job for job in jobs}
    done: set[Any] = set()
    try:
        for fut in as_completed(futures):
            done.add(fut)
            try:
                yield fut.result()
            except BrokenProcessPool:
                raise EngineError(f"a worker process died while checking {futures[fut].spec.path} "
                                  "(a crash, or killed: the OOM killer, a too low --memory-limit)") from None
    except KeyboardInterrupt:
        # What the running jobs had finished: they answer their interrupt at once.
        for outcome in _interrupted_outcomes(pool, [f for f in futures if f not in done]):
            yield outcome
        raise
    finally:
        if len(done) < len(futures):  # interrupted, failed, or abandoned by the caller
            _stop(pool)
    pool.shutdown()


def _interrupted_outcomes(pool: Any, pending: list[Any]) -> list[JobOutcome]:
    import concurrent.futures as cf
    import os
    import signal
    import time

    for fut in pending:
        fut.cancel()  # not started: nothing to report
    running = [f for f in pending if not f.cancelled()]
    start = time.monotonic()
    nudged = False
    outcomes: list[JobOutcome] = []
    while running and time.monotonic() - start < _DRAIN_SECONDS:
        if not nudged and time.monotonic() - start > _NUDGE_AFTER:  # they did not get the Ctrl-C
            nudged = True
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                try:
                    os.kill(proc.pid, signal.SIGINT)
                except OSError:
                    pass
        try:
            finished_now, _ = cf.wait(running, timeout=0.05)
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
            break
        for fut in finished_now:
            running.remove(fut)
            try:
                outcomes.append(fut.result())
            except BaseException:  # noqa: BLE001 - a worker that died answers nothing
                pass
    return outcomes


def _stop(pool: Any) -> None:
    """End the pool's processes now: shutdown(wait=True) waited for the running jobs (~55 s of a
    gate after Ctrl-C), and SIGTERM to the parent left them and the resource tracker running.
    ProcessPoolExecutor has no public call for it."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        if proc.is_alive():
            proc.kill()  # SIGTERM is the parent's (_worker_init)
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.join(timeout=1)


# As engines/portfolio.py: how long an interrupted gate waits for its jobs' finished results
# (a job's portfolio waits for its own engines within it), and after how long it passes the
# interrupt on to the workers itself. Then every process is gone within 2 s.
_DRAIN_SECONDS = 1.7
_NUDGE_AFTER = 0.2


def _cluster(jobs: list[Job], address: str) -> Iterator[JobOutcome]:
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise UsageError("--cluster needs Dask: pip install 'tcpspec[cluster]'") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as err:
        raise UsageError(f"--cluster: cannot reach {address}: {err}") from None
    with client:
        futures = client.map(run_job, jobs, pure=False)
        for fut in as_completed(futures):
            yield fut.result()


def run(
    specs: list[ModelSpec], workers: int = 1, cluster: str | None = None,
    on_model: Callable[[ModelReport], None] | None = None,
) -> GateRun:
    """Check every spec. `on_model` gets each model's report as soon as all its jobs are done,
    in plan order (a later model that finishes first waits for the earlier ones)."""
    jobs, errors = plan(specs)
    if specs and not jobs and not errors:
        from tcpspec.run.pipeline import nothing_to_check

        names = tuple(dict.fromkeys(n for s in specs for n in s.options.properties))
        kinds = tuple(dict.fromkeys(k for s in specs for k in s.options.kinds))
        raise nothing_to_check([s.path for s in specs], names, kinds)
    outcomes: dict[int, JobOutcome] = {}
    by_model: dict[int, list[Job]] = {}
    for job in jobs:
        by_model.setdefault(job.model_index, []).append(job)
    reports: list[ModelReport] = []
    next_model = 0
    interrupted = False

    def flush() -> None:
        nonlocal next_model
        while next_model < len(specs):
            i = next_model
            mine = by_model.get(i, [])
            if i not in errors and any(j.index not in outcomes for j in mine):
                return
            report = errors.get(i) or _collect(specs[i], [outcomes[j.index] for j in mine])
            reports.append(report)
            if on_model is not None:
                on_model(report)
            next_model += 1

    source = _cluster(jobs, cluster) if cluster else _pool(jobs, workers) if workers > 1 and len(jobs) > 1 else _serial(jobs)
    try:
        flush()
        for outcome in source:
            outcomes[outcome.job.index] = outcome
            flush()
    except KeyboardInterrupt:
        interrupted = True
        for i in range(next_model, len(specs)):
            done = [outcomes[j.index] for j in by_model.get(i, []) if j.index in outcomes]
            if i in errors:
                reports.append(errors[i])
            elif done:
                reports.append(_collect(specs[i], done))
    return GateRun(reports, interrupted)


def _collect(spec: ModelSpec, outcomes: list[JobOutcome]) -> ModelReport:
    """A model's results in the model's property order; the first job error stops the model."""
    from tcpspec.run import pipeline

    for o in outcomes:
        if o.error is not None:
            return ModelReport(spec, error=o.error)
    results = [r for o in outcomes for r in o.results]
    model = None
    try:
        model = pipeline.load_model(spec.path, dict(spec.defines))
        order = {p.name: i for i, p in enumerate(model.properties)}
        results.sort(key=lambda r: order.get(r.property, len(order)))
    except (ModelError, UsageError):
        pass
    return ModelReport(spec, [replace(r) for r in results], model=model)

