"""Typing finite maps (`[K] -> V`) and sets (`set of T`): literals, reads, updates, operators.

Keys and elements come from small scalar types (bool, an enum, a bounded integer range), so a
map or a set is a fixed, finite collection of values: the encoder stores one term per key or
element. A set literal's type comes from where it is used (`{}` has none of its own); outside
such a place it is the smallest set type that holds its elements. `x in {A, B}` is written out as
`x == A || x == B`, so it works for any type and needs no set at all.
"""

from __future__ import annotations


from tcpspec.frontend import ast_expr

from tcpspec.checker import ir
from tcpspec.checker.const import const_value
from tcpspec.checker.conversions import join, retype
from tcpspec.checker.domains import interval, type_values, value_lit
from tcpspec.checker.expr_protocol import ExprCheckerProtocol
from tcpspec.core.diagnostics import Span
from tcpspec.core.types import BOOL, MAX_KEYS, BoolType, EnumType, IntType, MapType, SetType, Type

SET_OPS = {"+": "union", "-": "minus", "*": "inter"}


def literal_set_type(elems: list[ir.Expr]) -> SetType | None:
    """The smallest set type holding these elements (None: the empty literal, or no such type)."""
    if not elems:
        return None
    types = {e.type for e in elems}
    if all(isinstance(t, IntType) for t in types):
        rs = [interval(e) for e in elems]
        if any(r is None for r in rs):
            return None
        lo, hi = min(r[0] for r in rs if r), max(r[1] for r in rs if r)
        return SetType(IntType(lo, hi)) if hi - lo < MAX_KEYS else None
    if len(types) == 1 and isinstance(next(iter(types)), (BoolType, EnumType)):
        return SetType(next(iter(types)))
    return None


class CollMixin:
    """The part of ExprChecker that types maps and sets."""

    def set_lit(self: ExprCheckerProtocol, e: ast_expr.SetLit) -> ir.Expr | None:
        elems = [self.check(x) for x in e.elems]
        if any(x is None for x in elems):
            return None
        checked = [x for x in elems if x is not None]
        typ = literal_set_type(checked)
        if typ is None and checked:
            self.rep.error(e.span, "the elements of a set must be bools, members of one enum, or integers of a "
                           "known range (at most 1024 values)")
            return None
        # The empty literal gets its type where it is used (`retype`); until then, any set.
        return ir.SetLit(tuple(checked), typ or SetType(BOOL), e.span)

    def map_lit(self: ExprCheckerProtocol, e: ast_expr.MapLit) -> ir.Expr | None:
        dom = self.domain(e.lo, e.hi, e.var, "map", e.span)
        if dom is None:
            return None
        if dom.guard is not None:
            self.rep.error(e.lo.span, "a map's keys are a range or a finite type, not a set")
            return None
        values = []
        for lit in dom.lits:
            v = self.bound(e.var, lit).check(e.value)
            if v is None:
                return None
            values.append(v)
        vt: Type | None = values[0].type
        for v in values[1:]:
            vt = join(vt, v.type) if vt is not None else None
        if vt is None:
            self.rep.error(e.value.span, "the values of a map must have one type")
            return None
        return ir.MapLit(tuple(values), MapType(dom.key_type, vt), e.span)

    def member(self: ExprCheckerProtocol, e: ast_expr.Binary) -> ir.Expr | None:
        """`x in s`; `x in {A, B}` is `x == A || x == B`."""
        if isinstance(e.right, ast_expr.SetLit):
            out: ir.Expr | None = None
            for x in e.right.elems:
                test = self.check(ast_expr.Binary("==", e.left, x, x.span))
                if test is None:
                    return None
                out = test if out is None else ir.Binary("or", out, test, BOOL, e.span)
            return out if out is not None else ir.Lit(False, BOOL, e.span)
        elem, coll = self.check(e.left), self.check(e.right)
        if elem is None or coll is None:
            return None
        if not isinstance(coll.type, SetType):
            self.rep.error(e.right.span, f"'in' needs a set on its right, not {coll.type}")
            return None
        et = coll.type.elem
        if not (elem.type == et or (isinstance(et, IntType) and isinstance(elem.type, IntType))):
            self.rep.error(e.span, f"type mismatch: a {elem.type} cannot be an element of {coll.type}")
            return None
        v = const_value(elem)
        if v is not None:
            elem = ir.Lit(v, elem.type if not isinstance(elem.type, IntType) else IntType(v, v), elem.span)  # type: ignore[arg-type]
        return ir.Member(elem, coll, BOOL, e.span)

    def set_op(self: ExprCheckerProtocol, e: ast_expr.Binary, left: ir.Expr, right: ir.Expr) -> ir.Expr | None:
        paired = self.same_collection(e.span, left, right, f"'{e.op}'")
        if paired is None:
            return None
        a, b = paired
        assert isinstance(a.type, SetType)
        return ir.SetOp(SET_OPS[e.op], a, b, a.type, e.span)

    def same_collection(self: ExprCheckerProtocol, span: Span, left: ir.Expr, right: ir.Expr,
                        what: str) -> tuple[ir.Expr, ir.Expr] | None:
        """Two sets (or maps) of one type: a literal on one side takes the other side's type."""
        if left.type != right.type:
            left = retype(left, right.type) or left
            right = retype(right, left.type) or right
        if left.type != right.type:
            self.rep.error(span, f"type mismatch: {what} needs two sets of one type, not {left.type} and {right.type}")
            return None
        return left, right

    def card(self: ExprCheckerProtocol, e: ast_expr.Call) -> ir.Expr | None:
        if len(e.args) != 1:
            self.rep.error(e.span, "card takes one set: card(s)")
            return None
        s = self.check(e.args[0])
        if s is None:
            return None
        if not isinstance(s.type, SetType):
            self.rep.error(e.args[0].span, f"card takes a set, not {s.type}")
            return None
        return ir.Card(s, IntType(0, len(s.type.elems())), e.span)

    def map_read(self: ExprCheckerProtocol, base: ir.Expr, index: ast_expr.Expr, span: Span) -> ir.Expr | None:
        """`m[k]`: the key proved to be a key of the map's type (a constant, or by its range)."""
        assert isinstance(base.type, MapType)
        key = self.check(index)
        if key is None:
            return None
        key = self.map_key(base.type, key)
        return None if key is None else ir.MapRead(base, key, base.type.value, span)

    def map_key(self: ExprCheckerProtocol, mt: MapType, key: ir.Expr) -> ir.Expr | None:
        """The key, proved to be a key of `mt`; a constant one as a literal (so that back ends
        see which element it is)."""
        if self.index_values(key, mt.keys(), mt.key, f"a map with keys {mt.key}") is None:
            return None
        v = const_value(key)
        return key if v is None else value_lit(v, mt.key, key.span)


def key_type(t: Type | None) -> str | None:
    """Why `t` cannot key a map or be a set's element (None: it can)."""
    if t is None:
        return None
    values = type_values(t)
    if values is None:
        return f"{t} is not a finite scalar type (bool, an enum or a range LO..HI)"
    if len(values) > MAX_KEYS:
        return f"{t} has {len(values)} values: at most {MAX_KEYS}"
    return None


__all__ = ["CollMixin", "SET_OPS", "key_type", "literal_set_type"]
