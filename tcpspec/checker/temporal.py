"""`temporal NAME: F;` -> `ir.Temporal`: the LTL fragment that a lasso search decides.

A formula is a Boolean combination (`!`, `&&`, `||`, `==>`) of atoms, and every atom applies
`always` / `eventually` to *state predicates* only:

    always P    eventually P    always eventually P    eventually always P
    always (P ==> eventually Q)          (P leads to Q, as `leads_to`'s `P ~> Q`)

That is the fragment whose truth on a lasso depends only on which predicates hold in the prefix
and in the loop (tcpspec.checker.ltl), so a counterexample can be searched for and replayed without an
automaton. Deeper nestings (`always (P ==> eventually always Q)`, `eventually (P && always Q)`)
and bare state predicates (which LTL would read in the initial state only, a common slip for
`eventually (P && Q)` written without parentheses) are refused with a positioned error naming the
fragment.
"""

from __future__ import annotations

import dataclasses

from tcpspec.frontend import ast, ast_expr

from tcpspec.checker import ir
from tcpspec.checker.expr import ExprChecker

TEMPORAL_OPS = ("always", "eventually")
FRAGMENT = ("the supported fragment: `always P`, `eventually P`, `always eventually P`, `eventually always P` "
            "and `always (P ==> eventually Q)` over state predicates P, Q, combined with !, &&, || and ==>")
_CONNECTIVES = {"&&": ir.TemporalOp.AND, "||": ir.TemporalOp.OR, "==>": ir.TemporalOp.IMPLIES}


def temporal_operator(e: object) -> ast_expr.Unary | None:
    """The first `always` / `eventually` inside `e` (itself included), if any."""
    todo = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, ast_expr.Unary) and x.op in TEMPORAL_OPS:
            return x
        if isinstance(x, (list, tuple)):
            todo.extend(reversed(x))
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            todo.extend(reversed([getattr(x, f.name) for f in dataclasses.fields(x) if f.name != "span"]))
    return None


class TemporalChecker:
    """Checks one `temporal` declaration's formula in the scope of `ec` (top level or an instance)."""

    def __init__(self, ec: ExprChecker, decl: ast.Temporal) -> None:
        self.ec = ec
        self.rep = ec.rep
        self.decl = decl

    def check(self) -> ir.Temporal | None:
        f = self.formula(self.decl.formula)
        if f is not None and f.op is ir.TemporalOp.ALWAYS:
            self.rep.error(self.decl.formula.span,
                           f"temporal '{self.decl.name}' is `always P`, a safety property: write "
                           f"`invariant {self.decl.name}: P;` (checked by BMC and the prover on every run, "
                           "not only on runs that loop)")
            return None
        return f

    def formula(self, e: ast_expr.Expr) -> ir.Temporal | None:
        if isinstance(e, ast_expr.Binary) and e.op in _CONNECTIVES and temporal_operator(e) is not None:
            left, right = self.formula(e.left), self.formula(e.right)
            return None if left is None or right is None else ir.Temporal(_CONNECTIVES[e.op], (left, right), span=e.span)
        if isinstance(e, ast_expr.Unary) and e.op == "!" and temporal_operator(e.arg) is not None:
            arg = self.formula(e.arg)
            return None if arg is None else ir.Temporal(ir.TemporalOp.NOT, (arg,), span=e.span)
        if isinstance(e, ast_expr.Unary) and e.op in TEMPORAL_OPS:
            return self._atom(e)
        inner = temporal_operator(e)
        if inner is not None:
            self.rep.error(inner.span, f"'{inner.op}' inside an expression of temporal '{self.decl.name}': "
                           f"outside {FRAGMENT}")
            return None
        self.rep.error(e.span, f"a state predicate outside `always` / `eventually` in temporal '{self.decl.name}': "
                       "LTL would read it in the initial state only; put it inside an operator: `eventually (P && Q)` "
                       "(`always` and `eventually` bind tighter than &&, || and ==>), or `always (P ==> eventually Q)` "
                       "for \"whenever P, eventually Q\"")
        return None

    def _atom(self, e: ast_expr.Unary) -> ir.Temporal | None:
        arg = e.arg
        if isinstance(arg, ast_expr.Unary) and arg.op in TEMPORAL_OPS and arg.op != e.op:
            op = ir.TemporalOp.INFINITELY_OFTEN if e.op == "always" else ir.TemporalOp.PERSISTENT
            return self._predicate_atom(op, arg.arg, e)
        if (e.op == "always" and isinstance(arg, ast_expr.Binary) and arg.op == "==>" and isinstance(arg.right, ast_expr.Unary)
                and arg.right.op == "eventually" and temporal_operator(arg.left) is None):
            pre = self._predicate(arg.left)
            post = self._predicate(arg.right.arg)
            if pre is None or post is None:
                return None
            return ir.Temporal(ir.TemporalOp.LEADS_TO, expr=post, when=pre, span=e.span)
        return self._predicate_atom(ir.TemporalOp.ALWAYS if e.op == "always" else ir.TemporalOp.EVENTUALLY, arg, e)

    def _predicate_atom(self, op: ir.TemporalOp, pred: ast_expr.Expr, atom: ast_expr.Unary) -> ir.Temporal | None:
        expr = self._predicate(pred)
        return None if expr is None else ir.Temporal(op, expr=expr, span=atom.span)

    def _predicate(self, e: ast_expr.Expr) -> ir.Expr | None:
        inner = temporal_operator(e)
        if inner is not None:
            self.rep.error(inner.span, f"'{inner.op}' nested here is outside {FRAGMENT}")
            return None
        return self.ec.check_bool(e, f"the state predicate of temporal '{self.decl.name}'")
