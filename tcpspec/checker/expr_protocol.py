"""What the parts of `ExprChecker` may call on one another, as a type.

`ExprChecker` (expr.py) is composed of parts kept in their own modules: collections (coll.py),
defs (defs.py) and indices, families and quantifiers (index.py). Each part's methods call the
others' and the checker's own (`check`, `domain`, `bound`, ...). Typing `self` against this
protocol, rather than against `ExprChecker`, lets the parts sit below expr.py, so that the
composition imports its parts and no part imports the composition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar


from tcpspec.frontend import ast_expr

from tcpspec.checker import ir
from tcpspec.checker.domains import ChanRef, Domain
from tcpspec.checker.scope import DefSig, Reporter, Scope
from tcpspec.core.diagnostics import Span
from tcpspec.core.types import MapType, Type, Value

# `bound` returns a checker of the caller's own class (an ExprChecker for an ExprChecker).
Checker = TypeVar("Checker", bound="ExprCheckerProtocol")


class ExprCheckerProtocol(Protocol):
    """The members of ExprChecker that its parts use through `self`."""

    rep: Reporter
    scope: Scope

    def __init__(self, rep: Reporter, scope: Scope) -> None: ...

    # expr.py
    def check(self, e: ast_expr.Expr) -> ir.Expr | None: ...

    def check_bool(self, e: ast_expr.Expr, what: str) -> ir.Expr | None: ...

    def check_as(self, e: ast_expr.Expr, target: Type, what: str) -> ir.Expr | None: ...

    def const_int(self, e: ast_expr.Expr, what: str) -> int | None: ...

    def channel(self, name: str, span: Span) -> ir.Channel | None: ...

    def instance_var_named(self, inst: str, e: ast_expr.FieldAccess) -> ir.Expr | None: ...

    def _may_read_instances(self, e: ast_expr.Expr, text: str) -> bool: ...

    # index.py
    def over_values(self, idx: ir.Expr, values: list[Value], key: Type, what: str,
                    build: Callable[[Value], ir.Expr | None], span: Span) -> ir.Expr | None: ...

    def index_values(self, idx: ir.Expr, values: list[Value], key: Type, what: str) -> list[Value] | None: ...

    def chan_ref(self, name: str, index: ast_expr.Expr | None, span: Span,
                 dynamic: bool = True) -> ChanRef | None: ...

    def _chan_of(self, base: ast_expr.Expr, span: Span) -> ChanRef | None: ...

    def domain(self, lo: ast_expr.Expr, hi: ast_expr.Expr | None, var: str, what: str, span: Span) -> Domain | None: ...

    def _domain_type(self, e: ast_expr.Expr) -> Type | None: ...

    def bound(self: Checker, var: str, value: ir.Lit) -> Checker: ...

    # coll.py
    def same_collection(self, span: Span, left: ir.Expr, right: ir.Expr,
                        what: str) -> tuple[ir.Expr, ir.Expr] | None: ...

    def map_key(self, mt: MapType, key: ir.Expr) -> ir.Expr | None: ...

    # defs.py
    def def_scope(self, sig: DefSig, bound: dict[str, ir.Expr], e: ast_expr.Call | None) -> Scope: ...

    def _fits(self, value: ir.Expr, ptype: Type, pname: str, name: str) -> bool: ...
