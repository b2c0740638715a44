"""The values an expression or a type can take, as the checker proves them from declared ranges:
integer intervals, the values of a finite type, the domain a quantifier ranges over, the
channels an index may select.

Collections, defs, indices and statements all ask these questions, so the answers live below
all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tcpspec.checker import ir
from tcpspec.core.diagnostics import Span
from tcpspec.core.types import BOOL, BoolType, EnumType, IntType, Type, Value


def interval(e: ir.Expr) -> tuple[int, int] | None:
    """The integers an expression may evaluate to, from declared ranges (None: unbounded or not
    an integer). Interval arithmetic: sound, not always tight."""
    t = e.type
    if isinstance(e, ir.Lit):
        v = e.value
        return (v, v) if isinstance(v, int) and not isinstance(v, bool) else None
    if isinstance(e, ir.Binary) and e.op in ("add", "sub", "mul") and isinstance(t, IntType):
        a, b = interval(e.left), interval(e.right)
        if a is not None and b is not None:
            if e.op == "add":
                return a[0] + b[0], a[1] + b[1]
            if e.op == "sub":
                return a[0] - b[1], a[1] - b[0]
            ps = [x * y for x in a for y in b]
            return min(ps), max(ps)
    if isinstance(e, ir.Unary) and e.op == "neg" and isinstance(t, IntType):
        a = interval(e.arg)
        if a is not None:
            return -a[1], -a[0]
    if isinstance(e, ir.Ite) and isinstance(t, IntType):
        a, b = interval(e.then), interval(e.else_)
        if a is not None and b is not None:
            return min(a[0], b[0]), max(a[1], b[1])
    if isinstance(t, IntType) and t.bounded:
        assert t.lo is not None and t.hi is not None
        return t.lo, t.hi
    return None


def eq(a: ir.Expr, b: ir.Expr, span: Span) -> ir.Expr:
    return ir.Binary("eq", a, b, BOOL, span)


def value_lit(v: Value, t: Type, span: Span) -> ir.Lit:
    """A domain value as a literal; an integer gets its singleton range (folds like a constant)."""
    if isinstance(t, IntType) and isinstance(v, int) and not isinstance(v, bool):
        return ir.Lit(v, IntType(v, v), span)
    return ir.Lit(v, t, span)


def type_values(t: Type) -> list[Value] | None:
    """Every value of a finite scalar type (the domain of a quantifier or a map key)."""
    if isinstance(t, BoolType):
        return [False, True]
    if isinstance(t, EnumType):
        return list(t.members)
    if isinstance(t, IntType) and t.bounded:
        assert t.lo is not None and t.hi is not None
        return list(range(t.lo, t.hi + 1))
    return None


@dataclass(frozen=True)
class Domain:
    """What a quantifier, a `for` or a map literal ranges over: the values as literals, their
    type (a map literal's key type), and for a set the set itself (each value must be in it)."""

    lits: list[ir.Lit]
    key_type: Type
    guard: ir.Expr | None = None


@dataclass(frozen=True)
class ChanRef:
    """A channel as written: one channel, or (dynamic index) the members it may be, by index."""

    options: tuple[tuple[int, ir.Channel], ...]
    index: ir.Expr | None = None  # None: exactly one option

    @property
    def single(self) -> ir.Channel | None:
        return self.options[0][1] if self.index is None else None

