"""Concrete semantics of a checked model, written from docs/language.md, not from the encoder.

Every counterexample or witness a symbolic engine produces is replayed here before it is
reported (`interp.search.replay`), and the breadth-first search (`interp.search.explore`) is the reference
for differential tests. So this module must never import z3.

A state is `dict[str, Value | list[Value]]`, the shape of `TraceStep.state`: every state
variable by qualified name (model order), then every channel by name (model order) holding its
messages head first.

Finite domains. Variables without an initial value and `choose` parameters range over every
value of their type when that type is small: bool, enums, bit-vectors of at most
`Domain.max_bits` bits, integer ranges of at most `Domain.max_range` values. Larger types are
*sampled*: the caller gives values in `Domain.values` (keyed by variable name, or by
`transition.param` for parameters), else a default sample is used ({0, 1, max} for bvN/seqN;
{lo, hi, and 0 if inside} for ranges). A search is exhaustive only when nothing was sampled
(`is_exhaustive`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from tcpspec.checker import ir
from tcpspec.core.types import (
    BitVecType,
    RecordType,
    Type,
    Value,
    values_in_range,
)
from tcpspec.interp.values import Domain, InterpError, Opaque, State, as_domain, copy_state, show
from tcpspec.interp.evaluate import Env, as_bool, as_channel, as_int, eval_expr, lookup


# ---------------------------------------------------------------- initial states


def state_keys(model: ir.Model) -> list[str]:
    """The keys of every state, in order: state variables, then channels."""
    return [v.name for v in model.state_vars] + [c.name for c in model.channels]


def initial_states(model: ir.Model, domain: Domain | Mapping[str, Sequence[Value]] | None = None) -> list[State]:
    """Every initial state (up to the domain's sampling), variables in model order.

    Init expressions may read earlier variables, so states are built variable by variable.
    A candidate whose init value lies outside its variable's type is not an initial state.
    """
    dom = as_domain(domain)
    channels: State = {ch.name: list(ch.init) for ch in model.channels}
    partial: list[State] = [{}]
    for var in model.state_vars:
        init = model.init.get(var.name)
        grown: list[State] = []
        for st in partial:
            if init is None:
                options, _ = dom.choices(var.name, var.type)
            else:
                options = [eval_expr(init, Env(pre={**st, **channels}))]
            grown.extend({**st, var.name: v} for v in options if values_in_range(var.type, v))
        partial = grown
    return [{**st, **copy_state(channels)} for st in partial]


def is_exhaustive(model: ir.Model, domain: Domain | Mapping[str, Sequence[Value]] | None = None) -> bool:
    """Whether no unconstrained variable and no parameter had to be sampled."""
    dom = as_domain(domain)
    for var in model.state_vars:
        if var.name not in model.init and dom.sampled(var.name, var.type):
            return False
    for t in model.transitions:
        if isinstance(t, ir.NetworkTransition) and t.kind != "injection":
            continue  # positions are enumerated exactly
        if any(dom.sampled(f"{t.name}.{name}", ptype) for name, ptype in t.params):
            return False
    return True


# ---------------------------------------------------------------- steps


@dataclass
class StepOutcome:
    """What taking one transition with given parameters does.

    `state` is None when the transition is not enabled (`reason` says why). When a store left
    a bounded range, `range_ok` is False and `reason` names it: the step violates `range_ok`
    and its post-state (holding the out-of-range value) is not explored further.
    """

    enabled: bool
    state: State | None
    received: list[tuple[str, Value]] = field(default_factory=list)
    sent: list[tuple[str, Value]] = field(default_factory=list)
    range_ok: bool = True
    reason: str = ""


@dataclass
class Step:
    """An enabled transition instance: which transition, its parameters, its outcome."""

    transition: ir.AnyTransition
    params: dict[str, Value]
    outcome: StepOutcome


def apply(model: ir.Model, state: Mapping[str, Value | list[Value]], transition_name: str,
          params: Mapping[str, Value]) -> StepOutcome:
    """Take the transition named `transition_name` with `params` in `state`."""
    return take(model.transition(transition_name), state, params)


def take(t: ir.AnyTransition, state: Mapping[str, Value | list[Value]],
         params: Mapping[str, Value]) -> StepOutcome:
    """Take a transition (process or network) with `params` in `state`."""
    if isinstance(t, ir.NetworkTransition):
        return _take_fault(t, state, params)
    return _take_process(t, state, params)


def successors(model: ir.Model, state: Mapping[str, Value | list[Value]],
               domain: Domain | Mapping[str, Sequence[Value]] | None = None) -> Iterator[Step]:
    """Every enabled step from `state`, transitions in model order, parameters smallest first.

    Range-violating steps are included (`outcome.range_ok` False): the caller decides.
    """
    dom = as_domain(domain)
    for t in model.transitions:
        for params in _param_sets(t, state, dom):
            outcome = take(t, state, params)
            if outcome.enabled:
                yield Step(t, params, outcome)


def _param_sets(t: ir.AnyTransition, state: Mapping[str, Value | list[Value]],
                dom: Domain) -> Iterator[dict[str, Value]]:
    if isinstance(t, ir.NetworkTransition) and t.kind != "injection":
        (pname, ptype), = t.params
        for i in range(len(as_channel(state, t.channel.name))):
            if values_in_range(ptype, i):
                yield {pname: i}
        return
    names = [name for name, _ in t.params]
    per_param = [dom.choices(f"{t.name}.{name}", ptype)[0] for name, ptype in t.params]
    for combo in itertools.product(*per_param):
        yield dict(zip(names, combo))


@dataclass
class _Run:
    """The working state of a process transition while its body runs."""

    state: State
    sent: list[tuple[str, Value]] = field(default_factory=list)
    blocked: str = ""
    range_error: str = ""


def _take_process(t: ir.Transition, state: Mapping[str, Value | list[Value]],
                  params: Mapping[str, Value]) -> StepOutcome:
    """Receive (head of a non-empty channel), guard, then the body in order.

    The guard reads the state before the step with the head message bound; the receive takes
    effect before the body, so a `len()` or a `send` to the same channel in the body sees it.
    """
    msgs: dict[str, Value] = {}
    received: list[tuple[str, Value]] = []
    if t.receive is not None:
        binding, ch = t.receive
        queue = as_channel(state, ch.name)
        if not queue:
            return StepOutcome(False, None, reason=f"channel {ch.name} is empty")
        msgs[binding] = queue[0]
        received.append((ch.name, queue[0]))
    if not as_bool(eval_expr(t.guard, Env(pre=state, params=params, msgs=msgs))):
        return StepOutcome(False, None, reason="guard is false")
    run = _Run(copy_state(state))
    if t.receive is not None:
        as_channel(run.state, t.receive[1].name).pop(0)
    _exec(t.body, Env(pre=run.state, params=params, msgs=msgs), run)
    if run.blocked:
        return StepOutcome(False, None, reason=run.blocked)
    return StepOutcome(True, run.state, received, run.sent, not run.range_error, run.range_error)


def _exec(body: Sequence[ir.Stmt], env: Env, run: _Run) -> None:
    """Run statements in order on `run.state` (which `env.pre` is): sequential semantics."""
    for stmt in body:
        if run.blocked:
            return
        if isinstance(stmt, ir.Assign):
            value = eval_expr(stmt.value, env)
            _note_range(run, stmt.target.type, value, f"{stmt.target.name} := {show(value)}")
            run.state[stmt.target.name] = value
        elif isinstance(stmt, ir.Send):
            _send(stmt, env, run)
        elif isinstance(stmt, ir.If):
            branch = stmt.then if as_bool(eval_expr(stmt.cond, env)) else stmt.else_
            _exec(branch, env, run)
        elif isinstance(stmt, ir.Let):
            env.locals[stmt.name] = eval_expr(stmt.value, env)
        else:
            raise InterpError(f"unknown statement {type(stmt).__name__}")


def _send(stmt: ir.Send, env: Env, run: _Run) -> None:
    """Append to the channel if it has room now; otherwise the transition is not enabled."""
    queue = as_channel(run.state, stmt.channel.name)
    if len(queue) >= stmt.channel.capacity:
        run.blocked = f"channel {stmt.channel.name} is full (capacity {stmt.channel.capacity})"
        return
    msg = eval_expr(stmt.message, env)
    _note_range(run, stmt.channel.message, msg, f"send {stmt.channel.name} {show(msg)}")
    queue.append(msg)
    run.sent.append((stmt.channel.name, msg))


def _note_range(run: _Run, t: Type, value: Value, what: str) -> None:
    """Remember the first store outside its type (a `range_ok` violation)."""
    if not run.range_error and not values_in_range(t, value) and not fits_type(t, value):
        run.range_error = f"{what} is outside its type {_type_text(t)}"


def fits_type(t: Type, v: object) -> bool:
    """values_in_range, where an `Opaque` stands in for a value of its (sequence) type."""
    if isinstance(v, Opaque):
        return isinstance(t, BitVecType)
    if isinstance(t, RecordType) and isinstance(v, dict):
        return set(v) == {f for f, _ in t.fields} and all(fits_type(ft, v[f]) for f, ft in t.fields)
    return values_in_range(t, v)  # type: ignore[arg-type]


def _type_text(t: Type) -> str:
    if isinstance(t, RecordType):
        return f"{t} {{ " + ", ".join(f"{n}: {ft}" for n, ft in t.fields) + " }"
    return str(t)


def _take_fault(t: ir.NetworkTransition, state: Mapping[str, Value | list[Value]],
                params: Mapping[str, Value]) -> StepOutcome:
    """loss / duplication / reordering at position `i`, or injection of a built message."""
    name, cap = t.channel.name, t.channel.capacity
    queue = list(as_channel(state, name))
    if t.kind == "injection":
        if len(queue) >= cap:
            return StepOutcome(False, None, reason=f"channel {name} is full (capacity {cap})")
        queue.append({fname: lookup(params, fname, "parameter") for fname, _ in t.channel.message.fields})
    else:
        i = as_int(lookup(params, "i", "parameter"))
        need = i + 1 if t.kind == "reordering" else i
        if not 0 <= i or need >= len(queue):
            return StepOutcome(False, None, reason=f"position {'i+1' if t.kind == 'reordering' else 'i'}"
                               f"={need} is not below len({name})={len(queue)}")
        if t.kind == "loss":
            del queue[i]
        elif t.kind == "duplication":
            if len(queue) >= cap:
                return StepOutcome(False, None, reason=f"channel {name} is full (capacity {cap})")
            queue.append(queue[i])
        elif t.kind == "reordering":
            queue[i], queue[i + 1] = queue[i + 1], queue[i]
        else:
            raise InterpError(f"unknown fault '{t.kind}'")
    after = copy_state(state)
    after[name] = queue
    return StepOutcome(True, after)


# ---------------------------------------------------------------- properties


def holds_in(model: ir.Model, prop: ir.Property, state: Mapping[str, Value | list[Value]]) -> bool:
    """An invariant holds in `state`; a reachability target is satisfied by `state`."""
    if prop.kind is ir.PropertyKind.STEP:
        raise InterpError(f"{prop.name} is a step property: use step_ok")
    return as_bool(eval_expr(prop.expr, Env(pre=state)))


def step_applies(prop: ir.Property, transition: ir.AnyTransition, outcome: StepOutcome) -> dict[str, Value] | None:
    """The messages bound by `prop.events` if the property concerns this step, else None."""
    if isinstance(transition, ir.NetworkTransition):
        return {} if prop.instance is None and not prop.events else None
    if prop.instance is not None and transition.instance != prop.instance:
        return None
    bound: dict[str, Value] = {}
    for ev in prop.events:
        happened = outcome.received if ev.kind == "receive" else outcome.sent
        hits = [m for ch, m in happened if ch == ev.channel.name]
        if not hits:
            return None
        bound[ev.binding] = hits[0]
    return bound


def step_ok(model: ir.Model, prop: ir.Property, pre: Mapping[str, Value | list[Value]],
            outcome: StepOutcome, transition: ir.AnyTransition) -> bool:
    """Whether the step (pre, transition, outcome) satisfies step property `prop`.

    `range_ok` is violated exactly by range-violating steps. A range-violating step has no
    legal post-state, so user step properties are not judged on it (they hold vacuously).
    """
    if prop.builtin:
        return outcome.range_ok
    env = step_env(prop, pre, outcome, transition)
    if env is None or (prop.when is not None and not as_bool(eval_expr(prop.when, env))):
        return True
    return as_bool(eval_expr(prop.expr, env))


def step_env(prop: ir.Property, pre: Mapping[str, Value | list[Value]], outcome: StepOutcome,
             transition: ir.AnyTransition) -> Env | None:
    """What a user step property's `when` and `ensure` are read in for this step; None when it
    does not judge the step (a range-violating step, or one it does not concern)."""
    if not outcome.range_ok or outcome.state is None:
        return None
    bound = step_applies(prop, transition, outcome)
    if bound is None:
        return None
    return Env(pre=pre, post=outcome.state, msgs=bound)


# ---------------------------------------------------------------- search and replay (re-exported)
