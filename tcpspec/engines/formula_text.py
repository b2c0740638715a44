"""Z3 formulas over the state (Spacer's invariants) in readable model syntax, for certificates.

Spacer speaks the solver's language, not the model's: under the integer theory a `seqN` is its
unsigned value 0..2^N-1 and `a - b` is not wrapped; enum values are their ordinals. So the text
names every state term as the model does (`client.snd_nxt`, `c2s[0].seq`, `len(c2s)`), prints
`e == 4` as `e == ESTABLISHED` when e is an enum, and `ord(e)` where an enum is compared by
order. Anything else is printed as its SMT-LIB s-expression in backquotes: the text is for
people; the re-check (certificate.recheck) runs on the formula itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from tcpspec.core.types import EnumType


@dataclass(frozen=True)
class Leaf:
    """One constant of a state copy, and what the model calls it."""

    term: z3.ExprRef
    label: str


_CMP = {z3.Z3_OP_LE: "<=", z3.Z3_OP_LT: "<", z3.Z3_OP_GE: ">=", z3.Z3_OP_GT: ">",
        z3.Z3_OP_ULEQ: "<=", z3.Z3_OP_ULT: "<", z3.Z3_OP_UGEQ: ">=", z3.Z3_OP_UGT: ">",
        z3.Z3_OP_SLEQ: "<=s", z3.Z3_OP_SLT: "<s", z3.Z3_OP_SGEQ: ">=s", z3.Z3_OP_SGT: ">s"}
_ARITH = {z3.Z3_OP_ADD: "+", z3.Z3_OP_BADD: "+", z3.Z3_OP_SUB: "-", z3.Z3_OP_BSUB: "-",
          z3.Z3_OP_MUL: "*", z3.Z3_OP_BMUL: "*"}
_BOOL_PREC, _CMP_PREC, _SUM_PREC, _MUL_PREC, _ATOM = 1, 4, 5, 6, 9


class _Printer:
    def __init__(self, leaves: list[Leaf], types: dict[str, object]):
        self.names = {leaf.term.get_id(): leaf.label for leaf in leaves}
        self.types = types

    def enum_of(self, e: z3.ExprRef) -> EnumType | None:
        label = self.names.get(_strip_ext(e).get_id())
        t = self.types.get(label) if label is not None else None
        return t if isinstance(t, EnumType) else None

    def show(self, e: z3.ExprRef, outer: int = 0) -> str:
        s, prec = self._show(e)
        return f"({s})" if prec < outer else s

    def _show(self, e: z3.ExprRef) -> tuple[str, int]:
        if e.get_id() in self.names:
            return self.names[e.get_id()], _ATOM
        if z3.is_true(e):
            return "true", _ATOM
        if z3.is_false(e):
            return "false", _ATOM
        if z3.is_int_value(e) or z3.is_bv_value(e):
            return str(e.as_long()), _ATOM  # type: ignore[attr-defined]
        if not z3.is_app(e):
            return f"`{e.sexpr()}`", _ATOM
        k = e.decl().kind()
        args = e.children()
        if k in (z3.Z3_OP_ZERO_EXT, z3.Z3_OP_SIGN_EXT) or (k == z3.Z3_OP_CONCAT and _is_zero(args[0])):
            return self._show(args[-1])
        if k == z3.Z3_OP_NOT:
            return "!" + self.show(args[0], _ATOM), _ATOM
        if k in (z3.Z3_OP_AND, z3.Z3_OP_OR):
            op = " && " if k == z3.Z3_OP_AND else " || "
            prec = 3 if k == z3.Z3_OP_AND else 2
            return op.join(self.show(a, prec + 1) for a in args), prec
        if k == z3.Z3_OP_IMPLIES:
            return f"{self.show(args[0], 2)} ==> {self.show(args[1], 1)}", _BOOL_PREC
        if k in (z3.Z3_OP_EQ, z3.Z3_OP_DISTINCT) and len(args) == 2:
            return self._equality(args[0], args[1], "==" if k == z3.Z3_OP_EQ else "!="), _CMP_PREC
        if k in _CMP:
            return f"{self._operand(args[0])} {_CMP[k]} {self._operand(args[1])}", _CMP_PREC
        if k in (z3.Z3_OP_ADD, z3.Z3_OP_BADD):
            return self._sum(args), _SUM_PREC
        if k in _ARITH:
            prec = _MUL_PREC if k in (z3.Z3_OP_MUL, z3.Z3_OP_BMUL) else _SUM_PREC
            return f" {_ARITH[k]} ".join(self.show(a, prec + 1) for a in args), prec
        if k == z3.Z3_OP_UMINUS:
            return "-" + self.show(args[0], _ATOM), _ATOM
        if k == z3.Z3_OP_ITE:
            return f"if {self.show(args[0])} then {self.show(args[1])} else {self.show(args[2])}", _BOOL_PREC
        return f"`{e.sexpr()}`", _ATOM

    def _operand(self, e: z3.ExprRef) -> str:
        return f"ord({self.show(e)})" if self.enum_of(e) is not None else self.show(e, _SUM_PREC)

    def _equality(self, a: z3.ExprRef, b: z3.ExprRef, op: str) -> str:
        for x, y in ((a, b), (b, a)):
            t = self.enum_of(x)
            if t is not None and (z3.is_int_value(y) or z3.is_bv_value(y)):
                n = y.as_long()  # type: ignore[attr-defined]
                member = t.members[n] if 0 <= n < len(t.members) else str(n)
                return f"{self.show(x)} {op} {member}"
        return f"{self.show(a, _SUM_PREC)} {op} {self.show(b, _SUM_PREC)}"

    def _sum(self, args: list[z3.ExprRef]) -> str:
        """`a + -1*b` as `a - b`."""
        out = self.show(args[0], _SUM_PREC)
        for a in args[1:]:
            neg = _negated(a)
            if neg is not None:
                out += f" - {self.show(neg, _MUL_PREC)}"
            else:
                out += f" + {self.show(a, _SUM_PREC + 1)}"
        return out


def _is_zero(e: z3.ExprRef) -> bool:
    return z3.is_bv_value(e) and e.as_long() == 0  # type: ignore[attr-defined]


def _strip_ext(e: z3.ExprRef) -> z3.ExprRef:
    while z3.is_app(e) and (
        e.decl().kind() in (z3.Z3_OP_ZERO_EXT, z3.Z3_OP_SIGN_EXT)
        or (e.decl().kind() == z3.Z3_OP_CONCAT and len(e.children()) == 2 and _is_zero(e.children()[0]))
    ):
        e = e.children()[-1]
    return e


def _negated(e: z3.ExprRef) -> z3.ExprRef | None:
    """x for `-1*x`, else None."""
    if z3.is_app(e) and e.decl().kind() == z3.Z3_OP_MUL and len(e.children()) == 2:
        c, x = e.children()
        if z3.is_int_value(c) and c.as_long() == -1:  # type: ignore[attr-defined]
            return x
    return None


def show_formula(e: z3.ExprRef, leaves: list[Leaf], types: dict[str, object]) -> str:
    """`e`, a formula over the constants of `leaves`, in model syntax."""
    return _Printer(leaves, types).show(e)
