"""Replay of traces and breadth-first search, on the concrete semantics of `tcpspec.interp.semantics`.

`replay` is the gate every symbolic counterexample or witness passes before it is reported;
`explore` is the reference search for differential tests of the symbolic engines. No z3 here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tcpspec.checker import ir
from tcpspec.interp.values import Domain, InterpError, as_domain, freeze, same, show
from tcpspec.interp.evaluate import Env, eval_expr
from tcpspec.interp.semantics import (
    State,
    Step,
    StepOutcome,
    holds_in,
    initial_states,
    is_exhaustive,
    state_keys,
    step_ok,
    successors,
    take,
)
from tcpspec.core.trace import Trace, TraceStep, changed_keys
from tcpspec.core.types import Value, values_in_range

# ---------------------------------------------------------------- replay


@dataclass
class ReplayResult:
    """Whether a trace is a run of the model (ending as its property says); if not, at which
    step (0 = the initial state) and why."""

    ok: bool
    step: int | None = None
    message: str = ""


class _Reject(Exception):
    """A replay failure at one step; turned into a ReplayResult at the top."""

    def __init__(self, step: int, why: str) -> None:
        super().__init__(f"step {step}: {why}")
        self.step = step


def replay(model: ir.Model, trace: Trace, prop: ir.Property, require_first: bool = False) -> ReplayResult:
    """Check that `trace` is a run of `model` that violates `prop` (reachable: reaches it).

    With `require_first`, the property must fail (be reached) only at the end: no earlier
    state (step, for step properties) does, as a shortest counterexample requires.
    """
    try:
        outcomes = _replay_run(model, trace, allow_bad_last=prop.builtin)
        _check_ending(model, trace, prop, outcomes, require_first)
    except _Reject as e:
        return ReplayResult(False, e.step, str(e))
    return ReplayResult(True, None, f"{prop.name}: trace of length {trace.length} confirmed")


def run_is_behaviour(model: ir.Model, trace: Trace) -> ReplayResult:
    """Check that `trace` is a run of `model` (simulation, conformance): no property involved."""
    try:
        _replay_run(model, trace, allow_bad_last=False)
    except _Reject as e:
        return ReplayResult(False, e.step, str(e))
    return ReplayResult(True, None, f"run of length {trace.length} confirmed")


def _replay_run(model: ir.Model, trace: Trace, allow_bad_last: bool) -> list[StepOutcome]:
    """Check the initial state and every step; return each step's outcome (index i-1 for step i).

    A range-violating step may only be the last one, and only when `allow_bad_last` (a
    `range_ok` counterexample); its post-state is then not compared.
    """
    if not trace.steps:
        raise _Reject(0, "the trace has no initial state")
    _check_initial(model, trace.steps[0].state)
    outcomes: list[StepOutcome] = []
    last = len(trace.steps) - 1
    for i in range(1, last + 1):
        outcome = _replay_step(model, trace.steps[i - 1].state, trace.steps[i], i)
        if not outcome.range_ok:
            if not (allow_bad_last and i == last):
                raise _Reject(i, f"range violation ({outcome.reason}): the run cannot go on")
        else:
            assert outcome.state is not None
            _compare_states(model, outcome.state, trace.steps[i].state, i)
        outcomes.append(outcome)
    return outcomes


def _check_initial(model: ir.Model, state: Mapping[str, Value | list[Value]]) -> None:
    """Keys as the model's, values in their types, inits as evaluated, channels empty."""
    _check_keys(model, state, 0)
    for var in model.state_vars:
        v = state[var.name]
        if isinstance(v, list) or not values_in_range(var.type, v):
            raise _Reject(0, f"{var.name} = {show(v)} is not a value of type {var.type}")
        init = model.init.get(var.name)
        if init is not None:
            want = eval_expr(init, Env(pre=state))
            if not same(want, v):
                raise _Reject(0, f"{var.name} is not initial: trace has {show(v)}, init gives {show(want)}")
    for ch in model.channels:
        if not same(state[ch.name], list(ch.init)):
            want = "empty" if not ch.init else f"holding {show(list(ch.init))}"
            raise _Reject(0, f"channel {ch.name} is not {want} initially: {show(state[ch.name])}")


def _check_keys(model: ir.Model, state: Mapping[str, Value | list[Value]], i: int) -> None:
    keys = state_keys(model)
    missing = [k for k in keys if k not in state]
    extra = [k for k in state if k not in keys]
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown {', '.join(extra)}"] if extra else [])
        raise _Reject(i, "state keys differ from the model's: " + "; ".join(parts))


def _replay_step(model: ir.Model, pre: Mapping[str, Value | list[Value]], step: TraceStep, i: int) -> StepOutcome:
    """The transition exists, its parameters are legal, it is enabled; return its outcome."""
    if step.transition is None:
        raise _Reject(i, "no transition given")
    try:
        t = model.transition(step.transition)
    except KeyError:
        raise _Reject(i, f"the model has no transition '{step.transition}'") from None
    _check_params(t, step.params, i)
    try:
        outcome = take(t, pre, step.params)
    except InterpError as e:
        raise _Reject(i, f"{t.name} cannot be evaluated: {e}") from None
    if not outcome.enabled:
        raise _Reject(i, f"{t.name} is not enabled: {outcome.reason}")
    return outcome


def _check_params(t: ir.AnyTransition, params: Mapping[str, Value], i: int) -> None:
    names = [n for n, _ in t.params]
    if sorted(params) != sorted(names):
        raise _Reject(i, f"{t.name} takes parameters ({', '.join(names)}), trace gives ({', '.join(params)})")
    for name, ptype in t.params:
        if not values_in_range(ptype, params[name]):
            raise _Reject(i, f"{t.name}: parameter {name} = {show(params[name])} is not a value of type {ptype}")


def _compare_states(model: ir.Model, want: State, got: Mapping[str, Value | list[Value]], i: int) -> None:
    """Every key must agree; report the first that does not."""
    _check_keys(model, got, i)
    for key in state_keys(model):
        if not same(want[key], got[key]):
            raise _Reject(i, f"state differs at {key}: trace has {show(got[key])}, semantics gives {show(want[key])}")


def _check_ending(model: ir.Model, trace: Trace, prop: ir.Property, outcomes: list[StepOutcome],
                  require_first: bool) -> None:
    """The run ends as the property says; with `require_first`, not before."""
    last = len(trace.steps) - 1
    if prop.kind is ir.PropertyKind.DEADLOCK or prop.kind in ir.LIVENESS_KINDS:
        from tcpspec.interp.live import deadlock_problem, lasso_problem

        if prop.kind is ir.PropertyKind.DEADLOCK:
            problem = deadlock_problem(model, trace.steps[-1].state)
            if problem is None and require_first:
                early = next((i for i, s in enumerate(trace.steps[:-1]) if deadlock_problem(model, s.state) is None), None)
                problem = None if early is None else f"state {early} is already a deadlock"
        else:
            problem = lasso_problem(model, trace, prop)
        if problem is not None:
            raise _Reject(last, problem)
        return
    if prop.kind is ir.PropertyKind.STEP:
        fails = [_step_fails(model, prop, trace, outcomes, i) for i in range(1, last + 1)]
        if last == 0 or not fails[-1]:
            raise _Reject(last, f"the last step does not violate {prop.name}")
        if require_first and any(fails[:-1]):
            raise _Reject(fails.index(True) + 1, f"an earlier step already violates {prop.name}")
        return
    target = prop.kind is ir.PropertyKind.REACHABLE  # the state we look for satisfies expr
    hits = [holds_in(model, prop, s.state) == target for s in trace.steps]
    what = "satisfy" if target else "violate"
    if not hits[-1]:
        raise _Reject(last, f"the last state does not {what} {prop.name}")
    if require_first and any(hits[:-1]):
        raise _Reject(hits.index(True), f"an earlier state already does {what} {prop.name}")


def _step_fails(model: ir.Model, prop: ir.Property, trace: Trace, outcomes: list[StepOutcome], i: int) -> bool:
    t = model.transition(trace.steps[i].transition or "")
    return not step_ok(model, prop, trace.steps[i - 1].state, outcomes[i - 1], t)


# ---------------------------------------------------------------- breadth-first search


@dataclass
class ExploreResult:
    """What a breadth-first search found.

    `traces[p]` is the shortest violation (invariant, step) or witness (reachable) of property
    `p`, or None if none within `depth`. Depth k means exactly k transitions.
    `exhaustive`: nothing was sampled and `max_states` did not cut the search, so a None is a
    real "none up to `depth`". `complete`: every reachable state was seen (no new state at the
    last level), so with `exhaustive` a None invariant holds in every reachable state.
    """

    traces: dict[str, Trace | None]
    exhaustive: bool
    complete: bool
    states: int
    depth: int  # levels fully explored
    sampled: bool = False
    cut: bool = False
    range_violations: int = 0

    def depth_of(self, prop: str) -> int | None:
        trace = self.traces[prop]
        return None if trace is None else trace.length


@dataclass
class _Node:
    """How a state was first reached: the parent's key and the step taken (None: initial)."""

    state: State
    parent: object | None
    step: Step | None
    depth: int


@dataclass
class _Search:
    model: ir.Model
    props: list[ir.Property]
    nodes: dict[object, _Node] = field(default_factory=dict)
    traces: dict[str, Trace | None] = field(default_factory=dict)
    range_violations: int = 0

    def open(self) -> list[ir.Property]:
        return [p for p in self.props if self.traces[p.name] is None]

    def path(self, key: object) -> list[tuple[State, Step | None]]:
        out: list[tuple[State, Step | None]] = []
        cur: object | None = key
        while cur is not None:
            node = self.nodes[cur]
            out.append((node.state, node.step))
            cur = node.parent
        return out[::-1]

    def check_state(self, key: object) -> None:
        """A state property found at its first (hence shortest) discovery."""
        state = self.nodes[key].state
        for p in self.open():
            if p.kind is ir.PropertyKind.STEP:
                continue
            if holds_in(self.model, p, state) == (p.kind is ir.PropertyKind.REACHABLE):
                self.traces[p.name] = _trace(self.path(key))

    def check_step(self, key: object, step: Step) -> None:
        """Step properties are judged on every edge, also edges into states seen before."""
        pre = self.nodes[key].state
        for p in self.open():
            if p.kind is ir.PropertyKind.STEP and not step_ok(self.model, p, pre, step.outcome, step.transition):
                assert step.outcome.state is not None
                self.traces[p.name] = _trace(self.path(key) + [(step.outcome.state, step)])


def _trace(path: list[tuple[State, Step | None]]) -> Trace:
    steps: list[TraceStep] = []
    for i, (state, step) in enumerate(path):
        ts = TraceStep(index=i, state=state)
        if step is not None:
            ts.transition = step.transition.name
            ts.params = dict(step.params)
            ts.changed = changed_keys(path[i - 1][0], state)
            ts.received = list(step.outcome.received)
            ts.sent = list(step.outcome.sent)
        steps.append(ts)
    return Trace(steps)


def explore(model: ir.Model, max_depth: int, domain: Domain | Mapping[str, Sequence[Value]] | None = None,
            max_states: int = 1_000_000, properties: Sequence[ir.Property] | None = None,
            seconds: float | None = None) -> ExploreResult:
    """Breadth-first search up to `max_depth` transitions, shortest traces for every property.

    Stops early once every property has a trace. A range-violating step is a `range_ok`
    counterexample; its post-state is not explored. `seconds`: a time limit, which cuts the
    search like `max_states` (`cut`).
    """
    import time

    dom = as_domain(domain)
    search = _Search(model, list(model.properties if properties is None else properties))
    search.traces = {p.name: None for p in search.props}
    deadline = None if seconds is None else time.monotonic() + seconds
    frontier, cut = _seed(search, dom, max_states)
    depth = 0
    while frontier and depth < max_depth and search.open() and not cut:
        frontier, cut = _expand(search, frontier, dom, max_states, depth + 1, deadline)
        depth += 1
    sampled = not is_exhaustive(model, dom)
    return ExploreResult(
        traces=search.traces, exhaustive=not sampled and not cut, complete=not frontier and not cut,
        states=len(search.nodes), depth=depth, sampled=sampled, cut=cut,
        range_violations=search.range_violations)


def _seed(search: _Search, dom: Domain, max_states: int) -> tuple[list[object], bool]:
    frontier: list[object] = []
    for state in initial_states(search.model, dom):
        key = freeze(state)
        if key in search.nodes:
            continue
        if len(search.nodes) >= max_states:
            return frontier, True
        search.nodes[key] = _Node(state, None, None, 0)
        frontier.append(key)
        search.check_state(key)
    return frontier, False


def _expand(search: _Search, frontier: list[object], dom: Domain, max_states: int,
            depth: int, deadline: float | None = None) -> tuple[list[object], bool]:
    """One BFS level: every step from every frontier state; new states form the next level."""
    import time

    nxt: list[object] = []
    for key in frontier:
        if deadline is not None and time.monotonic() > deadline:
            return nxt, True
        for step in successors(search.model, search.nodes[key].state, dom):
            search.check_step(key, step)
            if not step.outcome.range_ok:
                search.range_violations += 1
                continue
            assert step.outcome.state is not None
            child = freeze(step.outcome.state)
            if child in search.nodes:
                continue
            if len(search.nodes) >= max_states:
                return nxt, True
            search.nodes[child] = _Node(step.outcome.state, key, step, depth)
            nxt.append(child)
            search.check_state(child)
    return nxt, False


def smallest_domain(model: ir.Model) -> Domain:
    """Each unconstrained number of a large type and each number parameter at its smallest
    value (the rest as `Domain` has them): a search small enough to find runs fast, whose runs
    are real ones, but whose misses prove nothing (engines/bmc.py seeds witnesses with it)."""
    from tcpspec.interp.values import default_sample
    from tcpspec.core.types import BitVecType, IntType

    dom = Domain()
    values: dict[str, Sequence[Value]] = {}
    for var in model.state_vars:
        if var.name not in model.init and isinstance(var.type, (IntType, BitVecType)) and dom.sampled(var.name, var.type):
            values[var.name] = default_sample(var.type)[:1]
    for t in model.transitions:
        if isinstance(t, ir.NetworkTransition) and t.kind != "injection":
            continue  # positions, enumerated exactly
        for name, ptype in t.params:
            if isinstance(ptype, BitVecType) or (isinstance(ptype, IntType) and ptype.bounded):
                values[f"{t.name}.{name}"] = [ptype.lo if isinstance(ptype, IntType) else 0]
    return Domain(values=values)
