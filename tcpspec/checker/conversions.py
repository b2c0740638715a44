"""Where a typed expression may stand: numbers and sequence numbers, the implicit conversions
(an int meeting a bvN, a set or map literal taking the type its place expects), and the one type
two branches share.

Expressions, collections, indices and statements all convert values this way, so the rules sit
below every one of them, in one place.
"""

from __future__ import annotations

from tcpspec.checker import ir
from tcpspec.checker.domains import interval
from tcpspec.core.types import INT, BitVecType, IntType, MapType, SetType, Type


def is_num(t: Type) -> bool:
    return isinstance(t, (IntType, BitVecType))


def is_seq(t: Type) -> bool:
    return isinstance(t, BitVecType) and t.serial


def coerce(expr: ir.Expr, target: Type) -> ir.Expr | None:
    """`expr` usable where `target` is expected (int ranges meet at run time), or None."""
    if expr.type == target:
        return expr
    if isinstance(target, IntType) and isinstance(expr.type, IntType):
        return expr
    if isinstance(target, BitVecType) and isinstance(expr.type, IntType):
        return ir.Convert(expr, target, expr.span)
    return retype(expr, target)


def pair(left: ir.Expr, right: ir.Expr) -> tuple[ir.Expr, ir.Expr, Type] | None:
    """Bring two numeric operands to one type: ints stay ints, an int meeting a bvN converts."""
    lt, rt = left.type, right.type
    if isinstance(lt, IntType) and isinstance(rt, IntType):
        return left, right, INT
    if isinstance(lt, BitVecType) and isinstance(rt, IntType):
        return left, ir.Convert(right, lt, right.span), lt
    if isinstance(lt, IntType) and isinstance(rt, BitVecType):
        return ir.Convert(left, rt, left.span), right, rt
    if lt == rt:
        return left, right, lt
    return None


def join(a: Type, b: Type) -> Type | None:
    """The type of `if c then a else b`."""
    if a == b:
        return a
    if isinstance(a, IntType) and isinstance(b, IntType):
        return INT
    return None


def fits(e: ir.Expr, t: Type) -> bool:
    """Whether every value `e` may take is a value of scalar type `t` (a key or an element)."""
    if isinstance(t, IntType):
        r = interval(e) if isinstance(e.type, IntType) else None
        return r is not None and t.lo is not None and t.hi is not None and t.lo <= r[0] and r[1] <= t.hi
    return e.type == t


def retype(e: ir.Expr, target: Type) -> ir.Expr | None:
    """A set or map literal as a value of `target` (its elements proved to fit), else None."""
    if isinstance(e, ir.SetLit) and isinstance(target, SetType):
        if all(fits(x, target.elem) for x in e.elems):
            return ir.SetLit(e.elems, target, e.span)
        return None
    if isinstance(e, ir.MapLit) and isinstance(target, MapType) and isinstance(e.type, MapType):
        if e.type.key != target.key:
            return None
        values = [coerce(v, target.value) for v in e.values]
        if any(v is None for v in values):
            return None
        return ir.MapLit(tuple(v for v in values if v is not None), target, e.span)
    return None
