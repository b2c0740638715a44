"""The pipeline in one place: text -> AST -> checked model -> engine -> results.

Library entry points for the CLI and for tests. Nothing here prints or exits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from tcpspec.checker import ir
from tcpspec.core.diagnostics import UsageError
from tcpspec.core.options import DEFAULT_DEPTH, CheckOptions
from tcpspec.core.results import STOPPED, PropertyResult, RunInterrupted, Verdict, finished, stops_run, within_stop

__all__ = ["DEFAULT_DEPTH", "CheckOptions", "check_model", "load_model", "select_properties"]


def load_model(path: str, defines: dict[str, str] | None = None) -> ir.Model:
    """Parse `path` (and its imports) and check it. Raises ModelError / UsageError."""
    from tcpspec.checker.check import check_program
    from tcpspec.frontend.parser import load_program

    program = load_program(path)
    return check_program(program, defines or {})


def select_properties(model: ir.Model, names: tuple[str, ...], kinds: tuple[str, ...] = ()) -> list[ir.Property]:
    """`--prop NAME`: an exact name, a process property's short name for every instance, or
    `rm.NAME` for every member of family `rm`; `--kind K`: of those, the ones of kind K."""
    every = model.properties + model.liveness
    chosen: list[ir.Property] = [] if names else list(every)
    families = {i.name: i.family for i in model.instances if i.family}
    for name in names:
        hits = [p for p in every if p.name == name or p.name.split(".", 1)[-1] == name
                or (p.instance in families and f"{families[p.instance]}.{p.name.split('.', 1)[-1]}" == name)]
        if not hits:
            known = ", ".join(p.name for p in every) or "none"
            raise UsageError(f"no property named '{name}' in {model.path} (properties: {known})")
        chosen.extend(p for p in hits if p not in chosen)
    return [p for p in chosen if p.kind.value in kinds] if kinds else chosen


def nothing_to_check(paths: list[str], names: tuple[str, ...], kinds: tuple[str, ...]) -> UsageError:
    """A run that selects no property would pass having checked nothing: a CI gate that can
    never fail. That is a usage error, as pytest's "no tests ran" is."""
    where = paths[0] if len(paths) == 1 else f"any of the {len(paths)} models"
    asked = [f"--prop {' '.join(names)}"] * bool(names) + [f"--kind {' '.join(kinds)}"] * bool(kinds)
    return UsageError(f"nothing to check: no property of {where} is selected"
                      + (f" by {' and '.join(asked)}" if asked else ""))


def check_model(
    model: ir.Model, options: CheckOptions, on_progress: Callable[[str], None] | None = None
) -> list[PropertyResult]:
    """Run the selected engine on the selected properties; results in the model's order.

    `on_progress` receives one-line status texts ("BMC depth 7, 3 open") for a live display.
    """
    props = select_properties(model, options.properties, options.kinds)
    if options.deadlock:
        from tcpspec.engines.deadlock import with_deadlock

        dl = with_deadlock(model)
        props += [dl] if dl not in props else []
    if not props:
        raise nothing_to_check([model.path], options.properties, options.kinds)
    from tcpspec.solving.budget import solver_memory_limit
    from tcpspec.solving.query import require_model_initial_state
    from tcpspec.engines.registry import engine

    engine(options.engine)  # an unknown name is the user's error, before any work
    with solver_memory_limit(options.memory_mb):
        try:
            require_model_initial_state(model, options.theory)
            return _run_bounds(model, props, options, on_progress)
        except Exception as err:
            if "memory" not in str(err) or type(err).__name__ != "Z3Exception":
                raise
            return [PropertyResult(p.name, p.kind.value, Verdict.UNKNOWN, options.engine, None, 0.0, doc=p.doc,
                                   detail="memory limit reached (--memory-limit)") for p in props]


def bounds(model: ir.Model, props: list[ir.Property], depth: int | None) -> list[tuple[int, list[ir.Property]]]:
    """The properties grouped by the bound each is checked to, in order of first appearance:
    `depth` for all, or each one's from the model's `depth` declarations (else DEFAULT_DEPTH)."""
    groups: dict[int, list[ir.Property]] = {}
    for p in props:
        d = depth if depth is not None else model.default_depth(p.kind)
        groups.setdefault(DEFAULT_DEPTH if d is None else d, []).append(p)
    return list(groups.items())


def _run_bounds(
    model: ir.Model, props: list[ir.Property], options: CheckOptions, on_progress: Callable[[str], None] | None
) -> list[PropertyResult]:
    """One engine run per bound (one in all, unless the model declares a depth for some kinds);
    results in the order of `props`. A violation that stops the run stops the later groups too."""
    results: dict[str, PropertyResult] = {}
    try:
        for depth, group in bounds(model, props, options.depth):
            if not options.keep_going and any(stops_run(r) for r in results.values()):
                found = _stopped(group, options)
            else:
                found = _run_engine(model, group, replace(options, depth=depth), on_progress)
            results.update((r.property, r) for r in found)
    except KeyboardInterrupt as e:  # Ctrl-C, SIGTERM: what finished, in the model's order
        results.update((r.property, r) for r in finished(e))
        raise RunInterrupted([results[p.name] for p in props if p.name in results]) from None
    return [results[p.name] for p in props]


def _stopped(props: list[ir.Property], options: CheckOptions) -> list[PropertyResult]:
    """Properties not searched at all: the run had already stopped at a violation."""
    return [PropertyResult(p.name, p.kind.value, Verdict.UNKNOWN, options.engine, None, 0.0, doc=p.doc, detail=STOPPED)
            for p in props]


def _run_engine(
    model: ir.Model, props: list[ir.Property], options: CheckOptions, on_progress: Callable[[str], None] | None
) -> list[PropertyResult]:
    """Deadlock and liveness properties have their own engines (BMC only: bounded verdicts, never
    `proved`); the rest goes to the selected engine. Results in the order of `props`."""
    live = [p for p in props if p.kind in ir.LIVENESS_KINDS]
    from tcpspec.engines.registry import engine

    dead = [p for p in props if p.kind is ir.PropertyKind.DEADLOCK and not engine(options.engine).deadlock]
    rest = [p for p in props if p not in live and p not in dead]
    cached = _cached_witnesses(model, rest, options)
    todo = [p for p in rest if p.name not in cached]
    selected = lambda: _run_selected(model, todo, options, on_progress)  # noqa: E731
    results: list[PropertyResult] = []
    try:
        # The portfolio's parent keeps its own deadline and the results that came in (engines/portfolio.py).
        results = (selected() if options.engine == "auto" else _within_timeout(todo, options, selected)) if todo else []
        _store_witnesses(model, results, options)
        results += _unless_stopped(list(cached.values()), results, options)
        for group, search in ((dead, _deadlock_search), (live, _liveness_search)):
            if not group:
                continue
            if not options.keep_going and any(stops_run(r) for r in results):  # not started
                results += _stopped(group, options)
            else:
                results += _within_timeout(group, options, lambda: search(model, group, options))  # noqa: B023
    except KeyboardInterrupt as e:
        done = {r.property for r in results}
        raise RunInterrupted(results + [r for r in [*finished(e), *cached.values()] if r.property not in done]) from None
    if options.max_cex > 1:
        from tcpspec.engines.more_cex import add_counterexamples

        results = add_counterexamples(model, results, options.max_cex, options.depth, options.timeout, options.theory)
    order = {p.name: i for i, p in enumerate(props)}
    return sorted(results, key=lambda r: order[r.property])


def _within_timeout(props: list[ir.Property], options: CheckOptions,
                    run: Callable[[], list[PropertyResult]]) -> list[PropertyResult]:
    """`run()`, stopped from outside once the timeout and its grace have passed; its properties
    are then `unknown` (timeout)."""
    if options.timeout is None:
        return run()
    from tcpspec.solving.budget import DeadlinePassed, hard_deadline, raised_by_handler

    t0 = time.perf_counter()
    try:
        with hard_deadline(options.timeout):
            return run()
    except BaseException as e:
        if not raised_by_handler(e, DeadlinePassed):
            raise
        secs = round(time.perf_counter() - t0, 3)
        return [PropertyResult(p.name, p.kind.value, Verdict.UNKNOWN, options.engine, None, secs, doc=p.doc,
                               detail=f"timeout: no verdict within --timeout {options.timeout:g} s") for p in props]


CACHED_WITNESS = "from the cache: an earlier run's shortest witness, replayed now"


def _cached_witnesses(model: ir.Model, props: list[ir.Property], options: CheckOptions) -> dict[str, PropertyResult]:
    """Reachability targets answered by the cache's witnesses (proof/cache.py): each one replayed
    on the interpreter, reaching its target at its last state only, within the bound."""
    from tcpspec.engines.registry import engine

    wanted = [p for p in props if p.kind is ir.PropertyKind.REACHABLE]
    if not wanted or not engine(options.engine).cached_witnesses:
        return {}

    from tcpspec.proof import cache as proof_cache
    from tcpspec.interp.search import replay

    stored = proof_cache.load_witnesses(model, options.theory)
    out: dict[str, PropertyResult] = {}
    for p in wanted:
        t0 = time.perf_counter()
        trace = stored.get(p.name)
        if trace is None or options.depth is None or trace.length > options.depth:
            continue
        try:
            ok = replay(model, trace, p, require_first=True).ok
        except Exception:  # noqa: BLE001 - a cache entry that cannot even be replayed is no witness
            ok = False
        if ok:
            out[p.name] = PropertyResult(p.name, p.kind.value, Verdict.REACHED, "bmc", trace.length,
                                         round(time.perf_counter() - t0, 3), trace=trace, doc=p.doc, detail=CACHED_WITNESS)
    return out


def _store_witnesses(model: ir.Model, results: list[PropertyResult], options: CheckOptions) -> None:
    """BMC's witnesses (shortest, replayed) go to the cache for the next run."""
    found = {r.property: r.trace for r in results
             if r.verdict is Verdict.REACHED and r.kind == ir.PropertyKind.REACHABLE.value and r.engine == "bmc"
             and r.trace is not None and r.detail != CACHED_WITNESS}
    if found:
        from tcpspec.proof import cache as proof_cache

        proof_cache.store_witnesses(model, options.theory, found)  # type: ignore[arg-type]


def _unless_stopped(cached: list[PropertyResult], results: list[PropertyResult], options: CheckOptions) -> list[PropertyResult]:
    """A run that stops at a violation of depth d reports only the targets reached in at most d
    steps (engines/bmc.py); cached witnesses follow the same rule, so the report is the same."""
    if options.keep_going:
        return cached
    depths = [r.depth for r in results if stops_run(r) and r.depth is not None]
    if not depths:
        return cached
    return [within_stop(r, min(depths)) for r in cached]


def _deadlock_search(model: ir.Model, props: list[ir.Property], options: CheckOptions) -> list[PropertyResult]:
    from tcpspec.engines.bmc import run_bmc

    return run_bmc(model, props, options.depth, options.timeout, options.theory, keep_going=options.keep_going)


def _liveness_search(model: ir.Model, props: list[ir.Property], options: CheckOptions) -> list[PropertyResult]:
    from tcpspec.engines.liveness import run_liveness

    return run_liveness(model, props, options.depth, options.timeout, options.theory, options.max_cex,
                        keep_going=options.keep_going)


def _run_selected(
    model: ir.Model, props: list[ir.Property], options: CheckOptions, on_progress: Callable[[str], None] | None
) -> list[PropertyResult]:
    """The selected engine, by its name in the registry, with the run's options and budget."""
    from tcpspec.engines.registry import EngineCall, engine

    return engine(options.engine).run(model, props, EngineCall.start(options, on_progress))
