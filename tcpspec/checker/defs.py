"""`def`s: named, typed expressions, expanded where they are called.

A call is replaced by the def's body, checked again with its parameters bound to the checked
arguments, in the scope where the def was written (a process's def reads that instance's
variables, a top-level def only globals and instances), never in the caller's: a def means the
same wherever it is used. Expansion keeps the `ir` free of calls, so no back end knows about defs,
and a def cannot call itself (there would be no end to the expansion).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from tcpspec.frontend import ast, ast_expr

from tcpspec.checker import ir
from tcpspec.checker.domains import interval
from tcpspec.checker.expr_protocol import ExprCheckerProtocol
from tcpspec.checker.scope import DefSig, Reporter, Scope
from tcpspec.core.diagnostics import Span
from tcpspec.core.types import IntType, Type

BUILTINS = ("len", "card")
TypeResolver = Callable[[ast_expr.TypeExpr], "Type | None"]


class DefMixin:
    """The part of ExprChecker that expands calls of defs."""

    def find_def(self: ExprCheckerProtocol, name: str) -> DefSig | None:
        s = self.scope
        if name in s.defs:
            return s.defs[name]  # type: ignore[return-value]
        return s.env.defs.get(name)  # type: ignore[return-value]

    def call_def(self: ExprCheckerProtocol, sig: DefSig, e: ast_expr.Call) -> ir.Expr | None:
        s = self.scope
        name = sig.decl.name
        if name in s.expanding:
            chain = " -> ".join((*s.expanding[s.expanding.index(name):], name))
            self.rep.error(e.span, f"def '{name}' calls itself ({chain}): defs are expanded where they "
                           "are used, so they cannot be recursive")
            return None
        if len(e.args) != len(sig.params):
            self.rep.error(e.span, f"def '{name}' takes {len(sig.params)} argument"
                           f"{'s' if len(sig.params) != 1 else ''}, not {len(e.args)}")
            return None
        bound: dict[str, ir.Expr] = {}
        ok = True
        for arg, (pname, ptype) in zip(e.args, sig.params):
            value = self.check_as(arg, ptype, f"parameter '{pname}' of def '{name}'")
            if value is None or not self._fits(value, ptype, pname, name):
                ok = False
            elif value is not None:
                bound[pname] = value
        if not ok:
            return None
        body = type(self)(self.rep, self.def_scope(sig, bound, e))
        return body.check_as(sig.decl.body, sig.type, f"the result of def '{name}'")

    def def_scope(self: ExprCheckerProtocol, sig: DefSig, bound: dict[str, ir.Expr], e: ast_expr.Call | None) -> Scope:
        """Where a def's body is read: its own scope (not the caller's), parameters bound."""
        s = self.scope
        expanding = (*s.expanding, sig.decl.name)
        if sig.top_level:
            return Scope(s.env, top_level=True, foreign=True, exprs=bound, expanding=expanding)
        home = s.home if s.home is not None else s
        return replace(home, exprs=bound, expanding=expanding, foreign=True, primes=False,
                       params={}, msgs={}, locals={}, hidden={})

    def _fits(self: ExprCheckerProtocol, value: ir.Expr, ptype: Type, pname: str, name: str) -> bool:
        """An argument for a bounded integer parameter must stay within it: the body may index a
        family or a map with it, and would be checked with the argument's values."""
        if not (isinstance(ptype, IntType) and ptype.bounded and isinstance(value.type, IntType)):
            return True
        r = interval(value)
        assert ptype.lo is not None and ptype.hi is not None
        if r is not None and ptype.lo <= r[0] and r[1] <= ptype.hi:
            return True
        may = "any integer" if r is None else f"{r[0]}..{r[1]}"
        self.rep.error(value.span, f"argument for parameter '{pname}' of def '{name}' may lie outside "
                       f"{ptype} (it may be {may})")
        return False

    def check_def_alone(self: ExprCheckerProtocol, sig: DefSig) -> None:
        """Check a def's body once against its declared parameter types, so that a def nobody
        calls is still checked (its result is thrown away)."""
        placeholders: dict[str, ir.Expr] = {p: ir.Param(f"{sig.decl.name}.{p}", t, sig.decl.span)
                                            for p, t in sig.params}
        body = type(self)(self.rep, self.def_scope(sig, placeholders, None))
        body.check_as(sig.decl.body, sig.type, f"the result of def '{sig.decl.name}'")


def def_signature(rep: Reporter, decl: ast.DefDecl, resolve: TypeResolver, top_level: bool) -> DefSig | None:
    """A def's parameter and result types; None (reported) if one is not a value type."""
    params: list[tuple[str, Type]] = []
    seen: dict[str, Span] = {}
    ok = True
    for p in decl.params:
        if p.name in seen:
            rep.error(p.span, f"parameter '{p.name}' is already defined", f"first defined at {seen[p.name]}")
            ok = False
            continue
        seen[p.name] = p.span
        if isinstance(p.type, ast_expr.ChanType):
            rep.error(p.type.span, f"parameter '{p.name}' of def '{decl.name}' cannot be a channel")
            ok = False
            continue
        t = resolve(p.type)
        if t is None:
            ok = False
        else:
            params.append((p.name, t))
    if isinstance(decl.type, ast_expr.ChanType):
        rep.error(decl.type.span, f"def '{decl.name}' cannot return a channel")
        return None
    ret = resolve(decl.type)
    if ret is None or not ok:
        return None
    return DefSig(decl, tuple(params), ret, top_level)
