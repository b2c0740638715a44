"""Bounded model checking: one unrolling per track, deepened step by step.

Each depth adds only step k's constraints, and every depth is asked in order, so the first
`sat` is the shortest counterexample/witness. Depth k means runs of exactly k transitions. The
safety track asks under assumptions in one solver, which keeps everything it learned; the
targets' track asks each query in a fresh solver with the query asserted (`_Track`, `FRESH`).

The safety track searches only runs in normal form (engines/interleaving.py): of the orders of
steps that commute, one; a step property leaves its last step out of it.

Range violations (`range_ok`) are special: every step but the last is asserted in range; the
last step's range check is an assumption, negated for `range_ok` itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace

import z3

from tcpspec.checker import ir
from tcpspec.engines import interleaving
from tcpspec.solving.budget import Budget
from tcpspec.engines.common import extract_trace, prefer_small_values, replay_or_explain, true_in
from tcpspec.solving.query import QueryCut, check, require_initial_state
from tcpspec.engines.bad_states import bad_at, range_assumption
from tcpspec.engines.contract import HeadStart
from tcpspec.engines.interleaving import Interleaving
from tcpspec.core.results import STOPPED, PropertyResult, RunInterrupted, Verdict, finished, steps, stops_run, within_stop
from tcpspec.encoding.theories import choose_theory
from tcpspec.core.trace import Trace
from tcpspec.encoding.transition_system import TransitionSystem

ENGINE = "bmc"


@dataclass
class _Open:
    """A property still being searched, with its own clock."""

    prop: ir.Property
    budget: Budget
    started: float = field(default_factory=time.perf_counter)
    spent: float = 0.0


@dataclass
class Steering:
    """What the portfolio tells a running BMC between depths (engines/portfolio.py)."""

    dropped: set[str] = field(default_factory=set)  # proved by the prover: stop searching them
    # The prover could not prove some safety property, so a violation is likely: the safety
    # track goes first, the targets wait (they resume if the run stops at a deeper depth than
    # they have reached, to report every target reached by then).
    safety_first: bool = False
    # Houdini proved every safety property and only its certificate's re-check is left: the
    # targets go first, since the safety queries will most likely be dropped unanswered.
    targets_first: bool = False
    # ... and no safety property was taken on trust for it (a trial of Houdini's phase 2), so a
    # BMC whose targets are done may idle for the re-check (`run_bmc`'s on_idle).
    may_idle: bool = False


class LiveSteering:
    """Steering that another thread updates while BMC runs (the portfolio's control queue).

    `drop` and `targets_first` only take effect between depths, and on tcp.tcpspec one safety
    query at depth 9-10 takes tens of seconds: the witnesses then waited for a query whose
    answer no longer mattered. So an update that makes the safety query under way pointless
    interrupts it (`Solver.interrupt` touches only that solver, and only while it runs), and
    the track asks that depth again if it is still searched.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # told on every update (`wait`)
        self._steering = Steering()
        self._asking: _Track | None = None
        self._yields = False  # a targets_first update makes the safety query under way pointless
        self._cut = False  # the query under way was interrupted by us, not by Ctrl-C

    def __call__(self) -> Steering:
        with self._lock:
            s = self._steering
            return Steering(set(s.dropped), s.safety_first, s.targets_first, s.may_idle)

    def update(self, dropped: Iterable[str] = (), safety_first: bool = False, targets_first: bool = False,
               resume: bool = False, sure: bool = True) -> None:
        """`resume`: the prover has reported, so whatever is still searched is searched in full
        (targets_first no longer holds, see `wait`). `sure`: targets_first may idle (may_idle)."""
        with self._lock:
            s = self._steering
            s.dropped.update(dropped)
            s.safety_first = s.safety_first or safety_first
            s.targets_first = (s.targets_first or targets_first) and not s.safety_first and not resume
            s.may_idle = (s.may_idle or (targets_first and sure)) and s.targets_first
            self._changed.notify_all()
            t = self._asking
            if t is None or not t.safety or s.safety_first:
                return
            pointless = all(it.prop.name in s.dropped for it in list(t.open_))
            # A trial's targets_first (phase 2 taken on trust) reorders the depths to come but
            # lets the safety query under way finish: a violation may be ahead.
            if pointless or (s.targets_first and s.may_idle and self._yields):
                self._cut = True
                t.solver.interrupt()

    def wait(self, seconds: float) -> None:
        """Until the next update, at most `seconds`: a BMC with nothing left but the safety
        queries of a targets_first run idles here, so that the prover's re-check has the core."""
        with self._lock:
            self._changed.wait(seconds)

    def was_cut(self) -> bool:
        """Did we interrupt the last query? Z3 then says "interrupted" or "canceled", and
        query.check raises QueryCut or (as for Ctrl-C) KeyboardInterrupt."""
        with self._lock:
            return self._cut

    @contextmanager
    def asking(self, track: _Track, yields: bool) -> Iterator[None]:
        """`track` is asking a query; `yields`: it gives way on targets_first (to the targets'
        track, still live)."""
        with self._lock:
            self._asking, self._yields, self._cut = track, yields, False
        try:
            yield
        finally:
            with self._lock:
                self._asking = None


@dataclass
class _Track:
    """One unrolling for one group of properties, deepened step by step.

    Incremental (`frame` None): the unrolling is asserted in `solver`, each query asked under
    assumptions, and the solver keeps what it learned. Fresh (`frame` a list): the unrolling is
    kept as terms, and each query is a new solver with the unrolling and the query asserted, so
    that Z3's preprocessing sees the target (assumptions are hidden from it), which pays for the
    reachability targets (see FRESH).
    `solver` is then the query under way (LiveSteering interrupts it).
    """

    solver: z3.Solver
    open_: list[_Open]
    safety: bool  # invariants, step properties, deadlock; else reachability targets
    k: int = 0  # the next depth to ask
    spent: float = 0.0
    done: bool = False
    frame: list[z3.BoolRef] | None = None
    seeds: dict[str, Trace] | None = None  # targets: witnesses found by `_seed_witnesses`
    head: HeadStart | None = None  # what the explicit search found before BMC started
    normal: Interleaving | None = None  # the normal form of its runs (engines/interleaving.py)

    def bad(self, ts: TransitionSystem, prop: ir.Property, k: int) -> z3.BoolRef | None:
        """`bad_at`, for a run of k steps in normal form. A step property is about the last step,
        which the normal form may move: only the steps before it are in normal form then."""
        bad = bad_at(ts, prop, k)
        if bad is None or self.normal is None or k < 2 or prop.kind is ir.PropertyKind.STEP:
            return bad
        return z3.And(bad, self.normal.between(ts, k - 2))

    def add(self, *cs: z3.BoolRef) -> None:
        """Extend the unrolling."""
        if self.frame is None:
            self.solver.add(*cs)
        else:
            self.frame.extend(cs)

    def query(self, ts: TransitionSystem, assumptions: list[z3.BoolRef]) -> tuple[z3.Solver, list[z3.BoolRef]]:
        """The solver to ask and what to assume there, for a query under `assumptions`."""
        if self.frame is None:
            return self.solver, assumptions
        s = ts.th.solver()
        s.add(self.frame + assumptions)
        self.solver = s
        return s, []


# Which tracks ask each query in a fresh solver (`_Track`): a target asserted in a fresh solver
# reaches Z3's preprocessing, which assumptions do not; the safety track gained nothing from it
# and stays incremental (docs/performance.md, "Levers measured and not adopted").
FRESH = {"targets"}
IDLE_POLL = 1.0  # seconds between looks at the steering while idle (an update wakes it at once)


def run_bmc(
    model: ir.Model, props: list[ir.Property], depth: int, timeout: float | None, theory: str = "auto",
    on_depth: Callable[[int, int], None] | None = None, keep_going: bool = True,
    steer: Callable[[], Steering] | None = None, on_idle: Callable[[], None] | None = None,
    on_stop: Callable[[int], None] | None = None, head: HeadStart | None = None,
) -> list[PropertyResult]:
    """Check every property to `depth` steps; results in the order of `props`.

    Safety properties and reachability targets are searched in two tracks, each its own
    solver and unrolling, and the track that has used less time goes one depth further next.
    In one unrolling the targets would wait for the safety queries, which grow far faster with
    the depth, and the default check would wait for BMC's witnesses long after the proof.

    `on_depth(k, n)` is told when a track first searches depth k, with n properties still open
    (progress). `steer()`, asked between depths, may name properties to stop searching
    (the prover proved them: they are reported `unknown`) or send one track first; a
    `LiveSteering` may also cut short the safety query under way.
    Given `on_idle` (whose caller promises a later update), with a `LiveSteering` that says
    targets_first, BMC does not go on to the safety queries once the targets are done (the
    prover's re-check will most likely settle them): it tells `on_idle()` once, so that the
    re-check can take this core, and waits for the next update (the proofs, which drop the
    safety properties, or `resume`: the prover is done).
    `head`: what the explicit search found first (engines/portfolio.py): depths it searched
    for every value are not asked again, and its runs (found with sampled values) are reported
    at their depth unless a shorter one is found.
    Without `keep_going` the search ends with the depth d of its first violation (`on_stop(d)`
    is told when it is found): every
    property that fails in d steps is found, every target reached in at most d steps is
    reported, and everything else is `unknown` (STOPPED) -- the same report whichever track
    was ahead.
    """
    ts = TransitionSystem(model, choose_theory(model, theory))
    results: dict[str, PropertyResult] = {}
    tracks: list[_Track] = []
    for safety in (True, False):
        group = [p for p in props if (p.kind is not ir.PropertyKind.REACHABLE) == safety]
        if group:
            solver = ts.th.solver()  # tuned for the theory (theories.INT_PARAMS)
            require_initial_state(solver, ts)
            fresh = ("safety" if safety else "targets") in FRESH
            tracks.append(_Track(solver, [_Open(p, Budget(timeout)) for p in group], safety,
                                 frame=[ts.init()] if fresh else None, head=head))
            if head is not None and not safety:
                tracks[-1].seeds = dict(head.known)  # the explicit search replaces the seeding
            if not safety and MIRROR_TARGETS:
                first = _mirrored_first_step(ts, group, Budget(timeout))
                if first is not None:
                    tracks[-1].add(first)
            if safety and NORMAL_FORM:
                tracks[-1].normal = interleaving.find(ts)
    try:
        return _search(ts, tracks, props, depth, keep_going, steer, on_idle, on_stop, on_depth, results)
    except KeyboardInterrupt as e:  # what was found is reported (cli: exit 130 all the same)
        found = [r for r in results.values() if r.verdict in (Verdict.VIOLATED, Verdict.REACHED)]
        raise RunInterrupted(found + finished(e)) from None


def _search(
    ts: TransitionSystem, tracks: list[_Track], props: list[ir.Property], depth: int, keep_going: bool,
    steer: Callable[[], Steering] | None, on_idle: Callable[[], None] | None, on_stop: Callable[[int], None] | None,
    on_depth: Callable[[int, int], None] | None, results: dict[str, PropertyResult],
) -> list[PropertyResult]:
    """run_bmc's loop over the tracks, filling `results` as it finds them."""
    stop_at: int | None = None  # depth of the first violation that stops the run
    bound = _known_stop(tracks, keep_going)
    told = -1
    idle = False  # on_idle was told
    while True:
        steering = Steering() if steer is None else steer()
        _drop(tracks, steering.dropped, results)
        live = [t for t in tracks if not t.done and (stop_at is None or t.k <= stop_at)
                and not _past_known_stop(t, tracks, bound)]
        if not live:
            break
        if (on_idle is not None and isinstance(steer, LiveSteering) and steering.targets_first and steering.may_idle
                and all(t.safety for t in live)):
            if not idle:
                idle = True
                on_idle()
            steer.wait(IDLE_POLL)
            continue
        first = [t for t in live if (t.safety and steering.safety_first) or (not t.safety and steering.targets_first)]
        track = first[0] if first else min(live, key=lambda t: t.spent)
        if on_depth is not None and track.k > told:
            told = track.k
            on_depth(told, sum(len(t.open_) for t in tracks))
        t0 = time.perf_counter()
        k = track.k
        live_steer = steer if isinstance(steer, LiveSteering) else None
        # A safety query gives way to targets_first only to the targets' own track: a BMC
        # about to idle finishes it (cut there, a violation at that depth would wait for the
        # prover instead of ending the run).
        yields = len(live) > 1
        guard: AbstractContextManager[None] = nullcontext() if live_steer is None else live_steer.asking(track, yields)
        try:
            with guard:
                stop = _deepen(track, ts, depth, keep_going, results)
        except (QueryCut, KeyboardInterrupt):
            if live_steer is None or not live_steer.was_cut():
                raise
            track.k, stop = k, False  # what it found is kept; depth k is asked again
        track.spent += time.perf_counter() - t0
        if stop and stop_at is None:
            stop_at = track.k - 1
            if on_stop is not None:
                on_stop(stop_at)
    open_ = [item for t in tracks for item in t.open_]
    if stop_at is not None:
        for name, r in list(results.items()):
            results[name] = within_stop(r, stop_at)
        for item in open_:
            results[item.prop.name] = _result(item, Verdict.UNKNOWN, stop_at, detail=STOPPED)
        return [results[p.name] for p in props]
    for item in open_:
        verdict = Verdict.UNREACHED if item.prop.kind is ir.PropertyKind.REACHABLE else Verdict.HOLDS
        detail = (
            f"not reached within {steps(depth)}" if verdict is Verdict.UNREACHED
            else f"no violation in runs of up to {steps(depth)} (bounded)"
        )
        results[item.prop.name] = _result(item, verdict, depth, detail=detail)
    return [results[p.name] for p in props]


def _drop(tracks: list[_Track], names: set[str], results: dict[str, PropertyResult]) -> None:
    for t in tracks:
        for item in [it for it in t.open_ if it.prop.name in names]:
            t.open_.remove(item)
            results[item.prop.name] = _result(item, Verdict.UNKNOWN, t.k, detail="no longer searched: proved")
        t.done = t.done or not t.open_


MIRROR_TARGETS = True  # off: the targets' runs may start with either instance (tests compare)


# The safety track searches runs in normal form only (engines/interleaving.py): fewer orders of
# commuting steps, the same shortest depths. Not the targets' track, whose fresh queries gain
# nothing from it (docs/performance.md). Off: every interleaving is searched (tests compare).
NORMAL_FORM = True


def _mirrored_first_step(ts: TransitionSystem, targets: list[ir.Property], budget: Budget) -> z3.BoolRef | None:
    """"Step 0 is a representative transition of the swap", when two instances are verified
    mirrors (solving/symmetry.py) and every target is its own mirror (Z3 says so on the
    well-formed states): the mirror of a run reaching such a target at depth k reaches it at
    depth k, and one of the two starts with a representative, so the shortest depth of each
    target is unchanged. On tcp.tcpspec (every target names both sides alike) the targets'
    unsat queries then only cover runs the client starts. None when it does not apply."""
    from tcpspec.solving import symmetry

    sym = symmetry.find(ts, budget)
    if sym is None or not symmetry.own_mirrors(ts, sym, [ts.holds_at(p, 0) for p in targets], budget):
        return None
    act = ts.step_at(0).act
    return z3.Or([ts.fires(act, i) for i in sym.representatives])


def _deepen(track: _Track, ts: TransitionSystem, depth: int, keep_going: bool, results: dict[str, PropertyResult]) -> bool:
    """Ask the track's properties at its depth k, then unroll step k; True if a violation stops the run."""
    k = track.k
    track.k += 1
    stop = False
    if not track.safety:
        _take_seeds(track, ts, k, depth, results)
    elif track.head is not None:
        stop = _take_known(track, ts, k, keep_going, results)
    for item, hit in _candidates(track, ts, k):
        res = _ask(track, ts, item, k, hit)
        if res is not None:
            results[item.prop.name] = res
            track.open_.remove(item)
            stop = stop or (not keep_going and stops_run(res))
    if stop or not track.open_ or k == depth:
        track.done = True
        return stop
    t0 = time.perf_counter()
    if k >= 1:
        track.add(ts.step_at(k - 1).range_ok)
    # well_formed(k + 1) only when step k stores in range: asserted outright, it would make
    # the one step that stores out of range impossible, and range_ok unfalsifiable. (It is
    # implied anyway; stating it speeds the integer theory up 2x on the seed model.)
    step = ts.step_at(k)
    track.add(step.trans, z3.Implies(step.range_ok, ts.well_formed(k + 1)))
    if track.normal is not None and k >= 2:  # steps k-2, k-1 no longer end a run (Track.bad)
        track.add(track.normal.between(ts, k - 2))
    for item in track.open_:  # the shared unrolling counts for every property still open
        item.spent += time.perf_counter() - t0
    return False


# The breadth-first search that seeds the targets' witnesses (`_seed_witnesses`), capped: it
# concludes nothing from what it misses.
SEED_STATES = 20_000
SEED_SECONDS = 3.0


def _seed_witnesses(model: ir.Model, targets: list[ir.Property], depth: int, seconds: float = SEED_SECONDS) -> dict[str, Trace]:
    """Witnesses of the targets from a breadth-first search of the interpreter with every free
    number at its smallest value (interp_search.smallest_domain). Each is a real run, so the
    solver's own query at its depth (the costly `sat` ones) is not
    needed; every shallower depth is still asked, so a shorter run with other values is found.
    Nothing is concluded from what the search misses."""
    from tcpspec.interp.values import InterpError
    from tcpspec.interp.search import explore, smallest_domain

    try:
        found = explore(model, depth, smallest_domain(model), max_states=SEED_STATES, properties=targets,
                        seconds=seconds)
    except (InterpError, KeyError, TypeError, ValueError, RecursionError):
        return {}
    return {name: t for name, t in found.traces.items() if t is not None}


def _take_seeds(track: _Track, ts: TransitionSystem, k: int, depth: int, results: dict[str, PropertyResult]) -> None:
    """Report the targets whose seeded witness has exactly k steps (replayed first, like every
    witness); the search for them ends here, since every shallower depth has been asked."""
    t0 = time.perf_counter()
    if track.seeds is None:
        # Not past the targets' own timeout (--timeout): the search is only a head start.
        lefts = [it.budget.seconds_left(floor=0.0) for it in track.open_]
        seconds = min([SEED_SECONDS] + [x for x in lefts if x is not None])
        track.seeds = _seed_witnesses(ts.model, [it.prop for it in track.open_], depth, seconds) if seconds > 0 else {}
        for item in track.open_:
            item.spent += time.perf_counter() - t0
    for item in list(track.open_):
        trace = track.seeds.get(item.prop.name)
        if trace is None or trace.length != k or item.prop.builtin:
            continue
        if replay_or_explain(ts.model, trace, item.prop) is not None:
            continue  # the solver asks for it as usual
        results[item.prop.name] = _result(item, Verdict.REACHED, k, trace=trace)
        track.open_.remove(item)


CONFIRMED = "shortest over all values: confirmed (BMC found no shorter violation)"


def _known_stop(tracks: list[_Track], keep_going: bool) -> int | None:
    """The length of the shortest run the explicit search found (replayed) that breaks a property
    whose violation ends the run: the run ends at that depth or sooner."""
    if keep_going:
        return None
    head = next((t.head for t in tracks if t.head is not None), None)
    if head is None:
        return None
    return min((r.depth for r in head.pending.values() if r.depth is not None and stops_run(r)), default=None)


def _past_known_stop(track: _Track, tracks: list[_Track], bound: int | None) -> bool:
    """The targets' track waits past `bound` while the safety track has not got there: a depth
    it would search there cannot be reported (the run stops at `bound` at the latest)."""
    return (bound is not None and not track.safety and track.k > bound
            and any(t.safety and not t.done and t.k <= bound for t in tracks))


def _take_known(track: _Track, ts: TransitionSystem, k: int, keep_going: bool, results: dict[str, PropertyResult]) -> bool:
    """Report the explicit search's violations of exactly k steps: every shallower depth has been
    asked, so each is a shortest one for every value. True if one ends the run."""
    assert track.head is not None
    stop = False
    for item in list(track.open_):
        trace = track.head.known.get(item.prop.name)
        if trace is None or trace.length != k:
            continue
        if replay_or_explain(ts.model, trace, item.prop) is not None:
            continue  # the solver asks for it as usual
        # The run is the explicit search's; BMC has only shown that none is shorter.
        results[item.prop.name] = replace(_result(item, Verdict.VIOLATED, k, trace=trace, detail=CONFIRMED),
                                          engine="explicit")
        track.open_.remove(item)
        stop = stop or (not keep_going and stops_run(results[item.prop.name]))
    return stop


def _candidates(track: _Track, ts: TransitionSystem, k: int) -> list[tuple[_Open, _Hit | None]]:
    """The properties worth asking one by one at depth k, each with the run that already breaks
    (reaches) it, if a query found one (None: it is asked on its own).

    One query for all of them first ("does any fail in exactly k steps?"): when the answer is
    no, as it is at almost every depth, that one query replaces one per property. When it is
    yes, the properties its run breaks are the ones to ask, and the query is asked again for the
    others, until no other fails: at the depth of a violation that is a few queries, not one per
    property. `range_ok` needs other assumptions and is always asked alone.

    In a fresh track each of these queries is a new solver with the disjunction asserted (asked
    under assumptions in the previous one, the next disjunction, usually unsat, took as long as
    the incremental track). In either track a property the query's run breaks is not asked
    again: that run is its counterexample or witness (asking again under assumptions is costly
    at the targets' deep depths).
    """
    cleared = track.head.cleared if track.head is not None else {}
    open_ = [it for it in track.open_ if cleared.get(it.prop.name, -1) < k]  # else searched for every value
    group = [it for it in open_ if not it.prop.builtin and bad_at(ts, it.prop, k) is not None]
    if len(group) < 2:
        return [(it, None) for it in open_]
    shared = Budget(None)
    ms = [it.budget.remaining_ms() for it in group]
    if all(m is not None for m in ms):
        shared = Budget(min(m for m in ms if m is not None) / 1000)
    bad = {id(it): track.bad(ts, it.prop, k) for it in group}
    chosen: list[tuple[_Open, _Hit | None]] = []
    pending = list(group)
    while pending:
        t0 = time.perf_counter()
        solver, assumptions = track.query(ts, range_assumption(ts, group[0].prop, k) + [z3.Or([bad[id(it)] for it in pending])])  # type: ignore[arg-type]
        out = check(solver, assumptions, shared)
        spent = time.perf_counter() - t0
        for it in pending:
            it.spent += spent
        if out.result == z3.unsat:
            break
        zm = None if out.result == z3.unknown else solver.model()
        hit = [] if zm is None else [
            it for it, yes in zip(pending, true_in(zm, [bad[id(it)] for it in pending])) if yes]  # type: ignore[misc]
        if not hit:  # unknown (or no property true in the model): each is asked on its own
            chosen += [(it, None) for it in pending]
            break
        chosen += [(it, _Hit(solver, zm)) for it in hit]  # type: ignore[arg-type]
        pending = [it for it in pending if all(it is not h for h in hit)]
    return [(it, None) for it in open_ if all(it is not g for g in group)] + chosen


@dataclass
class _Hit:
    """A run of the query that found it: `model` in `solver`, whose assertions it satisfies."""

    solver: z3.Solver
    model: z3.ModelRef


def _ask(track: _Track, ts: TransitionSystem, item: _Open, k: int, hit: _Hit | None = None) -> PropertyResult | None:
    """Ask whether `item` fails (or is reached) in exactly k steps; a result ends the search.
    `hit`: a run already known to break it (`_candidates`), so only its values are made small."""
    bad = track.bad(ts, item.prop, k)
    if bad is None:
        return None
    t0 = time.perf_counter()
    try:
        ask = range_assumption(ts, item.prop, k) + [bad]
        if hit is not None:
            solver, assumptions, start = hit.solver, ask, hit.model
        else:
            solver, assumptions = track.query(ts, ask)
            out = check(solver, assumptions, item.budget)
            if out.result == z3.unknown:
                return _result(item, Verdict.UNKNOWN, k, detail=f"solver returned unknown at depth {k}: {out.reason}")
            if out.result == z3.unsat:
                return None
            start = solver.model()
        zm = prefer_small_values(solver, ts, k, assumptions, item.budget, start=start)
        trace = extract_trace(zm, ts, k)
    finally:
        item.spent += time.perf_counter() - t0
    problem = replay_or_explain(ts.model, trace, item.prop)
    if problem is not None:
        return _result(
            item, Verdict.UNKNOWN, k,
            detail=f"internal error: the counterexample did not replay on the concrete semantics ({problem}); please report",
        )
    verdict = Verdict.REACHED if item.prop.kind is ir.PropertyKind.REACHABLE else Verdict.VIOLATED
    return _result(item, verdict, k, trace=trace)


def _result(item: _Open, verdict: Verdict, depth: int, trace=None, detail: str = "") -> PropertyResult:  # type: ignore[no-untyped-def]
    return PropertyResult(
        property=item.prop.name,
        kind=item.prop.kind.value,
        verdict=verdict,
        engine=ENGINE,
        depth=depth,
        seconds=round(item.spent, 3),
        trace=trace,
        doc=item.prop.doc,
        detail=detail,
    )
