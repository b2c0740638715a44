"""The surface syntax of a model, as written: what the parser builds and the checker reads.
Declarations and the program live here; types, expressions and statements in ast_expr.py.

No z3 and no lark here. Every node has a `span`. Names are not resolved yet: `client.state`,
`seg.seq` and `Segment` are all just `Name`s / `FieldAccess`es until the checker looks at them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tcpspec.core.diagnostics import Span
from tcpspec.frontend.ast_expr import (
    Expr,
    Family,
    Stmt,
    TypeExpr,
    TypeName,
)



# ---------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Param:
    """A name with a type: process parameters and `choose` parameters."""

    name: str
    type: TypeExpr
    span: Span


@dataclass(frozen=True)
class Receive:
    """`receive m from ch` (in a transition header or a step property's `on` list);
    `index` for a family member, `receive m from to_rm[i]`."""

    binding: str
    channel: str
    span: Span
    index: Expr | None = None
    any_var: str | None = None  # `receive m from to_rm[any j]`: from any member, j its index


@dataclass(frozen=True)
class SendEvent:
    """`send m to ch` in a step property's `on` list."""

    binding: str
    channel: str
    span: Span
    index: Expr | None = None


@dataclass(frozen=True)
class Transition:
    name: str
    choose: tuple[Param, ...]
    receive: Receive | None
    guard: Expr | None
    body: tuple[Stmt, ...]
    span: Span
    doc: str = ""
    fair: str = ""  # "" (no fairness), "weak" (`fair transition`) or "strong" (`strong fair transition`)


@dataclass(frozen=True)
class VarDecl:
    name: str
    type: TypeExpr
    init: Expr | None  # None: any value of the type
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class Invariant:
    """`invariant`, or `lemma` (a helper invariant: checked like one, reported as a lemma)."""

    name: str
    expr: Expr
    span: Span
    doc: str = ""
    lemma: bool = False


@dataclass(frozen=True)
class Reachable:
    name: str
    expr: Expr
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class StepProperty:
    name: str
    events: tuple[Receive | SendEvent, ...]
    when: Expr | None
    ensure: Expr
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class Eventually:
    """`eventually NAME: E;` every fair run from an initial state reaches a state where E holds."""

    name: str
    expr: Expr
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class LeadsTo:
    """`leads_to NAME: P ~> Q;` on every fair run, every state where P holds is followed by
    (or is) a state where Q holds."""

    name: str
    pre: Expr
    post: Expr
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class Temporal:
    """`temporal NAME: F;` every fair run satisfies the LTL formula F (`always`, `eventually`
    over state predicates, combined with `!`, `&&`, `||`, `==>`; checker_temporal.py says which
    nestings are accepted)."""

    name: str
    formula: Expr
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class Final:
    """`final NAME: E;` a state where E holds may have no successor (not a deadlock)."""

    name: str
    expr: Expr
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class FairTarget:
    """`client.timeout`, `c2s`, `c2s.loss`, `client`, `rm[0].vote`, `rm.vote`, `rm`, `to_rm`."""

    base: str
    index: Expr | None
    member: str | None
    span: Span

    @property
    def text(self) -> str:
        return self.base + ("[...]" if self.index is not None else "") + (f".{self.member}" if self.member else "")


@dataclass(frozen=True)
class FairDecl:
    """`[strong] fair a, b.c;` the named transitions, channels' receivers or instances are fair."""

    strength: str  # "weak" | "strong"
    targets: tuple[FairTarget, ...]
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class DepthDecl:
    """`depth N [for KIND, ...];` the default bound of `tcpspec check` on this model, for every
    property or only for the kinds named (`--depth` overrides it)."""

    value: Expr
    kinds: tuple[str, ...]  # empty: every kind
    span: Span
    doc: str = ""


Property = Invariant | Reachable | StepProperty | Eventually | LeadsTo | Temporal


@dataclass(frozen=True)
class ProcessDecl:
    name: str
    params: tuple[Param, ...]
    vars: tuple[VarDecl, ...]
    transitions: tuple[Transition, ...]
    properties: tuple[Property, ...]
    span: Span
    doc: str = ""
    finals: tuple[Final, ...] = ()
    defs: tuple[DefDecl, ...] = ()


@dataclass(frozen=True)
class DefDecl:
    """`def name(p: T, ...): R = body;` a named expression, expanded where it is used."""

    name: str
    params: tuple[Param, ...]
    type: TypeExpr
    body: Expr
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class ConstDecl:
    name: str
    value: Expr
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class EnumDecl:
    name: str
    members: tuple[str, ...]
    member_spans: tuple[Span, ...]
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class FieldDecl:
    name: str
    type: TypeExpr
    default: Expr | None
    span: Span


@dataclass(frozen=True)
class MessageDecl:
    name: str
    fields: tuple[FieldDecl, ...]
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class TypeAlias:
    name: str
    type: TypeExpr
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class Fault:
    """`loss`, `duplication`, `reordering` or `injection`, switched by a constant bool."""

    kind: str
    enabled: Expr | None  # None: a bare fault name, meaning true
    span: Span


@dataclass(frozen=True)
class InitChoice:
    """`= if COND then [...] else [...]`: a family member's initial messages by its index."""

    cond: Expr
    then: tuple[Expr, ...]
    else_: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class ChannelDecl:
    name: str
    message: TypeName
    capacity: Expr
    faults: tuple[Fault, ...]
    span: Span
    doc: str = ""
    family: Family | Binder | None = None  # `channel to_rm[N]: ...` / `channel c[i in 0..N-1]: ...`
    init: tuple[Expr, ...] | InitChoice | None = None  # `= [m1, m2]`: messages in flight at the start


@dataclass(frozen=True)
class Arg:
    name: str
    value: Expr
    span: Span


@dataclass(frozen=True)
class Binder:
    """`[i in LO..HI]` after a family's name."""

    var: str
    lo: Expr
    hi: Expr
    span: Span


@dataclass(frozen=True)
class InstanceDecl:
    name: str
    process: str
    process_span: Span
    args: tuple[Arg, ...]
    span: Span
    doc: str = ""
    family: Binder | None = None  # `instance rm[i in 0..N-1] = ...`


@dataclass(frozen=True)
class Import:
    path: str
    span: Span


Decl = (
    ConstDecl
    | EnumDecl
    | MessageDecl
    | TypeAlias
    | ChannelDecl
    | ProcessDecl
    | InstanceDecl
    | Invariant
    | Reachable
    | StepProperty
    | Eventually
    | LeadsTo
    | Final
    | FairDecl
    | DepthDecl
    | DefDecl
)


@dataclass(frozen=True)
class Replace:
    """`replace DECL` in a variant: DECL takes the place of the base's item of its kind and name
    (a process's member is named `Process.member`; a `fair` declaration by its targets)."""

    decl: Decl | VarDecl | Transition
    span: Span


@dataclass(frozen=True)
class Drop:
    """`drop transition Endpoint.close;` (or `drop fair a, b;`, with `fair` set) in a variant."""

    kind: str  # "transition", "invariant", "lemma", ..., "def", or "fair"
    name: str  # "Process.member" or a top-level name; for "fair", the targets as written
    span: Span
    fair: FairDecl | None = None


VariantItem = Replace | Drop | Decl | VarDecl | Transition


@dataclass(frozen=True)
class Variant:
    """`variant of "BASE" { ... }`: the base model with these items replaced, dropped or added."""

    base: str  # as written: relative to the variant's own file
    base_span: Span
    items: tuple[VariantItem, ...]
    span: Span


@dataclass(frozen=True)
class ModelFile:
    """One parsed file: its imports (unresolved) and its declarations in source order; a variant
    file has its `variant` block instead of declarations (resolved by `load_program`)."""

    path: str
    imports: tuple[Import, ...]
    decls: tuple[Decl, ...]
    variant: Variant | None = None


@dataclass
class Program:
    """A model file with all its imports, each file once; `sources` keeps the texts for errors."""

    root: str
    files: list[ModelFile] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
