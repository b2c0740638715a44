"""The surface syntax of types, expressions and statements, as written: the parts of a model
that nest. No z3 and no lark; every node has a `span`; names are not resolved yet (see ast.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from tcpspec.core.diagnostics import Span

# ---------------------------------------------------------------- type expressions


@dataclass(frozen=True)
class TypeName:
    """`bool`, `seq32`, `bv8`, or the name of an enum / message / alias."""

    name: str
    span: Span


@dataclass(frozen=True)
class RangeType:
    """`LO..HI` with constant expressions."""

    lo: Expr
    hi: Expr
    span: Span


@dataclass(frozen=True)
class Family:
    """The indices of a family: `[N]` (lo None: 0..N-1) or `[LO..HI]`."""

    lo: Expr | None
    hi: Expr
    span: Span


@dataclass(frozen=True)
class ChanType:
    """`chan M`, or `chan M[N]` for a whole channel family: only in process parameter lists."""

    message: TypeName
    span: Span
    family: Family | None = None


@dataclass(frozen=True)
class MapTypeExpr:
    """`[K] -> V`."""

    key: TypeExpr
    value: TypeExpr
    span: Span


@dataclass(frozen=True)
class SetTypeExpr:
    """`set of T`."""

    elem: TypeExpr
    span: Span


TypeExpr = TypeName | RangeType | ChanType | MapTypeExpr | SetTypeExpr


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class IntLit:
    value: int
    span: Span


@dataclass(frozen=True)
class BoolLit:
    value: bool
    span: Span


@dataclass(frozen=True)
class Name:
    """A bare identifier; `primed` for `x'` (only meaningful in step properties)."""

    name: str
    span: Span
    primed: bool = False


@dataclass(frozen=True)
class FieldAccess:
    """`base.field`; `primed` for `client.state'`."""

    base: Expr
    field: str
    span: Span
    primed: bool = False


@dataclass(frozen=True)
class Unary:
    op: str  # "!", "-", or a temporal operator: "always", "eventually"
    arg: Expr
    span: Span


@dataclass(frozen=True)
class Binary:
    op: str  # + - * == != < <= > >= && || ==> in
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class IfExpr:
    cond: Expr
    then: Expr
    else_: Expr
    span: Span


@dataclass(frozen=True)
class FieldInit:
    name: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class RecordLit:
    """`Segment { syn: true, seq: iss }`."""

    type_name: str
    fields: tuple[FieldInit, ...]
    span: Span


@dataclass(frozen=True)
class Call:
    """A built-in function call, e.g. `len(c2s)`."""

    func: str
    args: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Index:
    """`c2s[i]`: the i-th message from a channel's head (properties and lemmas only)."""

    base: Expr
    index: Expr
    span: Span


@dataclass(frozen=True)
class Quantifier:
    """`forall i in LO..HI: body` / `exists ...` / `count ...`, expanded by the checker.

    With `hi` None, `lo` is the whole domain: a finite type's name (`State`, `bool`) or a set.
    """

    kind: str  # "forall", "exists" or "count"
    var: str
    lo: Expr
    hi: Expr | None
    body: Expr
    span: Span


@dataclass(frozen=True)
class SetLit:
    """`{a, b}` (`{}`: the empty set, its type from where it is used)."""

    elems: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class MapLit:
    """`[k in LO..HI -> e]` (or `[k in T -> e]`): the map whose value at each key k is e."""

    var: str
    lo: Expr
    hi: Expr | None
    value: Expr
    span: Span


Expr = IntLit | BoolLit | Name | FieldAccess | Unary | Binary | IfExpr | RecordLit | Call | Index | Quantifier | SetLit | MapLit


# ---------------------------------------------------------------- statements


@dataclass(frozen=True)
class Assign:
    """`x := e;`, or with `path` an element of a map: `votes[i] := e;` (`m[i][j]`: two keys)."""

    target: str
    target_span: Span
    value: Expr
    span: Span
    path: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class MultiAssign:
    """`a, b := b, a;`: every value is computed before any target changes (simultaneous)."""

    assigns: tuple[Assign, ...]
    span: Span


@dataclass(frozen=True)
class Let:
    """`let x = e;`: `x` is the value of `e` here, for the rest of the block."""

    name: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class Send:
    """`send CH MSG;`; `index` for a family member, `send to_rm[j] MSG;`."""

    channel: str
    channel_span: Span
    message: Expr
    span: Span
    index: Expr | None = None


@dataclass(frozen=True)
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    else_: tuple[Stmt, ...]
    span: Span


@dataclass(frozen=True)
class Skip:
    span: Span


@dataclass(frozen=True)
class For:
    """`for j in LO..HI { ... }` (or over a finite type): the body once per value, in order."""

    var: str
    lo: Expr
    hi: Expr | None  # None: `lo` names the domain, as in Quantifier
    body: tuple[Stmt, ...]
    span: Span


Stmt = Assign | MultiAssign | Let | Send | If | Skip | For
