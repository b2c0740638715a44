"""`--engine explicit`: search the interpreter's states, every free value from a finite domain.

Free values -- initial values without an init, `choose` parameters, injected message fields --
take every value of their type when it is small (bool, enums, bvN/seqN up to 4 bits, ranges
up to 256 values), else a sample: the smallest value and the one next to the wrap-around
(0 and 2^N-1 for bvN/seqN; both ends of an int range), unless `--values NAME=A..B` says which.
Sequence numbers of an independent space (engines/seqspace.py) are not sampled: ISN 0 stands
for every ISN. Where an injected field is sampled, a solver proposes, from each state expanded,
the injected messages that break a property within two steps (engines/explicit_probe.py); the
runs they give are real (taken on the interpreter, replayed) but not claimed shortest. So a
search is *exhaustive* when nothing had to be sampled; only then does its silence prove anything:

- breadth-first, every counterexample and witness is a shortest one for the values searched
  (over all values when exhaustive), replayed on the interpreter like every trace;
- a search that visits every reachable state (TLC's "complete state graph") proves the
  invariants and step properties when exhaustive: `proved`, "exhaustive: N states, diameter D";
  when sampled it is `holds` for those values, never `proved`;
- a search stopped by the bound is bounded (`holds`, `unreached`); one stopped by `--max-states`,
  the memory bound or the timeout before the bound is `unknown`.

Liveness stays with lasso BMC (pipeline). Deadlocks are found here (`--deadlock`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import z3

from tcpspec.checker import ir
from tcpspec.core.diagnostics import UsageError
from tcpspec.engines import family_symmetry, seqspace
from tcpspec.engines.contract import EngineCall, HeadStart
from tcpspec.engines.explicit_plan import Plan, free_inputs, plan, resolve_values
from tcpspec.engines.explicit_search import Limits, Outcome, Progress, Search
from tcpspec.engines.explicit_steps import canonical, concrete
from tcpspec.engines.explicit_symmetry import Reducer
from tcpspec.interp.search import replay
from tcpspec.interp.values import InterpError, OpaqueRead
from tcpspec.core.results import STOPPED, PropertyResult, Verdict, steps, stops_run
from tcpspec.core.trace import Trace, TraceStep, changed_keys
from tcpspec.core.types import IntType, Type, Value

ENGINE = "explicit"
SEARCHES = ("bfs", "dfs", "swarm")
RESTARTS = 8  # searches started again after an opaque value was read (each drops one assumption)
DEFAULT_MEMORY_MB = 2048  # the search stops (verdicts unknown) when the process grows past this


@dataclass(frozen=True)
class ExplicitOptions:
    values: Mapping[str, Sequence[Value]] = field(default_factory=dict)  # --values NAME=A..B, by NAME as given
    max_states: int | None = None
    memory_mb: int | None = None
    search: str = "bfs"
    seed: int = 0  # swarm: the random seed of the first member
    independence: bool = True  # off: no sequence space is searched from ISN 0 alone (tests compare)
    # Breadth-first with sampled values: ask Z3 for the injected messages that break a property
    # within two steps of each state expanded (engines/explicit_probe.py; off: tests compare).
    probe: bool = True
    symmetry: bool = True  # off: no reduction by a family's permutations (--no-symmetry; tests compare)


# ---------------------------------------------------------------- the engine


def run(model: ir.Model, props: list[ir.Property], call: EngineCall) -> list[PropertyResult]:
    """The engine as the registry calls it (engines/registry.py)."""
    o = call.options
    opts = ExplicitOptions(values=dict(o.values), max_states=o.max_states, memory_mb=o.memory_mb, search=o.search,
                           symmetry=o.symmetry)
    return run_explicit(model, props, call.depth, call.budget.seconds_left(floor=0.0), opts,
                        keep_going=o.keep_going, on_progress=call.on_progress)


def run_explicit(
    model: ir.Model, props: list[ir.Property], depth: int, timeout: float | None,
    options: ExplicitOptions = ExplicitOptions(), keep_going: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> list[PropertyResult]:
    """Search for every property's violation (witness); results in the order of `props`.

    Without `keep_going` the search ends with the level of its first violation: every
    property violated at that depth is reported, and the others are `unknown` (STOPPED), as
    BMC does."""
    t0 = time.perf_counter()
    p, outcome, search = explore(model, props, depth, timeout, options, keep_going, on_progress)
    cert = certify(model, props, p, outcome, search, timeout)
    return _results(model, props, p, outcome, search, time.perf_counter() - t0, keep_going, options.search, cert)


@dataclass
class Certification:
    """What became of a complete search's certificate (engines/explicit_cert.py)."""

    text: str = ""  # the rendered certificate when it re-checked
    note: str = ""  # for the verdict's detail
    failed: bool = False  # Z3 refuted it: the search and the solver disagree (a bug)


CERT_SECONDS = 120.0  # the re-check's time limit without --timeout


def certify(model: ir.Model, props: list[ir.Property], p: Plan, outcome: Outcome, search: Search,
            timeout: float | None) -> Certification | None:
    """Re-check the visited states as an inductive invariant, when the search proved something."""
    proved = [q for q in props if q.kind in (ir.PropertyKind.INVARIANT, ir.PropertyKind.LEMMA, ir.PropertyKind.STEP,
                                             ir.PropertyKind.DEADLOCK) and q.name not in outcome.found]
    if not (outcome.complete and p.exhaustive and proved):
        return None
    if search.kept is None:
        from tcpspec.engines.explicit_cert import MAX_STATES

        return Certification(note=f"no certificate: more than {MAX_STATES} states "
                                  f"(fingerprint collision chance {outcome.collision:.1e})")
    from tcpspec.proof.certificate import render
    from tcpspec.engines.explicit_cert import MAX_STATES, recheck_reachable

    kept = search.kept
    if search.reducer is not None:
        # One state per orbit was kept: the reachable states are their orbits.
        kept = [x for st in search.kept for x in search.reducer.orbit(st)]
        if len(kept) > MAX_STATES:
            return Certification(note=f"no certificate: more than {MAX_STATES} states once the orbits are expanded "
                                      f"(fingerprint collision chance {outcome.collision:.1e})")
    try:
        cert, problem = recheck_reachable(model, p.independence, kept, proved, timeout=timeout or CERT_SECONDS)
    except Exception as e:  # noqa: BLE001 - the solver failed (memory, ...): no certificate, not a crash
        return Certification(note=f"certificate not re-checked ({type(e).__name__}: {' '.join(str(e).split()[:10])})")
    if cert is None:
        return Certification(note=f"no certificate ({problem})")
    if problem is None:
        return Certification(render(cert), "certificate re-checked")
    if "counterexample" in problem:
        return Certification(note=f"its reachable states are not inductive ({problem})", failed=True)
    return Certification(note=f"certificate not re-checked ({problem})")


def explore(
    model: ir.Model, props: list[ir.Property], depth: int, timeout: float | None,
    options: ExplicitOptions = ExplicitOptions(), keep_going: bool = True,
    on_progress: Callable[[str], None] | None = None, cpu_seconds: float | None = None,
) -> tuple[Plan, Outcome, Search]:
    """The search itself: started again, without the assumption, each time an opaque value
    turns out to be read (engines/seqspace.py)."""
    if options.search not in SEARCHES:
        raise UsageError(f"unknown search '{options.search}' (searches: {', '.join(SEARCHES)})")
    given = resolve_values(model, options.values)
    deadline = None if timeout is None else time.monotonic() + timeout
    prefer: list[str] = []
    avoid: list[str] = [] if options.independence else [v for v, _, _ in seqspace.free_leaves(model)]
    opaque_constants = options.independence
    reads: list[str] = []  # opaque values a search read (each cost a restart)
    verified = _verified_symmetry(model, props, options, deadline)
    for _ in range(RESTARTS + 1):
        p = plan(model, given, prefer, avoid, opaque_constants)
        reducer = _reducer(p, verified, given)
        try:
            outcome, search = _search(p, props, depth, deadline, options, keep_going, on_progress, cpu_seconds,
                                      model, reducer)
            break
        except OpaqueRead as read:
            # An assumption of data independence was wrong for this model: drop it and start over.
            reads.append(read.origin)
            if read.origin.startswith("constant"):
                opaque_constants = False
            elif read.origin in prefer:
                avoid.append(read.origin)
            else:
                prefer.append(read.origin)
    else:
        p = plan(model, given, avoid=[v for v, _, _ in seqspace.free_leaves(model)], opaque_constants=False)
        reducer = _reducer(p, verified, given)
        outcome, search = _search(p, props, depth, deadline, options, keep_going, on_progress, cpu_seconds, model,
                                  reducer)
    p.reads = reads
    return p, outcome, search


def _verified_symmetry(model: ir.Model, props: list[ir.Property], options: ExplicitOptions,
                       deadline: float | None) -> family_symmetry.Verified | None:
    """The family permutations Z3 verifies for the model and the searched properties (None:
    --no-symmetry)."""
    if not options.symmetry:
        return None
    from tcpspec.solving.budget import Budget

    budget = Budget(None if deadline is None else max(0.0, deadline - time.monotonic()))
    try:
        return family_symmetry.verify(model, props, budget)
    except (z3.Z3Exception, RecursionError, KeyError, TypeError, ValueError) as e:
        return family_symmetry.Verified(None, f"not verified ({type(e).__name__})")


def _reducer(p: Plan, verified: family_symmetry.Verified | None, given: dict[str, list[Value]]) -> Reducer | None:
    """The search's symmetry reduction, when the permutations are verified and the search's own
    choices (the values it draws) are symmetric too; `p.symmetry` says which, or why none."""
    if verified is None:
        p.symmetry = "none (--no-symmetry)"
        return None
    prop = verified.proposal
    if prop is None:
        p.symmetry = f"none ({verified.reason})" if verified.reason != "no family of two or more instances" else ""
        return None
    if p.independence.spaces:
        p.symmetry = "none (not combined with data independence of sequence numbers)"
        return None
    why = _asymmetric_domain(p, prop, given)
    if why:
        p.symmetry = f"none ({why})"
        return None
    p.symmetry = prop.describe()
    return Reducer(p.searched, prop, canonical(p.searched))


def _asymmetric_domain(p: Plan, prop: family_symmetry.Proposal, given: dict[str, list[Value]]) -> str:
    """Why the values the search draws are not the same for every member (a --values for one
    member, an index sampled), or ""."""
    names = family_symmetry.Renaming(p.searched, prop)
    vals = p.domain.values
    for key, choices in vals.items():
        if key in p.sampled and family_symmetry.holds_index(_free_type(p.searched, key), prop):
            return f"the index values of {key} are sampled"
        for g in family_symmetry.generators(prop.n):
            other = _renamed_input(names, key, g)
            if other != key and repr(vals.get(other)) != repr(choices):
                return f"--values differ between {key} and {other}"
    return ""


def _free_type(model: ir.Model, key: str) -> Type:
    return free_inputs(model).get(key, IntType(0, 0))


def _renamed_input(names: family_symmetry.Renaming, key: str, p: family_symmetry.Perm) -> str:
    """A free input's name for the permuted member (`rm[0].vote.yes` -> `rm[1].vote.yes`)."""
    for inst in names.member:
        if key.startswith(inst + "."):
            return f"{names.instance(inst, p)}{key[len(inst):]}"
    for ch in names.chan_member:
        if key.startswith(ch + "."):
            return f"{names.channel(ch, p)}{key[len(ch):]}"
    return key


def _search(p: Plan, props: list[ir.Property], depth: int, deadline: float | None, options: ExplicitOptions,
            keep_going: bool, on_progress: Callable[[str], None] | None,
            cpu_seconds: float | None = None, original: ir.Model | None = None,
            reducer: Reducer | None = None) -> tuple[Outcome, Search]:
    searched_props = [p.searched.property(q.name) if q.kind is not ir.PropertyKind.DEADLOCK else q for q in props]
    deadlock = next((q for q in props if q.kind is ir.PropertyKind.DEADLOCK), None)
    tell = None
    if on_progress is not None:
        def tell(pr: Progress) -> None:
            rate = pr.states / pr.seconds if pr.seconds > 0 else 0.0
            on_progress(f"explicit: {pr.states} states, {rate:.0f} states/s, depth {pr.depth}")
    from tcpspec.engines.explicit_cert import MAX_STATES

    keep = MAX_STATES if options.search == "bfs" and p.exhaustive else 0  # a certificate needs them all
    prober = None
    # Not with a symmetry reduction: a probe's run starts from a canonical state, which its trace
    # rebuilding does not map back (the two have not met on a model yet).
    if options.probe and options.search == "bfs" and not p.exhaustive and original is not None and reducer is None:
        from tcpspec.engines.explicit_probe import Prober, injections

        if injections(original):
            prober = Prober(original, props)
    search = Search(p.searched, p.initial, [q for q in searched_props if q.kind is not ir.PropertyKind.DEADLOCK],
                    p.domain, deadlock, tell, keep, prober, reducer)
    stoppers = frozenset() if keep_going else frozenset(q.name for q in props if q.kind not in (
        ir.PropertyKind.REACHABLE, ir.PropertyKind.LEMMA))
    limits = Limits(depth, options.max_states, options.memory_mb or DEFAULT_MEMORY_MB, deadline,
                    cpu_seconds=cpu_seconds, stop_at_first=stoppers)
    if options.search == "bfs":
        return search.bfs(limits), search
    if options.search == "dfs":
        return search.dfs(limits), search
    return _swarm(search, limits, options.seed), search


def _swarm(search: Search, limits: Limits, seed: int) -> Outcome:
    """Random depth-first searches, each with its own visited set, until the time or the state
    budget is spent or every property is found: bug hunting, never a proof."""
    rng = random.Random(seed)
    total = Outcome()
    member = 0
    budget = limits.max_states
    while search._open:
        member += 1
        search.out = Outcome()
        out = search.dfs(limits, random.Random(rng.random()))
        for k, v in out.found.items():
            if k not in total.found:
                total.found[k] = v
                if k in out.moved:
                    total.moved[k] = out.moved[k]
                if k in out.step_end:
                    total.step_end.add(k)
        total.states += out.states
        total.diameter = max(total.diameter, out.diameter)
        if out.cut in ("timeout", "memory") or limits.deadline is None or out.complete:
            total.cut = out.cut
            break
        if budget is not None and total.states >= budget:
            total.cut = "max-states"
            break
    total.levels = 0  # no level was searched in full by every member
    search.out = total  # what the runs are rebuilt from (`Search.run_of`)
    return total


# ---------------------------------------------------------------- results


def trace_of(model: ir.Model, search: Search, path: tuple[int, tuple[int, ...]], prop: str | None = None) -> Trace:
    """The run of `path`, in concrete values (an opaque value shows the value it stands for)."""
    run = search.run_of(path, prop)
    steps_: list[TraceStep] = []
    prev: dict[str, object] | None = None
    for i, (st, t, params, outcome) in enumerate(run):
        state = concrete(st)
        assert isinstance(state, dict)
        ts = TraceStep(index=i, state=state)
        if t is not None and outcome is not None:
            ts.transition = t.name
            ts.params = dict(params)
            ts.changed = changed_keys(prev, state)  # type: ignore[arg-type]
            ts.received = [(c, concrete(m)) for c, m in outcome.received]  # type: ignore[misc]
            ts.sent = [(c, concrete(m)) for c, m in outcome.sent]  # type: ignore[misc]
        steps_.append(ts)
        prev = state
    return Trace(steps_)


def _domain_note(p: Plan) -> str:
    """Which values were searched, when not all of them (the report's caveat)."""
    def show(vals: list[Value]) -> str:
        return "{" + ", ".join(str(v) for v in vals[:4]) + (", ..." if len(vals) > 4 else "") + "}"

    parts = [f"{k} in {show(v)}" for k, v in list(p.sampled.items())[:4]]
    more = f" and {len(p.sampled) - 4} more" if len(p.sampled) > 4 else ""
    return "sampled: " + ", ".join(parts) + more


def _coverage_note(p: Plan) -> str:
    spaces = [s for s in p.independence.spaces if not s.partial]
    if not spaces:
        return ""
    return "ISN 0 stands for every ISN of " + ", ".join(s.seed for s in spaces) + " (data independence)"


def search_summary(p: Plan, outcome: Outcome, search_kind: str = "bfs") -> dict[str, object]:
    """The figures the JSON report carries (`search`)."""
    return {
        "states": outcome.states, "diameter": outcome.diameter if search_kind == "bfs" else None,
        "levels": outcome.levels, "complete": outcome.complete, "exhaustive": p.exhaustive,
        "cut": outcome.cut or None, "sampled": {k: list(v) for k, v in p.sampled.items()},
        "independent": [s.seed for s in p.independence.spaces if not s.partial], "opaque_reads": list(p.reads),
        "collision_probability": outcome.collision, "seconds": round(outcome.seconds, 3),
        "symmetry": p.symmetry or None,
    }


def _results(model: ir.Model, props: list[ir.Property], p: Plan, outcome: Outcome, search: Search,
             seconds: float, keep_going: bool, kind: str = "bfs", cert: Certification | None = None) -> list[PropertyResult]:
    figures = f"{outcome.states} states" + (f" up to symmetry of {p.symmetry}" if search.reducer is not None else "")
    figures += f", diameter {outcome.diameter}" if kind == "bfs" else ""
    note = _domain_note(p) if p.sampled else _coverage_note(p)
    summary = search_summary(p, outcome, kind)
    stop_depth = min((len(outcome.found[q.name][1]) for q in props if q.name in outcome.found
                      and q.kind not in (ir.PropertyKind.REACHABLE, ir.PropertyKind.LEMMA)), default=None)
    out: list[PropertyResult] = []
    for q in props:
        r = PropertyResult(q.name, q.kind.value, Verdict.UNKNOWN, ENGINE, None, round(seconds, 3), doc=q.doc)
        r.search = summary
        path = outcome.found.get(q.name)
        if path is not None:
            _found(model, q, p, search, path, r, kind, q.name in outcome.probed)
        elif not keep_going and stop_depth is not None:
            r.depth, r.detail = stop_depth, STOPPED
        elif outcome.complete:
            reach = q.kind is ir.PropertyKind.REACHABLE
            r.depth = outcome.diameter
            if p.exhaustive:
                r.verdict = Verdict.UNREACHED if reach else Verdict.PROVED
                r.detail = f"exhaustive: {figures}" + (f"; {note}" if note else "")
                if not reach and cert is not None:
                    r.detail += f"; {cert.note}"
                    r.certificate = cert.text
                    if cert.failed:
                        r.verdict = Verdict.UNKNOWN
                        r.detail = f"internal error: {r.detail}; please report"
            else:
                r.verdict = Verdict.UNREACHED if reach else Verdict.HOLDS
                r.detail = (f"{'not reached' if reach else 'no violation'} in any reachable state with the values "
                            f"searched ({figures}); {note}")
        elif not outcome.cut:
            reach = q.kind is ir.PropertyKind.REACHABLE
            r.verdict, r.depth = (Verdict.UNREACHED if reach else Verdict.HOLDS), outcome.levels
            what = "not reached within" if reach else "no violation in runs of up to"
            r.detail = f"{what} {steps(outcome.levels)} ({outcome.states} states" + (f"; {note})" if note else ")")
        else:
            why = {"max-states": "--max-states reached", "memory": "memory bound reached",
                   "timeout": "timeout: no verdict within --timeout", "budget": "the search's budget spent"}[outcome.cut]
            r.depth = outcome.levels
            r.detail = f"{why} after {outcome.states} states; no violation in runs of up to {steps(outcome.levels)}"
        out.append(r)
    return out


PROBED = ("found by a solver-proposed injection from a visited state (values outside the sample): "
          "not necessarily the shortest")


def _found(model: ir.Model, q: ir.Property, p: Plan, search: Search, path: tuple[int, tuple[int, ...]],
           r: PropertyResult, kind: str = "bfs", probed: bool = False) -> None:
    trace = trace_of(model, search, path, q.name)
    check = replay(model, trace, q, require_first=True)
    r.depth = trace.length
    if not check.ok:
        r.detail = (f"internal error: the explicit search's trace did not replay on the concrete semantics "
                    f"({check.message}); please report")
        return
    r.verdict = Verdict.REACHED if q.kind is ir.PropertyKind.REACHABLE else Verdict.VIOLATED
    r.trace = trace
    if kind != "bfs":
        r.detail = f"found by {'random ' if kind == 'swarm' else ''}depth-first search: not necessarily the shortest"
    elif probed:
        r.detail = PROBED
    elif p.exhaustive:
        r.detail = "shortest over all values"
    else:
        r.detail = f"shortest for the values searched ({_domain_note(p)})"


# ---------------------------------------------------------------- the portfolio's head start

# `--engine auto` runs this search first, in BMC's process (engines/portfolio.py), for at most
# this long and this many states: the broken TCP copies' violations (9-11 steps) take 2k-11k
# states; tcp.tcpspec's six witnesses come within its first 25k.
AUTO_CPU_SECONDS = 4.0
AUTO_STATES = 60_000
NOT_CONFIRMED = "shortest over all values: not confirmed within --timeout (found by the explicit search with sampled values)"


def head_start(model: ir.Model, props: list[ir.Property], depth: int, timeout: float | None,
               keep_going: bool, probe: bool = True, symmetry: bool = True) -> HeadStart:
    """A short breadth-first search on the invariants, step properties and targets (not the
    lemmas, the prover's helpers: a run does not stop at theirs)."""
    searched = [p for p in props if p.kind in (ir.PropertyKind.INVARIANT, ir.PropertyKind.STEP,
                                                ir.PropertyKind.REACHABLE)]
    if not searched:
        return HeadStart()
    t0 = time.perf_counter()
    try:
        p, outcome, search = explore(model, searched, depth, timeout,
                                     ExplicitOptions(max_states=AUTO_STATES, probe=probe, symmetry=symmetry),
                                     keep_going, cpu_seconds=AUTO_CPU_SECONDS)
    except (InterpError, UsageError, RecursionError, KeyError, TypeError, ValueError, AssertionError):
        return HeadStart()  # only a head start: BMC and the prover answer as before
    cert = certify(model, searched, p, outcome, search, timeout)
    results = _results(model, searched, p, outcome, search, time.perf_counter() - t0, keep_going, cert=cert)
    head = HeadStart(summary=f"explicit search: {outcome.states} states, depth {outcome.levels}")
    for r in results:
        if r.verdict in (Verdict.VIOLATED, Verdict.REACHED) and r.trace is not None:
            if p.exhaustive:
                head.final.append(r)
            else:
                head.known[r.property] = r.trace
                if r.verdict is Verdict.VIOLATED:
                    head.pending[r.property] = r
        elif p.exhaustive and outcome.complete and (r.verdict is Verdict.UNREACHED or r.certificate):
            head.final.append(r)  # a proof only with its certificate re-checked, as the prover's
        elif p.exhaustive and r.detail != STOPPED:
            head.cleared[r.property] = outcome.levels
    head.stop = not keep_going and any(stops_run(r) for r in head.final)
    return head
