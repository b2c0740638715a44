"""Concrete semantics of a checked model, written from docs/language.md, not from the encoder.

Every counterexample or witness a symbolic engine produces is replayed here before it is
reported (`tcpspec.replay`), and the breadth-first search (`tcpspec.explore`) is the reference
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tcpspec.checker import ir
from tcpspec.core.types import (
    BitVecType,
    BoolType,
    EnumType,
    IntType,
    MapType,
    MapValue,
    RecordType,
    SetType,
    Type,
    Value,
    compose,
    composite_parts,
    default_value,
    serial_lt,
    to_signed,
    value_text,
    values_in_range,
)

if TYPE_CHECKING:
    from tcpspec.interp.search import ExploreResult, ReplayResult
    from tcpspec.core.trace import Trace

State = dict[str, Value | list[Value]]
Frozen = object  # a hashable image of a value or a state (see `freeze`)


class InterpError(Exception):
    """The interpreter met something the checker should have ruled out (a bug, not a verdict)."""


class Opaque:
    """A value a search stands in for without looking at it (engines/seqspace.py): a free
    initial value that data independence says is never read, or a constant stored into a
    sequence space. Copying it (assignments, sends, receives) is allowed; any use that looks at
    it (arithmetic, comparison, equality, a condition) raises `OpaqueRead`, which tells the
    search that its assumption was wrong. `value` is what a trace shows for it."""

    __slots__ = ("value", "origin")

    def __init__(self, value: int, origin: str) -> None:
        self.value, self.origin = value, origin

    def __eq__(self, other: object) -> bool:
        raise OpaqueRead(self)

    def __hash__(self) -> int:
        return hash(("opaque", self.value, self.origin))

    def __repr__(self) -> str:
        return f"Opaque({self.value}, {self.origin!r})"


class OpaqueRead(InterpError):
    """An `Opaque` value was looked at: the run depends on it."""

    def __init__(self, v: Opaque) -> None:
        super().__init__(f"the value of {v.origin} was read")
        self.origin = v.origin


# ---------------------------------------------------------------- values


def freeze(v: object) -> Frozen:
    """A hashable, canonical image: states are deduplicated by it in the search.

    bool and int are tagged apart because `True == 1` in Python but not in the language.
    """
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, dict):
        return tuple((k, freeze(x)) for k, x in v.items())
    if isinstance(v, list):
        return ("l", tuple(freeze(x) for x in v))
    if isinstance(v, MapValue):
        return ("m", tuple((freeze(k), freeze(x)) for k, x in v.items))
    if isinstance(v, frozenset):
        return ("s", tuple(sorted((freeze(x) for x in v), key=repr)))
    return v


def same(a: object, b: object) -> bool:
    """Structural equality that does not confuse `True` with `1` (unlike Python's `==`).

    Records compare by field name, not by the order their fields are listed in: a trace read
    from JSON (`tcpspec replay`) may list them in any order. (`freeze` keeps the order: the
    interpreter's own records always list their fields as the model declares them.)"""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(x, b[k]) for k, x in a.items())
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (MapValue, frozenset)) or isinstance(b, (MapValue, frozenset)):
        return type(a) is type(b) and freeze(a) == freeze(b)
    if isinstance(b, (dict, list)):
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def copy_state(state: Mapping[str, Value | list[Value]]) -> State:
    """A copy whose channel lists can be changed without touching `state` (values are never
    mutated in place, so they may be shared)."""
    return {k: (list(v) if isinstance(v, list) else v) for k, v in state.items()}


def show(v: object) -> str:
    """A value the way a person writes it in a model (for replay messages)."""
    if isinstance(v, Opaque):
        return f"<{v.origin}>"
    return value_text(v)


# ---------------------------------------------------------------- expressions


@dataclass
class Env:
    """What an expression can read: the state before the step (`pre`, also the working state
    while a body runs), the state after it (`post`, for primed variables of step properties),
    the `choose` parameters and the bound messages."""

    pre: Mapping[str, Value | list[Value]]
    post: Mapping[str, Value | list[Value]] | None = None
    params: Mapping[str, Value] = field(default_factory=dict)
    msgs: Mapping[str, Value] = field(default_factory=dict)
    locals: dict[str, Value] = field(default_factory=dict)  # `let` values of the running body


def eval_expr(expr: ir.Expr, env: Env) -> Value:
    """The value of a typed expression (docs/language.md, "Expressions")."""
    if isinstance(expr, ir.Lit):
        return expr.value
    if isinstance(expr, ir.Var):
        return _read_var(expr, env)
    if isinstance(expr, ir.Param):
        return _lookup(env.params, expr.name, "parameter")
    if isinstance(expr, ir.Msg):
        return _lookup(env.msgs, expr.name, "message")
    if isinstance(expr, ir.Field):
        return _field(eval_expr(expr.base, env), expr.field)
    if isinstance(expr, ir.Unary):
        return _unary(expr, eval_expr(expr.arg, env))
    if isinstance(expr, ir.Binary):
        return _binary(expr, env)
    if isinstance(expr, ir.Convert):
        return _convert(eval_expr(expr.arg, env), expr.type)
    if isinstance(expr, ir.Ite):
        branch = expr.then if _bool(eval_expr(expr.cond, env)) else expr.else_
        return eval_expr(branch, env)
    if isinstance(expr, ir.RecordLit):
        return {name: eval_expr(e, env) for name, e in expr.fields}
    if isinstance(expr, ir.ChanLen):
        return len(_channel(env.pre, expr.channel.name))
    if isinstance(expr, ir.ChanSlot):
        queue = _channel(env.pre, expr.channel.name)
        return queue[expr.index] if expr.index < len(queue) else default_value(expr.type)
    if isinstance(expr, ir.Local):
        return _lookup(env.locals, expr.name, "let name")
    return _collection(expr, env)


def _collection(expr: ir.Expr, env: Env) -> Value:
    """Maps (`MapValue`) and sets (frozenset) as docs/language.md defines them."""
    if isinstance(expr, ir.MapLit):
        return MapValue(tuple((k, eval_expr(v, env)) for k, v in zip(expr.type.keys(), expr.values)))
    if isinstance(expr, ir.SetLit):
        return frozenset(eval_expr(x, env) for x in expr.elems)
    if isinstance(expr, ir.MapRead):
        m, key = eval_expr(expr.map, env), eval_expr(expr.key, env)
        if not isinstance(m, MapValue):
            raise InterpError(f"expected a map, got {show(m)}")
        try:
            return m.get(key)
        except KeyError:
            raise InterpError(f"{show(key)} is not a key of {show(m)}") from None
    if isinstance(expr, ir.MapStore):
        m, key, value = eval_expr(expr.map, env), eval_expr(expr.key, env), eval_expr(expr.value, env)
        if not isinstance(m, MapValue) or not any(same(k, key) for k in m.keys()):
            raise InterpError(f"{show(key)} is not a key of {show(m)}")
        return m.set(key, value)
    if isinstance(expr, ir.SetOp):
        a, b = _set(eval_expr(expr.left, env)), _set(eval_expr(expr.right, env))
        return a | b if expr.op == "union" else a - b if expr.op == "minus" else a & b
    if isinstance(expr, ir.Member):
        x, coll = eval_expr(expr.elem, env), _set(eval_expr(expr.set, env))
        return any(same(x, y) for y in coll)
    if isinstance(expr, ir.Card):
        return len(_set(eval_expr(expr.set, env)))
    raise InterpError(f"unknown expression {type(expr).__name__}")


def _set(v: Value) -> frozenset[Value]:
    if not isinstance(v, frozenset):
        raise InterpError(f"expected a set, got {show(v)}")
    return v


def compile_expr(expr: ir.Expr) -> Callable[[Env], Value]:
    """`eval_expr` with the dispatch on node types done once: a closure per node, calling the
    same helpers, so the values (and the errors) are eval_expr's. For evaluating one
    expression on thousands of states (the prover's candidate filter)."""
    if isinstance(expr, ir.Lit):
        value = expr.value
        return lambda env: value
    if isinstance(expr, ir.Var):
        if expr.primed:
            return lambda env: _read_var(expr, env)
        name = expr.var.name

        def read(env: Env) -> Value:
            v = env.pre.get(name)
            return _read_var(expr, env) if v is None or isinstance(v, list) else v
        return read
    if isinstance(expr, ir.Field):
        base, name = compile_expr(expr.base), expr.field
        return lambda env: _field(base(env), name)
    if isinstance(expr, ir.Unary):
        arg = compile_expr(expr.arg)
        if expr.op == "not":
            return lambda env: not _bool(arg(env))
        return lambda env: _unary(expr, arg(env))
    if isinstance(expr, ir.Binary):
        return _compile_binary(expr)
    if isinstance(expr, ir.Convert):
        arg, t = compile_expr(expr.arg), expr.type
        return lambda env: _convert(arg(env), t)
    if isinstance(expr, ir.Ite):
        cond, then, else_ = compile_expr(expr.cond), compile_expr(expr.then), compile_expr(expr.else_)
        return lambda env: then(env) if _bool(cond(env)) else else_(env)
    if isinstance(expr, ir.ChanLen):
        name = expr.channel.name
        return lambda env: len(_channel(env.pre, name))
    if isinstance(expr, ir.ChanSlot):
        name, index, t = expr.channel.name, expr.index, expr.type

        def slot(env: Env) -> Value:
            queue = _channel(env.pre, name)
            return queue[index] if index < len(queue) else default_value(t)
        return slot
    if isinstance(expr, ir.Param):
        pname = expr.name
        return lambda env: _lookup(env.params, pname, "parameter")
    if isinstance(expr, ir.Msg):
        mname = expr.name
        return lambda env: _lookup(env.msgs, mname, "message")
    if isinstance(expr, ir.RecordLit):
        parts = [(fname, compile_expr(e)) for fname, e in expr.fields]
        return lambda env: {fname: f(env) for fname, f in parts}
    return lambda env: eval_expr(expr, env)


def _compile_binary(expr: ir.Binary) -> Callable[[Env], Value]:
    left, right, op = compile_expr(expr.left), compile_expr(expr.right), expr.op
    if op == "and":
        return lambda env: _bool(left(env)) and _bool(right(env))
    if op == "or":
        return lambda env: _bool(left(env)) or _bool(right(env))
    if op == "implies":
        return lambda env: not _bool(left(env)) or _bool(right(env))
    if op == "eq":
        return lambda env: _same_quick(left(env), right(env))
    if op == "ne":
        return lambda env: not _same_quick(left(env), right(env))
    if op in ("lt", "le"):
        t = expr.left.type
        return lambda env: _compare(op, _int(left(env)), _int(right(env)), t)
    if op in _ARITH:
        t = expr.type
        if op == "add":
            return lambda env: _wrap(_int(left(env)) + _int(right(env)), t)
        if op == "sub":
            return lambda env: _wrap(_int(left(env)) - _int(right(env)), t)
        return lambda env: _wrap(_int(left(env)) * _int(right(env)), t)
    if op == "seqdiff":
        width = _width(expr.left.type)
        return lambda env: to_signed(_int(left(env)) - _int(right(env)), width)
    return lambda env: _binary(expr, env)


def _same_quick(a: Value, b: Value) -> bool:
    """same(), without freezing scalars: equal and of one Python type (True != 1)."""
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return same(a, b)
    if type(a) is type(b):
        return a == b
    if isinstance(a, Opaque) or isinstance(b, Opaque):
        raise OpaqueRead(a if isinstance(a, Opaque) else b)  # type: ignore[arg-type]
    return False


def _lookup(table: Mapping[str, Value], name: str, what: str) -> Value:
    if name not in table:
        raise InterpError(f"{what} '{name}' is not bound")
    return table[name]


def _read_var(expr: ir.Var, env: Env) -> Value:
    """Plain variables read the pre-state, primed ones the post-state."""
    source = env.post if expr.primed else env.pre
    if source is None:
        raise InterpError(f"{expr.var.name}' read outside a step property")
    v = source.get(expr.var.name)
    if v is None or isinstance(v, list):
        raise InterpError(f"state has no variable '{expr.var.name}'")
    return v


def _channel(state: Mapping[str, Value | list[Value]], name: str) -> list[Value]:
    v = state.get(name)
    if not isinstance(v, list):
        raise InterpError(f"state has no channel '{name}'")
    return v


def _field(base: Value, name: str) -> Value:
    if not isinstance(base, dict) or name not in base:
        raise InterpError(f"no field '{name}' in {show(base)}")
    return base[name]


def _bool(v: Value) -> bool:
    if not isinstance(v, bool):
        raise InterpError(f"expected a bool, got {show(v)}")
    return v


def _int(v: Value) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        if isinstance(v, Opaque):
            raise OpaqueRead(v)
        raise InterpError(f"expected a number, got {show(v)}")
    return v


def _unary(expr: ir.Unary, v: Value) -> Value:
    if expr.op == "not":
        return not _bool(v)
    if expr.op == "neg":
        return _wrap(-_int(v), expr.type)
    raise InterpError(f"unknown unary operator '{expr.op}'")


def _wrap(n: int, t: Type) -> int:
    """Bit-vector results are taken modulo 2^N; integer results are exact."""
    return n % t.modulus if isinstance(t, BitVecType) else n


_LOGIC = ("and", "or", "implies")
_ARITH = ("add", "sub", "mul")


def _binary(expr: ir.Binary, env: Env) -> Value:
    """Logic short-circuits (harmless: expressions have no effects); the rest is strict."""
    if expr.op in _LOGIC:
        left = _bool(eval_expr(expr.left, env))
        if expr.op == "and" and not left:
            return False
        if expr.op == "or" and left:
            return True
        if expr.op == "implies" and not left:
            return True
        return _bool(eval_expr(expr.right, env))
    a, b = eval_expr(expr.left, env), eval_expr(expr.right, env)
    if expr.op == "eq":
        return same(a, b)
    if expr.op == "ne":
        return not same(a, b)
    if expr.op in _ARITH:
        x, y = _int(a), _int(b)
        n = x + y if expr.op == "add" else x - y if expr.op == "sub" else x * y
        return _wrap(n, expr.type)
    if expr.op == "seqdiff":
        width = _width(expr.left.type)
        return to_signed(_int(a) - _int(b), width)
    if expr.op in ("lt", "le"):
        return _compare(expr.op, _int(a), _int(b), expr.left.type)
    raise InterpError(f"unknown binary operator '{expr.op}'")


def _width(t: Type) -> int:
    if not isinstance(t, BitVecType):
        raise InterpError(f"expected a bit-vector type, got {t}")
    return t.width


def _compare(op: str, a: int, b: int, t: Type) -> bool:
    """Numeric on ints, unsigned on bvN, serial (RFC 1982, signed reading) on seqN."""
    if op == "le" and a == b:
        return True
    if isinstance(t, BitVecType) and t.serial:
        return serial_lt(a, b, t.width)
    return a < b


def _convert(v: Value, t: Type) -> Value:
    """int -> bvN/seqN modulo 2^N; bvN/seqN -> int is the unsigned value (already the int)."""
    if isinstance(t, BitVecType):
        return _int(v) % t.modulus
    return v


# ---------------------------------------------------------------- finite domains


@dataclass(frozen=True)
class Domain:
    """Which values unconstrained variables and `choose` parameters take (see module doc)."""

    values: Mapping[str, Sequence[Value]] = field(default_factory=dict)
    max_bits: int = 4
    max_range: int = 256

    def choices(self, key: str, t: Type) -> tuple[list[Value], bool]:
        """The values `key` (of type `t`) takes, and whether they are only a sample."""
        if key in self.values:
            given = list(self.values[key])
            for v in given:
                if not values_in_range(t, v):
                    raise InterpError(f"domain value {show(v)} for {key} is not a {t}")
            return given, self.sampled(key, t)
        parts = composite_parts(t)
        if parts is not None:
            if isinstance(t, SetType) and cardinality(t) > MAX_SUBSETS:  # every subset: too many
                return [frozenset(), frozenset(t.elems())], True
            per_part = [self.choices(_part_key(key, t, name), pt)[0] for name, pt in parts]
            if isinstance(t, MapType) and _product(len(p) for p in per_part) > MAX_SUBSETS:
                # Too many maps to try them all: each value everywhere (a sample).
                common = per_part[0] if all(p == per_part[0] for p in per_part) else per_part[0][:1]
                return [compose(t, [v] * len(parts)) for v in common], True
            return [compose(t, list(combo)) for combo in itertools.product(*per_part)], self.sampled(key, t)
        if self._small(t):
            return all_values(t), False
        return default_sample(t), True

    def sampled(self, key: str, t: Type) -> bool:
        """Whether `choices(key, t)` misses values of `t` (cheap: enumerates nothing)."""
        if key in self.values:
            return len({freeze(v) for v in self.values[key]}) < cardinality(t)
        if isinstance(t, SetType) or isinstance(t, MapType) and cardinality(t) > MAX_SUBSETS:
            return cardinality(t) > MAX_SUBSETS
        parts = composite_parts(t)
        if parts is not None:
            return any(self.sampled(_part_key(key, t, name), pt) for name, pt in parts)
        return not self._small(t)

    def _small(self, t: Type) -> bool:
        if isinstance(t, BitVecType):
            return t.width <= self.max_bits
        if isinstance(t, IntType):
            return t.bounded and cardinality(t) <= self.max_range
        return True


MAX_SUBSETS = 1 << 12  # a free set of a larger element type is sampled (empty, full)


def _product(ns: Iterator[int]) -> int:
    out = 1
    for n in ns:
        out *= n
    return out


def _part_key(key: str, t: Type, part: str) -> str:
    """The domain key of a part: `coord.votes[1]` for a map's value, `c2s.seq` for a field."""
    return f"{key}.{part}" if isinstance(t, RecordType) else f"{key}[{part}]"


def as_domain(domain: Domain | Mapping[str, Sequence[Value]] | None) -> Domain:
    """Callers may pass a plain `{name: values}` mapping; the limits then take their defaults."""
    if domain is None:
        return Domain()
    if isinstance(domain, Domain):
        return domain
    return Domain(values=dict(domain))


def cardinality(t: Type) -> int:
    """How many values a type has (unbounded ints: treated as infinite)."""
    if isinstance(t, BoolType):
        return 2
    if isinstance(t, IntType):
        if t.lo is None or t.hi is None:
            return 1 << 200
        return max(0, t.hi - t.lo + 1)
    if isinstance(t, BitVecType):
        return t.modulus
    if isinstance(t, EnumType):
        return len(t.members)
    n = 1
    for _, ft in composite_parts(t) or []:
        n *= cardinality(ft)
    return n


def all_values(t: Type) -> list[Value]:
    """Every value of a finite type, smallest first."""
    if isinstance(t, BoolType):
        return [False, True]
    if isinstance(t, IntType):
        if t.lo is None or t.hi is None:
            raise InterpError("an unbounded int has no finite list of values")
        return list(range(t.lo, t.hi + 1))
    if isinstance(t, BitVecType):
        return list(range(t.modulus))
    if isinstance(t, EnumType):
        return list(t.members)
    parts = composite_parts(t) or []
    return [compose(t, list(combo)) for combo in itertools.product(*(all_values(pt) for _, pt in parts))]


def default_sample(t: Type) -> list[Value]:
    """The values tried for a large type when the caller gave none."""
    if isinstance(t, BitVecType):
        return [0, 1, t.modulus - 1]
    if isinstance(t, IntType) and t.lo is not None and t.hi is not None:
        picks = [t.lo, t.hi] + ([0] if t.lo < 0 < t.hi else [])
        return list[Value](sorted(set(picks)))
    raise InterpError(f"no finite sample of type {t}: give its values in the domain")


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
        for i in range(len(_channel(state, t.channel.name))):
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
        queue = _channel(state, ch.name)
        if not queue:
            return StepOutcome(False, None, reason=f"channel {ch.name} is empty")
        msgs[binding] = queue[0]
        received.append((ch.name, queue[0]))
    if not _bool(eval_expr(t.guard, Env(pre=state, params=params, msgs=msgs))):
        return StepOutcome(False, None, reason="guard is false")
    run = _Run(copy_state(state))
    if t.receive is not None:
        _channel(run.state, t.receive[1].name).pop(0)
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
            branch = stmt.then if _bool(eval_expr(stmt.cond, env)) else stmt.else_
            _exec(branch, env, run)
        elif isinstance(stmt, ir.Let):
            env.locals[stmt.name] = eval_expr(stmt.value, env)
        else:
            raise InterpError(f"unknown statement {type(stmt).__name__}")


def _send(stmt: ir.Send, env: Env, run: _Run) -> None:
    """Append to the channel if it has room now; otherwise the transition is not enabled."""
    queue = _channel(run.state, stmt.channel.name)
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
    queue = list(_channel(state, name))
    if t.kind == "injection":
        if len(queue) >= cap:
            return StepOutcome(False, None, reason=f"channel {name} is full (capacity {cap})")
        queue.append({fname: _lookup(params, fname, "parameter") for fname, _ in t.channel.message.fields})
    else:
        i = _int(_lookup(params, "i", "parameter"))
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
    return _bool(eval_expr(prop.expr, Env(pre=state)))


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
    if env is None or (prop.when is not None and not _bool(eval_expr(prop.when, env))):
        return True
    return _bool(eval_expr(prop.expr, env))


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


def replay(model: ir.Model, trace: Trace, prop: ir.Property, require_first: bool = False) -> ReplayResult:
    """See `tcpspec.interp.search.replay` (kept there to keep modules short)."""
    from tcpspec.interp.search import replay as _replay

    return _replay(model, trace, prop, require_first)


def run_is_behaviour(model: ir.Model, trace: Trace) -> ReplayResult:
    """See `tcpspec.interp.search.run_is_behaviour`."""
    from tcpspec.interp.search import run_is_behaviour as _run

    return _run(model, trace)


def explore(model: ir.Model, max_depth: int, domain: Domain | Mapping[str, Sequence[Value]] | None = None,
            max_states: int = 1_000_000, properties: Sequence[ir.Property] | None = None) -> ExploreResult:
    """See `tcpspec.interp.search.explore`."""
    from tcpspec.interp.search import explore as _explore

    return _explore(model, max_depth, domain, max_states, properties)
