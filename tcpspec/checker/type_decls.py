"""Declared types resolved to `core.types` (aliases, messages with their defaults, ranges, bit
widths, maps and sets), and the constant expressions they are built from (a family's indices
among them).

Every later part of the model's check names types and folds constants (channel capacities,
family bounds, depths), so this is the base the model checker (check.py) and its channel
declarations (channel_decls.py) are built on.
"""

from __future__ import annotations

import re

from tcpspec.frontend import ast, ast_expr

from tcpspec.checker import ir
from tcpspec.checker.coll import key_type
from tcpspec.checker.const import const_value
from tcpspec.checker.expr import INT_LIMIT, ExprChecker
from tcpspec.checker.scope import Env, Reporter, Scope, suggest
from tcpspec.core.diagnostics import Span
from tcpspec.core.types import BOOL, INT, BitVecType, IntType, MapType, RecordType, SetType, Type, Value

BITVEC_RE = re.compile(r"(bv|seq)([0-9]+)")


class TypeDecls:
    """The part of the model checker that resolves types and folds constant expressions."""

    rep: Reporter
    env: Env
    decls: list[ast.Decl]
    pending: dict[str, ast.TypeAlias | ast.MessageDecl]
    resolving: set[str]

    # ------------------------------------------------------------ types

    def _types(self) -> None:
        for decl in self.decls:
            if isinstance(decl, (ast.TypeAlias, ast.MessageDecl)):
                self.pending[decl.name] = decl
        for name in list(self.pending):
            self._named_type(name, self.env.spans[name])

    def resolve_type(self, texpr: ast_expr.TypeExpr) -> Type | None:
        """A type expression's type, or None after reporting why not (channels: see callers)."""
        if isinstance(texpr, ast_expr.RangeType):
            return self._range(texpr)
        if isinstance(texpr, ast_expr.ChanType):
            self.rep.error(texpr.span, "a channel type is only allowed for process parameters")
            return None
        if isinstance(texpr, ast_expr.TypeName):
            return self._type_name(texpr.name, texpr.span)
        if isinstance(texpr, ast_expr.MapTypeExpr):
            return self._map_type(texpr)
        if isinstance(texpr, ast_expr.SetTypeExpr):
            elem = self.resolve_type(texpr.elem)
            problem = key_type(elem)
            if problem is not None:
                self.rep.error(texpr.elem.span, f"a set's elements: {problem}")
                return None
            return None if elem is None else SetType(elem)
        self.rep.error(getattr(texpr, "span", None), "not a type")
        return None

    def _map_type(self, texpr: ast_expr.MapTypeExpr) -> Type | None:
        key = self.resolve_type(texpr.key)
        value = None if isinstance(texpr.value, ast_expr.ChanType) else self.resolve_type(texpr.value)
        if isinstance(texpr.value, ast_expr.ChanType):
            self.rep.error(texpr.value.span, "a map's values cannot be channels (a family of channels is "
                           "'channel c[N]: M[CAP]')")
        problem = key_type(key)
        if problem is not None:
            self.rep.error(texpr.key.span, f"a map's keys: {problem}")
            return None
        if key is None or value is None:
            return None
        return MapType(key, value)

    def _type_name(self, name: str, span: Span) -> Type | None:
        if name == "bool":
            return BOOL
        match = BITVEC_RE.fullmatch(name)
        if match and name not in self.env.kinds:
            return self._bitvec(match.group(1), int(match.group(2)), span)
        return self._named_type(name, span)

    def _bitvec(self, kind: str, width: int, span: Span) -> Type | None:
        low = 2 if kind == "seq" else 1
        if not low <= width <= 64:
            self.rep.error(span, f"{kind}{width}: the width of {kind}N must lie within {low}..64")
            return None
        return BitVecType(width, serial=kind == "seq")

    def _named_type(self, name: str, span: Span) -> Type | None:
        env = self.env
        if name in env.types:
            return env.types[name]
        if name in env.broken:
            return None
        if name in self.pending:
            return self._resolve_pending(name, span)
        if name in env.kinds:
            self.rep.error(span, f"'{name}' is a {env.kinds[name]}, not a type")
        else:
            hint = " (integers are ranges: LO..HI)" if name == "int" else suggest(name, self._type_names())
            self.rep.error(span, f"unknown type '{name}'{hint}")
        return None

    def _type_names(self) -> set[str]:
        kinds = ("enum type", "message type", "type alias")
        return {n for n, k in self.env.kinds.items() if k in kinds} | {"bool", "seq32", "bv8"}

    def _resolve_pending(self, name: str, span: Span) -> Type | None:
        if name in self.resolving:
            self.rep.error(span, f"type '{name}' is defined in terms of itself")
            self.env.broken.add(name)
            return None
        self.resolving.add(name)
        decl = self.pending[name]
        typ = self._message(decl) if isinstance(decl, ast.MessageDecl) else self.resolve_type(decl.type)
        self.resolving.discard(name)
        if typ is None:
            self.env.broken.add(name)
        elif name not in self.env.broken:
            self.env.types[name] = typ
        return self.env.types.get(name)

    def _range(self, texpr: ast_expr.RangeType) -> Type | None:
        lo = self.const_int(texpr.lo, "a range bound")
        hi = self.const_int(texpr.hi, "a range bound")
        if lo is None or hi is None:
            return None
        if lo > hi:
            self.rep.error(texpr.span, f"empty range {lo}..{hi}: the low bound exceeds the high bound")
            return None
        return IntType(lo, hi)

    def _message(self, decl: ast.MessageDecl) -> RecordType | None:
        fields: list[tuple[str, Type]] = []
        defaults: dict[str, ir.Expr] = {}
        seen: dict[str, Span] = {}
        ok = True
        for fd in decl.fields:
            if fd.name in seen:
                self.rep.error(fd.span, f"field '{fd.name}' is already defined", f"first defined at {seen[fd.name]}")
                ok = False
                continue
            seen[fd.name] = fd.span
            ftype = self.resolve_type(fd.type)
            if ftype is not None and has_record(ftype):
                self.rep.error(fd.span, f"message field '{fd.name}' cannot be or hold a message ({ftype})")
                ftype = None
            if ftype is None:
                ok = False
                continue
            fields.append((fd.name, ftype))
            if fd.default is not None:
                default = self._default(fd, ftype)
                ok = ok and default is not None
                if default is not None:
                    defaults[fd.name] = default
        if not ok:
            return None
        self.env.defaults[decl.name] = defaults
        return RecordType(decl.name, tuple(fields))

    def _default(self, fd: ast.FieldDecl, ftype: Type) -> ir.Expr | None:
        """A field default: a constant of the field's type, folded to a literal."""
        assert fd.default is not None
        out = ExprChecker(self.rep, Scope(self.env)).check_as(fd.default, ftype, f"field '{fd.name}'")
        if out is None:
            return None
        value = const_value(out)
        if value is None:
            self.rep.error(fd.default.span, f"the default of field '{fd.name}' must be a constant expression")
            return None
        if not in_range(ftype, value):
            self.rep.error(fd.default.span, f"default {value} is out of range {ftype} of field '{fd.name}'")
            return None
        return ir.Lit(value, ftype, fd.default.span)

    # ------------------------------------------------------------ constant expressions

    def const_expr(self, e: ast_expr.Expr, want: Type, what: str) -> Value | None:
        """A closed expression of kind `want` (BOOL or INT) evaluated now, or None (reported)."""
        out = ExprChecker(self.rep, Scope(self.env)).check(e)
        if out is None:
            return None
        if (want == BOOL) != (out.type == BOOL) or (want != BOOL and not isinstance(out.type, IntType)):
            self.rep.error(e.span, f"{what} must be {'a bool' if want == BOOL else 'an int'}, not {out.type}")
            return None
        value = const_value(out)
        if value is None:
            self.rep.error(e.span, f"{what} must be a constant expression")
        return value

    def const_int(self, e: ast_expr.Expr, what: str) -> int | None:
        value = self.const_expr(e, INT, what)
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            return None
        if not -INT_LIMIT <= value <= INT_LIMIT:
            self.rep.error(e.span, f"{what} = {value} is out of range (must lie within ±2^62)")
            return None
        return value


def has_record(t: Type) -> bool:
    """Whether a type is or holds a message (a message may not: its fields are flat)."""
    if isinstance(t, RecordType):
        return True
    return isinstance(t, MapType) and has_record(t.value)


def in_range(typ: Type, value: Value) -> bool:
    """Whether a folded value fits a bounded int type (other types always fit)."""
    if isinstance(typ, IntType) and typ.bounded and isinstance(value, int):
        assert typ.lo is not None and typ.hi is not None
        return typ.lo <= value <= typ.hi
    return True


def family_bounds(rep: Reporter, env: Env, fam: ast_expr.Family) -> tuple[int, int] | None:
    """A family's indices: `[N]` is 0..N-1, `[LO..HI]` as written; None (reported) if empty."""
    ec = ExprChecker(rep, Scope(env))
    if fam.lo is None:
        size = ec.const_int(fam.hi, "a family's size")
        if size is None:
            return None
        if size < 1:
            rep.error(fam.hi.span, f"a family needs at least one member, not {size}")
            return None
        lo, hi = 0, size - 1
    else:
        a, b = ec.const_int(fam.lo, "a family's lower bound"), ec.const_int(fam.hi, "a family's upper bound")
        if a is None or b is None:
            return None
        if a > b:
            rep.error(fam.span, f"empty family {a}..{b}: the low bound exceeds the high bound")
            return None
        lo, hi = a, b
    if hi - lo + 1 > 1024:
        rep.error(fam.span, f"a family of {hi - lo + 1} members: at most 1024")
        return None
    return lo, hi
