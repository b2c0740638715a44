"""Constant folding: the value of a closed checked expression, as the checker needs it for
constants, ranges, capacities, family bounds and arguments. No z3 (the checker imports it)."""

from __future__ import annotations

from tcpspec.checker import ir
from tcpspec.core.types import BitVecType, MapValue, Type, Value, serial_lt, to_signed


def const_value(e: ir.Expr) -> Value | None:
    """The value of a closed expression, or None when it reads state, params or messages."""
    if isinstance(e, ir.Lit):
        return e.value
    if isinstance(e, ir.Convert):
        v = const_value(e.arg)
        if not isinstance(v, int) or isinstance(v, bool):
            return None
        return v % e.type.modulus if isinstance(e.type, BitVecType) else v
    if isinstance(e, ir.Unary):
        return _const_unary(e)
    if isinstance(e, ir.Binary):
        return _const_binary(e)
    if isinstance(e, ir.Ite):
        c = const_value(e.cond)
        if not isinstance(c, bool):
            return None
        return const_value(e.then if c else e.else_)
    return _const_collection(e)


def decided(e: ir.Expr) -> bool | None:
    """The truth value of `e` whatever the state, when the constants alone fix it (`WINDOW && x`
    with WINDOW false); None when it depends on the state."""
    if isinstance(e, ir.Binary) and e.op in ("and", "or"):
        a, b = decided(e.left), decided(e.right)
        short = e.op == "or"  # the value that decides the connective alone
        if a is short or b is short:
            return short
        return (not short) if a is not None and b is not None else None
    if isinstance(e, ir.Binary) and e.op == "implies":
        a, b = decided(e.left), decided(e.right)
        if a is False or b is True:
            return True
        return False if a is True and b is False else None
    if isinstance(e, ir.Unary) and e.op == "not":
        v = decided(e.arg)
        return None if v is None else not v
    if isinstance(e, ir.Ite):
        c = decided(e.cond)
        if c is not None:
            return decided(e.then if c else e.else_)
    v = const_value(e)
    return v if isinstance(v, bool) else None


def _const_collection(e: ir.Expr) -> Value | None:
    """Records, maps and sets whose parts are all constant (`{1, 2}`, `[j in 0..2 -> false]`)."""
    if isinstance(e, ir.RecordLit):
        fields = {f: const_value(x) for f, x in e.fields}
        return None if any(x is None for x in fields.values()) else fields  # type: ignore[return-value]
    if isinstance(e, ir.SetLit):
        elems = [const_value(x) for x in e.elems]
        return None if any(x is None for x in elems) else frozenset(elems)  # type: ignore[arg-type]
    if isinstance(e, ir.MapLit):
        values = [const_value(x) for x in e.values]
        return None if any(x is None for x in values) else MapValue(tuple(zip(e.type.keys(), values)))  # type: ignore[arg-type]
    if isinstance(e, (ir.Member, ir.Card, ir.MapRead)):
        parts = [const_value(x) for x in ((e.elem, e.set) if isinstance(e, ir.Member) else (e.set,) if isinstance(e, ir.Card)
                                          else (e.map, e.key))]
        if any(x is None for x in parts):
            return None
        if isinstance(e, ir.Member):
            elem, coll = parts
            return isinstance(coll, frozenset) and any(type(x) is type(elem) and x == elem for x in coll)
        if isinstance(e, ir.Card):
            return len(parts[0]) if isinstance(parts[0], frozenset) else None
        coll, key = parts
        return coll.get(key) if isinstance(coll, MapValue) else None
    return None


def _const_unary(e: ir.Unary) -> Value | None:
    v = const_value(e.arg)
    if isinstance(v, bool):
        return (not v) if e.op == "not" else None
    if not isinstance(v, int):
        return None
    return _wrap(-v, e.type)


def _wrap(v: int, t: Type) -> int:
    return v % t.modulus if isinstance(t, BitVecType) else v


def _const_binary(e: ir.Binary) -> Value | None:
    a, b = const_value(e.left), const_value(e.right)
    if a is None or b is None:
        return None
    if e.op in ("and", "or", "implies"):
        if not isinstance(a, bool) or not isinstance(b, bool):
            return None
        return {"and": a and b, "or": a or b, "implies": (not a) or b}[e.op]
    if e.op == "eq":
        return a == b
    if e.op == "ne":
        return a != b
    if not isinstance(a, int) or not isinstance(b, int) or isinstance(a, bool) or isinstance(b, bool):
        return None
    return _const_numeric(e.op, a, b, e.left.type, e.type)


def _const_numeric(op: str, a: int, b: int, operand: Type, result: Type) -> Value | None:
    if op in ("add", "sub", "mul"):
        raw = a + b if op == "add" else a - b if op == "sub" else a * b
        return _wrap(raw, result)
    if op == "seqdiff" and isinstance(operand, BitVecType):
        return to_signed(a - b, operand.width)
    if isinstance(operand, BitVecType) and operand.serial:
        lt = serial_lt(a, b, operand.width)
        return lt if op == "lt" else (lt or a == b) if op == "le" else None
    if op == "lt":
        return a < b
    if op == "le":
        return a <= b
    return None

