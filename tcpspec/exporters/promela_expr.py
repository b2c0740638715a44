"""Promela for the expressions and types of a checked model (see `tcpspec.exporters.promela`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tcpspec.checker import ir
from tcpspec.core.diagnostics import UsageError
from tcpspec.core.types import (
    BitVecType,
    BoolType,
    EnumType,
    IntType,
    MapType,
    RecordType,
    SetType,
    Type,
    Value,
    composite_parts,
    default_value,
    part_values,
    to_signed,
)

SMALL = 256  # types with at most this many values are enumerated in full


@dataclass(frozen=True)
class ExportOptions:
    """The finite ranges SPIN enumerates in place of wide types (see the module doc)."""

    isn_values: tuple[int, ...] = (0,)
    payload_range: tuple[int, int] | None = None
    properties: tuple[str, ...] = ()  # empty: every property
    max_steps: int | None = None  # a step counter bounds runs to this many steps (like BMC)
    # Wide variables (local names, e.g. "iss") that take every `isn_values` value; the other wide
    # variables without initial value take only the first (a sample: sound for variables that
    # are written before they are read, like irs). Empty: all of them take every value.
    isn_vars: tuple[str, ...] = ()


# ---------------------------------------------------------------- names and types


def ident(name: str) -> str:
    """A Promela identifier for a qualified model name (prefixed: no clash with keywords); a
    family's member `rm[2].state` becomes `v_rm_2__state`."""
    return "v_" + "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)


def leaves(t: Type, prefix: str) -> list[tuple[str, Type]]:
    """A value's scalar parts: (name suffix, type); a record gives one per (nested) field, a map
    one per key (`_k2`), a set one bool per element (`_k2`: is 2 in it)."""
    parts = composite_parts(t)
    if parts is not None:
        out: list[tuple[str, Type]] = []
        for name, pt in parts:
            out += leaves(pt, f"{prefix}_{name}" if isinstance(t, RecordType) else f"{prefix}_k{_safe(name)}")
        return out
    return [(prefix, t)]


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)


def ptype(t: Type) -> str:
    """The Promela type that holds every value of `t`."""
    if isinstance(t, BoolType):
        return "bool"
    if isinstance(t, EnumType):
        return "byte"
    if isinstance(t, IntType) and t.bounded:
        assert t.lo is not None and t.hi is not None
        if 0 <= t.lo and t.hi <= 255:
            return "byte"
        return "short" if -32768 <= t.lo and t.hi <= 32767 else "int"
    if isinstance(t, BitVecType) and t.width <= 8:
        return "byte"
    return "int"


def hidden_type(t: Type) -> str:
    """Scratch variables are `hidden` (not in the state vector); SPIN forbids hidden bools."""
    p = ptype(t)
    return "byte" if p == "bool" else p


def lit(v: Value, t: Type) -> str:
    if isinstance(t, BoolType):
        return "true" if v else "false"
    if isinstance(t, EnumType):
        return str(t.index(str(v)))
    if isinstance(t, BitVecType):
        assert isinstance(v, int)
        return str(to_signed(v, 32)) if t.width == 32 else str(v)
    assert isinstance(v, int) and not isinstance(v, bool)
    return str(v)


def values_of(t: Type, wide: list[int]) -> tuple[str, ...] | tuple[int, int]:
    """What a free value of `t` ranges over: a (lo, hi) range or a list of literals."""
    if isinstance(t, BoolType):
        return ("false", "true")
    if isinstance(t, EnumType):
        return (0, len(t.members) - 1)
    if isinstance(t, IntType):
        assert t.lo is not None and t.hi is not None, "free ints are bounded (checker)"
        return (t.lo, t.hi)
    assert isinstance(t, BitVecType)
    if t.width <= 8:
        return (0, t.modulus - 1)
    return tuple(lit(v % t.modulus, t) for v in wide)


# ---------------------------------------------------------------- expressions


@dataclass
class Scope:
    """How names read in one place: the guard (head of the channel), the body, a step property."""

    msgs: dict[str, list[str]]  # binding -> one Promela expression per leaf of the message
    params: dict[str, str]  # param -> variable
    pre: dict[str, str] = field(default_factory=dict)  # state/channel name -> snapshot prefix
    step: bool = False  # unprimed reads go to the snapshot (the state before the step)
    locals: dict[str, list[str]] = field(default_factory=dict)  # `let` name -> one variable per leaf


def chan_len(c: ir.Channel) -> str:
    return f"{ident(c.name)}_n"


def flat(e: ir.Expr, sc: Scope) -> list[str]:
    """A record-valued expression as one Promela expression per leaf (in `leaves` order)."""
    t = e.type
    if isinstance(e, ir.Msg):
        return list(sc.msgs[e.name])
    if isinstance(e, ir.Local):
        return list(sc.locals[e.name])
    if isinstance(e, ir.Var):
        base = ident(e.var.name)
        if sc.step and not e.primed and e.var.name in sc.pre:
            base = sc.pre[e.var.name]
        return [base + suffix for suffix, _ in leaves(t, "")]
    if isinstance(e, ir.RecordLit):
        return [x for _, fe in e.fields for x in flat(fe, sc)]
    if isinstance(e, ir.ChanSlot):  # past the length: zero, as in the Z3 encoding
        c = e.channel
        base = sc.pre[c.name] if sc.step and c.name in sc.pre else ident(c.name)
        return [f"({e.index} < {base}_n -> {base}{s}[{e.index}] : {lit(default_value(lt), lt)})"
                for s, lt in leaves(c.message, "")]
    if isinstance(e, ir.Field):
        assert isinstance(e.base.type, RecordType)
        names = [s for s, _ in leaves(e.base.type, "")]
        parts = flat(e.base, sc)
        return [p for s, p in zip(names, parts) if s == f"_{e.field}" or s.startswith(f"_{e.field}_")]
    if isinstance(e, ir.Ite):
        c = expr(e.cond, sc)
        return [f"({c} -> {a} : {b})" for a, b in zip(flat(e.then, sc), flat(e.else_, sc))]
    if isinstance(e, ir.Lit):
        return [lit(v, lt) for v, lt in lit_leaves(e.value, t)]
    if isinstance(e, (ir.MapRead, ir.MapStore, ir.MapLit, ir.SetLit, ir.SetOp)):
        return _flat_collection(e, sc)
    if isinstance(t, RecordType):
        raise UsageError(f"cannot export a record expression of kind {type(e).__name__} to Promela")
    return [expr(e, sc)]


def _key_is(key: ir.Expr, k: Value, t: Type, sc: Scope) -> str | None:
    """Promela for `key == k` (None: a constant key, true exactly for its own value)."""
    if isinstance(key, ir.Lit):
        return None
    return f"({expr(key, sc)} == {lit(k, t)})"


def _flat_collection(e: ir.Expr, sc: Scope) -> list[str]:
    """Maps and sets, one Promela expression per leaf, as `leaves` orders them."""
    if isinstance(e, ir.MapLit):
        return [x for v in e.values for x in flat(v, sc)]
    if isinstance(e, ir.SetLit):
        elems = [expr(x, sc) for x in e.elems]
        return ["(" + (" || ".join(f"{x} == {lit(k, e.type.elem)}" for x in elems) or "false") + ")"
                for k in e.type.elems()]
    if isinstance(e, ir.SetOp):
        op = {"union": "({a} || {b})", "minus": "({a} && !{b})", "inter": "({a} && {b})"}[e.op]
        return [op.format(a=a, b=b) for a, b in zip(flat(e.left, sc), flat(e.right, sc))]
    mt = e.map.type  # type: ignore[union-attr]
    assert isinstance(mt, MapType) and isinstance(e, (ir.MapRead, ir.MapStore))
    whole = flat(e.map, sc)
    size = len(leaves(mt.value, ""))
    per_key = [whole[i * size:(i + 1) * size] for i in range(len(mt.keys()))]
    tests = [_key_is(e.key, k, mt.key, sc) for k in mt.keys()]
    if isinstance(e, ir.MapRead):
        if isinstance(e.key, ir.Lit):
            return per_key[mt.keys().index(e.key.value)]
        out = per_key[-1]
        for test, part in reversed(list(zip(tests[:-1], per_key[:-1]))):
            out = [f"({test} -> {a} : {b})" for a, b in zip(part, out)]
        return out
    value = flat(e.value, sc)
    result: list[str] = []
    for k, test, part in zip(mt.keys(), tests, per_key):
        if test is None:
            assert isinstance(e.key, ir.Lit)
            result += value if _same_key(e.key.value, k) else part
        else:
            result += [f"({test} -> {v} : {old})" for v, old in zip(value, part)]
    return result


def _same_key(a: Value, b: Value) -> bool:
    return type(a) is type(b) and a == b


def lit_leaves(v: Value, t: Type) -> Iterator[tuple[Value, Type]]:
    parts = composite_parts(t)
    if parts is not None:
        for (_, pt), x in zip(parts, part_values(t, v)):
            yield from lit_leaves(x, pt)
    else:
        yield v, t


def wrap(text: str, t: Type) -> str:
    """Arithmetic results of bvN are modulo 2^N: masked below 32 bits, C wrap-around at 32."""
    if isinstance(t, BitVecType) and t.width < 32:
        return f"(({text}) & {t.modulus - 1})"
    return f"({text})"


def expr(e: ir.Expr, sc: Scope) -> str:
    """A scalar expression (bool, number, enum index) as Promela."""
    if isinstance(e, (ir.Lit, ir.Var, ir.Msg, ir.Field, ir.Local, ir.MapRead)) or isinstance(e.type, RecordType):
        parts = flat(e, sc)
        assert len(parts) == 1, f"scalar expected: {e}"
        return parts[0]
    if isinstance(e, ir.Param):
        return sc.params[e.name]
    if isinstance(e, ir.ChanLen):
        name = e.channel.name
        return f"{sc.pre[name]}_n" if sc.step and name in sc.pre else chan_len(e.channel)
    if isinstance(e, ir.Unary):
        a = expr(e.arg, sc)
        return f"(!{a})" if e.op == "not" else wrap(f"-{a}", e.type)
    if isinstance(e, ir.Convert):
        return _convert(e, expr(e.arg, sc))
    if isinstance(e, ir.Ite):
        return f"({expr(e.cond, sc)} -> {expr(e.then, sc)} : {expr(e.else_, sc)})"
    if isinstance(e, ir.Binary):
        return _binary(e, sc)
    if isinstance(e, ir.Member):
        st = e.set.type
        assert isinstance(st, SetType)
        bits = flat(e.set, sc)
        hits = [(_key_is(e.elem, k, st.elem, sc), b) for k, b in zip(st.elems(), bits)]
        if isinstance(e.elem, ir.Lit):
            return next((b for k, b in zip(st.elems(), bits) if _same_key(k, e.elem.value)), "false")
        return "(" + " || ".join(f"({t} && {b})" for t, b in hits) + ")"
    if isinstance(e, ir.Card):
        return "(" + " + ".join(f"({b} -> 1 : 0)" for b in flat(e.set, sc)) + ")"
    raise UsageError(f"cannot export expression {type(e).__name__} to Promela")


def _convert(e: ir.Convert, a: str) -> str:
    src = e.arg.type
    if isinstance(e.type, BitVecType):
        if isinstance(src, BitVecType) and src.width <= e.type.width:
            return a
        return wrap(a, e.type)
    if isinstance(src, BitVecType) and src.width == 32:
        raise UsageError("a 32-bit value used as an int has no Promela equivalent (int is 32-bit signed)")
    return a


_C = {"add": "+", "sub": "-", "mul": "*", "and": "&&", "or": "||"}


def _binary(e: ir.Binary, sc: Scope) -> str:
    if e.op in ("eq", "ne"):
        pairs = list(zip(flat(e.left, sc), flat(e.right, sc)))
        if e.op == "eq":
            return "(" + " && ".join(f"{a} == {b}" for a, b in pairs) + ")"
        return "(" + " || ".join(f"{a} != {b}" for a, b in pairs) + ")"
    a, b = expr(e.left, sc), expr(e.right, sc)
    if e.op == "implies":
        return f"(!{a} || {b})"
    if e.op in ("and", "or"):
        return f"({a} {_C[e.op]} {b})"
    if e.op in ("add", "sub", "mul"):
        return wrap(f"{a} {_C[e.op]} {b}", e.type)
    if e.op == "seqdiff":
        t = e.left.type
        assert isinstance(t, BitVecType)
        if t.width == 32:
            return f"({a} - {b})"
        half, m = 1 << (t.width - 1), t.modulus
        return f"(((({a} - {b}) + {half}) & {m - 1}) - {half})"
    if e.op in ("lt", "le"):
        return _compare(e.op, a, b, e.left.type)
    raise UsageError(f"cannot export operator '{e.op}' to Promela")


def _compare(op: str, a: str, b: str, t: Type) -> str:
    sym = "<" if op == "lt" else "<="
    if isinstance(t, BitVecType) and t.serial:
        # RFC 1982: a < b when b is 1 .. 2^(N-1)-1 ahead, i.e. the signed b - a is positive
        # (exactly 2^(N-1) apart, neither is less); a <= b: b - a is 0 or positive.
        rel = ">" if op == "lt" else ">="
        if t.width == 32:
            return f"(({b} - {a}) {rel} 0)"
        half, m = 1 << (t.width - 1), t.modulus
        return f"((((({b} - {a}) + {half}) & {m - 1}) - {half}) {rel} 0)"
    if isinstance(t, BitVecType) and t.width == 32:  # unsigned order on two's-complement ints
        return f"(({a} ^ (-2147483647 - 1)) {sym} ({b} ^ (-2147483647 - 1)))"
    return f"({a} {sym} {b})"
