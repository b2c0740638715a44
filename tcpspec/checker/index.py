"""Typing what ranges over a finite set: family members, channel-family members, quantifiers.

Families are expanded by the checker (`rm[0]`, `rm[1]`, ... are ordinary instances), so a constant
index selects one member and nothing downstream knows about families. A *dynamic* index (a
message field, a `choose` parameter) becomes an if-chain over the members its values can select
(`if j == 0 then rm[0].state else if ...`); the checker first proves from declared ranges that
the index cannot leave the family, since a read outside it would have no meaning. Quantifiers
(`forall`, `exists`, `count`) are expanded into one copy of their body per value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace


from tcpspec.frontend import ast_expr

from tcpspec.checker import ir
from tcpspec.checker.const import const_value
from tcpspec.checker.conversions import is_num, join
from tcpspec.checker.domains import ChanRef, Domain, eq, interval, type_values, value_lit
from tcpspec.checker.expr_protocol import Checker, ExprCheckerProtocol
from tcpspec.core.diagnostics import Span
from tcpspec.core.types import BOOL, INT, IntType, SetType, Type, Value

MAX_EXPANDED = 1024  # copies of a quantifier's body, a `for` block or an if-chain over an index


class IndexMixin:
    """The part of ExprChecker that resolves indices, families and quantified names."""

    def over_values(self: ExprCheckerProtocol, idx: ir.Expr, values: list[Value], key: Type, what: str,
                    build: Callable[[Value], ir.Expr | None], span: Span) -> ir.Expr | None:
        """`build(v)` for the value of `idx`: directly when it is constant, else an if-chain over
        the values it may take (all of them in `values`, or an error)."""
        options = self.index_values(idx, values, key, what)
        if options is None:
            return None
        cases = [build(v) for v in options]
        if any(c is None for c in cases):
            return None
        out = cases[-1]
        assert out is not None
        for v, case in zip(reversed(options[:-1]), reversed(cases[:-1])):
            assert case is not None
            typ = join(case.type, out.type)
            if typ is None:
                self.rep.error(span, f"{what}: the members differ in type ({case.type}, {out.type})")
                return None
            out = ir.Ite(eq(idx, value_lit(v, key, span), span), case, out, typ, span)
        return out

    def index_values(self: ExprCheckerProtocol, idx: ir.Expr, values: list[Value], key: Type,
                     what: str) -> list[Value] | None:
        """The values of `values` an index may select: one if it is constant, else every one it
        may take by its declared range, after checking that it cannot take any other value."""
        shown = _domain_text(values)
        v = const_value(idx)
        if v is not None:
            if not any(_same(v, x) for x in values):
                self.rep.error(idx.span, f"{what}: index {_show(v)} is outside {shown}")
                return None
            return [v]
        if isinstance(key, IntType):
            if not isinstance(idx.type, IntType):
                kind = "a number" if is_num(idx.type) else str(idx.type)
                self.rep.error(idx.span, f"{what}: an index into {shown} must be an integer, not {kind}")
                return None
            r = interval(idx)
            ints = [x for x in values if isinstance(x, int)]
            if r is None or r[0] < min(ints) or r[1] > max(ints):
                may = "any integer" if r is None else f"{r[0]}..{r[1]}"
                self.rep.error(idx.span, f"{what}: the index may lie outside {shown} (it may be {may})",
                               "declare it with a type within the range, e.g. a message field `voter: 0..N-1`")
                return None
            picked = [x for x in values if isinstance(x, int) and r[0] <= x <= r[1]]
        else:
            if idx.type != key:
                self.rep.error(idx.span, f"{what}: the index must be a {key}, not {idx.type}")
                return None
            picked = list(values)
        if len(picked) > MAX_EXPANDED:
            self.rep.error(idx.span, f"{what}: the index may take {len(picked)} values: at most "
                           f"{MAX_EXPANDED} (it is expanded into a test per value)")
            return None
        return picked

    # ------------------------------------------------------------ instance families

    def names_family(self: ExprCheckerProtocol, name: str) -> bool:
        return name not in self.scope.local_names() and name in self.scope.env.families

    def member_var(self: ExprCheckerProtocol, fam_name: str, index: ast_expr.Expr, e: ast_expr.FieldAccess) -> ir.Expr | None:
        """`rm[j].state`: a member's variable, or an if-chain over the members j may be."""
        if not self._may_read_instances(e, f"{fam_name}[...].{e.field}"):
            return None
        idx = self.check(index)
        if idx is None:
            return None
        fam = self.scope.env.families[fam_name]
        return self.over_values(idx, list(range(fam.lo, fam.hi + 1)), IntType(fam.lo, fam.hi),
                                f"instance family '{fam_name}'",
                                lambda v: self.instance_var_named(fam.member(int(v)), e), e.span)  # type: ignore[arg-type]

    # ------------------------------------------------------------ channels and channel families

    def chan_ref(self: ExprCheckerProtocol, name: str, index: ast_expr.Expr | None, span: Span,
                 dynamic: bool = True) -> ChanRef | None:
        """A channel as written in `send`, `receive`, `len()` or `ch[i]`: a name, or a family's
        member `to_rm[j]` (with `dynamic` False, j must be constant)."""
        if index is None:
            fam = self.scope.chan_family(name)
            if fam is not None:
                self.rep.error(span, f"'{name}' is a family of channels: name one of them, e.g. "
                               f"'{name}[{fam.lo}]'")
                return None
            chan = self.channel(name, span)
            return None if chan is None else ChanRef(((0, chan),))
        fam = self.scope.chan_family(name)
        if fam is None:
            if self.scope.channel(name) is not None:
                self.rep.error(span, f"channel '{name}' is not a family: it has no members to index")
            elif name not in self.scope.broken and name not in self.scope.env.broken:
                self.channel(name, span)  # reports what the name is
            return None
        idx = self.check(index)
        if idx is None:
            return None
        what = f"channel family '{name}'"
        values = self.index_values(idx, list(range(fam.lo, fam.hi + 1)), IntType(fam.lo, fam.hi), what)
        if values is None:
            return None
        options = tuple((int(v), fam.member(int(v))) for v in values)  # type: ignore[call-overload]
        if len(options) == 1:
            return ChanRef(options)
        if not dynamic:
            self.rep.error(index.span, f"{what}: the index must be constant here (a literal, a constant, a "
                           "parameter of the process or a quantified name)")
            return None
        return ChanRef(options, idx)

    def chan_value(self: ExprCheckerProtocol, base: ast_expr.Expr, span: Span,
                   build: Callable[[ir.Channel], ir.Expr | None]) -> ir.Expr | None:
        """`build(ch)` for the channel `base` names (`c2s`, `to_rm[j]`), an if-chain when the
        index is dynamic; None (reported) if `base` is not a channel."""
        ref = self._chan_of(base, span)
        if ref is None:
            return None
        if ref.single is not None:
            return build(ref.single)
        assert ref.index is not None
        chans = dict(ref.options)
        return self.over_values(ref.index, list(chans), ref.index.type, "a channel family",
                                lambda v: build(chans[int(v)]), span)  # type: ignore[call-overload]

    def _chan_of(self: ExprCheckerProtocol, base: ast_expr.Expr, span: Span) -> ChanRef | None:
        if isinstance(base, ast_expr.Name) and not base.primed:
            return self.chan_ref(base.name, None, base.span)
        if isinstance(base, ast_expr.Index) and isinstance(base.base, ast_expr.Name) and not base.base.primed:
            return self.chan_ref(base.base.name, base.index, base.span)
        self.rep.error(span, "expected a channel: a name, or a family's member such as to_rm[i]")
        return None

    def is_chan_expr(self: ExprCheckerProtocol, base: ast_expr.Expr) -> bool:
        """Whether `base` names a channel or a channel family's member (not a map or a value)."""
        if isinstance(base, ast_expr.Index) and isinstance(base.base, ast_expr.Name):
            return self.scope.chan_family(base.base.name) is not None
        return isinstance(base, ast_expr.Name) and (
            self.scope.channel(base.name) is not None or self.scope.chan_family(base.name) is not None)

    # ------------------------------------------------------------ quantifiers

    def domain(self: ExprCheckerProtocol, lo: ast_expr.Expr, hi: ast_expr.Expr | None, var: str, what: str,
               span: Span) -> Domain | None:
        """The values a quantified name takes: `LO..HI` (constant), every value of a finite
        type named by `lo`, or the elements of a set `lo` (each value then guarded by `in`)."""
        s = self.scope
        if var in s.local_names() or var in s.env.kinds or var in s.env.members:
            self.rep.error(span, f"'{var}' already names something here; choose another name for the {what} variable")
            return None
        guard: ir.Expr | None = None
        if hi is not None:
            a = self.const_int(lo, f"the lower bound of '{what}'")
            b = self.const_int(hi, f"the upper bound of '{what}'")
            if a is None or b is None:
                return None
            count = b - a + 1
            values: list[Value] = list(range(a, b + 1)) if count <= MAX_EXPANDED else []
            typ: Type = IntType(a, b) if a <= b else INT
        else:
            named = self._domain_type(lo)
            if named is None:
                coll = self.check(lo)
                if coll is None:
                    return None
                if not isinstance(coll.type, SetType):
                    self.rep.error(lo.span, "expected a domain: LO..HI, a finite type (bool, an enum, a range) "
                                   f"or a set, not {coll.type}")
                    return None
                named, guard = coll.type.elem, coll
            typ = named
            vals = type_values(typ)
            if vals is None:
                self.rep.error(lo.span, f"'{what}' cannot range over {typ}: expected LO..HI, a finite type "
                               "(bool, an enum, a range) or a set")
                return None
            values, count = vals, len(vals)
        if count > MAX_EXPANDED:
            self.rep.error(span, f"'{what}' over {count} values: at most {MAX_EXPANDED} (it is expanded "
                           "into one copy per value)")
            return None
        return Domain([value_lit(v, typ, span) for v in values], typ, guard)

    def _domain_type(self: ExprCheckerProtocol, e: ast_expr.Expr) -> Type | None:
        """The finite type a domain names (`State`, `bool`, an alias), or None (not a type name)."""
        env = self.scope.env
        if isinstance(e, ast_expr.Name) and not e.primed and e.name not in self.scope.local_names():
            if e.name == "bool":
                return BOOL
            if e.name in env.types:
                return env.types[e.name]
        return None

    def _quantifier(self: ExprCheckerProtocol, e: ast_expr.Quantifier) -> ir.Expr | None:
        """Expanded here: one copy of the body per value, joined by && (forall) or || (exists),
        or summed as 0 / 1 (count); over a set, each copy is guarded by membership."""
        dom = self.domain(e.lo, e.hi, e.var, e.kind, e.span)
        if dom is None:
            return None
        bodies: list[ir.Expr] = []
        for lit in dom.lits:
            inner = self.bound(e.var, lit)
            body = inner.check_bool(e.body, f"the body of '{e.kind}'")
            if body is None:
                return None
            if dom.guard is not None:
                inside = ir.Member(lit, dom.guard, BOOL, e.span)
                op = "implies" if e.kind == "forall" else "and"
                body = ir.Binary(op, inside, body, BOOL, e.span)
            bodies.append(body)
        if e.kind == "count":
            return count_of(bodies, e.span)
        if not bodies:
            return ir.Lit(e.kind == "forall", BOOL, e.span)
        return balanced("and" if e.kind == "forall" else "or", bodies, BOOL, e.span)

    def bound(self: Checker, var: str, value: ir.Lit) -> Checker:
        """A checker for the same scope with `var` bound to a constant (quantifiers, `for`)."""
        s = self.scope
        return type(self)(self.rep, replace(s, values={**s.values, var: value}))


def count_of(bodies: list[ir.Expr], span: Span) -> ir.Expr:
    """How many of `bodies` hold: a sum of `if b then 1 else 0`."""
    one, zero = ir.Lit(1, IntType(1, 1), span), ir.Lit(0, IntType(0, 0), span)
    if not bodies:
        return zero
    return balanced("add", [ir.Ite(b, one, zero, IntType(0, 1), span) for b in bodies], INT, span)


def balanced(op: str, terms: list[ir.Expr], typ: Type, span: Span) -> ir.Expr:
    """`terms` joined by `op` as a balanced tree, not a chain: every later pass recurses on the
    expression, and a chain of 1024 copies is deeper than Python's stack."""
    while len(terms) > 1:
        pairs = [ir.Binary(op, a, b, typ, span) for a, b in zip(terms[::2], terms[1::2])]
        terms = pairs + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


def _same(a: Value, b: Value) -> bool:
    return type(a) is type(b) and a == b


def _show(v: Value) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else str(v)


def _domain_text(values: list[Value]) -> str:
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return f"{values[0]}..{values[-1]}"
    return "{" + ", ".join(_show(v) for v in values) + "}"
