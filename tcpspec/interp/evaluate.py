"""Evaluating checked expressions on a concrete state: the tree walker and its compiled form
(`compile_expr`) that every step of the interpreter uses. No z3.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tcpspec.checker import ir
from tcpspec.core.types import (
    BitVecType,
    MapValue,
    Type,
    Value,
    default_value,
    serial_lt,
    to_signed,
)
from tcpspec.interp.values import InterpError, Opaque, OpaqueRead, same, show


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
        return lookup(env.params, expr.name, "parameter")
    if isinstance(expr, ir.Msg):
        return lookup(env.msgs, expr.name, "message")
    if isinstance(expr, ir.Field):
        return _field(eval_expr(expr.base, env), expr.field)
    if isinstance(expr, ir.Unary):
        return _unary(expr, eval_expr(expr.arg, env))
    if isinstance(expr, ir.Binary):
        return _binary(expr, env)
    if isinstance(expr, ir.Convert):
        return _convert(eval_expr(expr.arg, env), expr.type)
    if isinstance(expr, ir.Ite):
        branch = expr.then if as_bool(eval_expr(expr.cond, env)) else expr.else_
        return eval_expr(branch, env)
    if isinstance(expr, ir.RecordLit):
        return {name: eval_expr(e, env) for name, e in expr.fields}
    if isinstance(expr, ir.ChanLen):
        return len(as_channel(env.pre, expr.channel.name))
    if isinstance(expr, ir.ChanSlot):
        queue = as_channel(env.pre, expr.channel.name)
        return queue[expr.index] if expr.index < len(queue) else default_value(expr.type)
    if isinstance(expr, ir.Local):
        return lookup(env.locals, expr.name, "let name")
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
            return lambda env: not as_bool(arg(env))
        return lambda env: _unary(expr, arg(env))
    if isinstance(expr, ir.Binary):
        return _compile_binary(expr)
    if isinstance(expr, ir.Convert):
        arg, t = compile_expr(expr.arg), expr.type
        return lambda env: _convert(arg(env), t)
    if isinstance(expr, ir.Ite):
        cond, then, else_ = compile_expr(expr.cond), compile_expr(expr.then), compile_expr(expr.else_)
        return lambda env: then(env) if as_bool(cond(env)) else else_(env)
    if isinstance(expr, ir.ChanLen):
        name = expr.channel.name
        return lambda env: len(as_channel(env.pre, name))
    if isinstance(expr, ir.ChanSlot):
        name, index, t = expr.channel.name, expr.index, expr.type

        def slot(env: Env) -> Value:
            queue = as_channel(env.pre, name)
            return queue[index] if index < len(queue) else default_value(t)
        return slot
    if isinstance(expr, ir.Param):
        pname = expr.name
        return lambda env: lookup(env.params, pname, "parameter")
    if isinstance(expr, ir.Msg):
        mname = expr.name
        return lambda env: lookup(env.msgs, mname, "message")
    if isinstance(expr, ir.RecordLit):
        parts = [(fname, compile_expr(e)) for fname, e in expr.fields]
        return lambda env: {fname: f(env) for fname, f in parts}
    return lambda env: eval_expr(expr, env)


def _compile_binary(expr: ir.Binary) -> Callable[[Env], Value]:
    left, right, op = compile_expr(expr.left), compile_expr(expr.right), expr.op
    if op == "and":
        return lambda env: as_bool(left(env)) and as_bool(right(env))
    if op == "or":
        return lambda env: as_bool(left(env)) or as_bool(right(env))
    if op == "implies":
        return lambda env: not as_bool(left(env)) or as_bool(right(env))
    if op == "eq":
        return lambda env: _same_quick(left(env), right(env))
    if op == "ne":
        return lambda env: not _same_quick(left(env), right(env))
    if op in ("lt", "le"):
        t = expr.left.type
        return lambda env: _compare(op, as_int(left(env)), as_int(right(env)), t)
    if op in _ARITH:
        t = expr.type
        if op == "add":
            return lambda env: _wrap(as_int(left(env)) + as_int(right(env)), t)
        if op == "sub":
            return lambda env: _wrap(as_int(left(env)) - as_int(right(env)), t)
        return lambda env: _wrap(as_int(left(env)) * as_int(right(env)), t)
    if op == "seqdiff":
        width = _width(expr.left.type)
        return lambda env: to_signed(as_int(left(env)) - as_int(right(env)), width)
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


def lookup(table: Mapping[str, Value], name: str, what: str) -> Value:
    """A bound name (parameter, message, let): unbound is a bug of the caller, said as such."""
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


def as_channel(state: Mapping[str, Value | list[Value]], name: str) -> list[Value]:
    """A channel's messages, head first. The as_* helpers check what the type checker already
    promised, so a model that slips past it fails with InterpError, never with a wrong value."""
    v = state.get(name)
    if not isinstance(v, list):
        raise InterpError(f"state has no channel '{name}'")
    return v


def _field(base: Value, name: str) -> Value:
    if not isinstance(base, dict) or name not in base:
        raise InterpError(f"no field '{name}' in {show(base)}")
    return base[name]


def as_bool(v: Value) -> bool:
    if not isinstance(v, bool):
        raise InterpError(f"expected a bool, got {show(v)}")
    return v


def as_int(v: Value) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        if isinstance(v, Opaque):
            raise OpaqueRead(v)
        raise InterpError(f"expected a number, got {show(v)}")
    return v


def _unary(expr: ir.Unary, v: Value) -> Value:
    if expr.op == "not":
        return not as_bool(v)
    if expr.op == "neg":
        return _wrap(-as_int(v), expr.type)
    raise InterpError(f"unknown unary operator '{expr.op}'")


def _wrap(n: int, t: Type) -> int:
    """Bit-vector results are taken modulo 2^N; integer results are exact."""
    return n % t.modulus if isinstance(t, BitVecType) else n


_LOGIC = ("and", "or", "implies")
_ARITH = ("add", "sub", "mul")


def _binary(expr: ir.Binary, env: Env) -> Value:
    """Logic short-circuits (harmless: expressions have no effects); the rest is strict."""
    if expr.op in _LOGIC:
        left = as_bool(eval_expr(expr.left, env))
        if expr.op == "and" and not left:
            return False
        if expr.op == "or" and left:
            return True
        if expr.op == "implies" and not left:
            return True
        return as_bool(eval_expr(expr.right, env))
    a, b = eval_expr(expr.left, env), eval_expr(expr.right, env)
    if expr.op == "eq":
        return same(a, b)
    if expr.op == "ne":
        return not same(a, b)
    if expr.op in _ARITH:
        x, y = as_int(a), as_int(b)
        n = x + y if expr.op == "add" else x - y if expr.op == "sub" else x * y
        return _wrap(n, expr.type)
    if expr.op == "seqdiff":
        width = _width(expr.left.type)
        return to_signed(as_int(a) - as_int(b), width)
    if expr.op in ("lt", "le"):
        return _compare(expr.op, as_int(a), as_int(b), expr.left.type)
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
        return as_int(v) % t.modulus
    return v
