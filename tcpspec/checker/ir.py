"""The checked model: names resolved, types known, processes instantiated, constants folded.

This is what every back end reads: the Z3 encoder, the explicit-state interpreter, the
renderers. It has no z3 and no lark. Expressions are typed (`.type`) and carry the span of the
source text they came from. Qualified names are the user's: `client.state`, `c2s`, `client.active_open`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from tcpspec.core.diagnostics import Diagnostic, Span
from tcpspec.core.types import MapType, RecordType, SetType, Type, Value


# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class StateVar:
    """One variable of one instance. `name` is qualified: `client.snd_nxt`."""

    name: str
    instance: str
    local: str
    type: Type
    span: Span


@dataclass(frozen=True)
class Channel:
    """A channel, or a family's member `to_rm[2]` (family "to_rm", index 2)."""

    name: str
    message: RecordType
    capacity: int
    faults: frozenset[str]  # subset of FAULT_KINDS, only the enabled ones
    span: Span
    family: str = ""
    index: int | None = None
    init: tuple[Value, ...] = ()  # messages in flight in every initial state, head first


FAULT_KINDS = ("loss", "duplication", "reordering", "injection")


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Lit:
    """A constant value of `type` (constants are folded into these)."""

    value: Value
    type: Type
    span: Span


@dataclass(frozen=True)
class Var:
    """A state variable; `primed` reads its value after the step (step properties only)."""

    var: StateVar
    primed: bool
    type: Type
    span: Span


@dataclass(frozen=True)
class Param:
    """A `choose` parameter of the transition being taken."""

    name: str
    type: Type
    span: Span


@dataclass(frozen=True)
class Msg:
    """A message bound by `receive m from ch` / `send m to ch`."""

    name: str
    type: RecordType
    span: Span


@dataclass(frozen=True)
class Field:
    base: Expr
    field: str
    type: Type
    span: Span


@dataclass(frozen=True)
class Unary:
    """op: 'not' (bool), 'neg' (int or bit-vector)."""

    op: str
    arg: Expr
    type: Type
    span: Span


@dataclass(frozen=True)
class Binary:
    """A typed operation; operands are already converted so that both sides agree.

    op is one of:
    'add' 'sub' 'mul'            int (exact) or bit-vector (modulo 2^N) arithmetic, by `type`
    'seqdiff'                    seqN - seqN: the signed difference, an int
    'eq' 'ne'                    on any type (records field by field)
    'lt' 'le'                    on ints (numeric), bvN (unsigned) or seqN (serial), by operand type
    'and' 'or' 'implies'         on bools
    """

    op: str
    left: Expr
    right: Expr
    type: Type
    span: Span


@dataclass(frozen=True)
class Convert:
    """An int used as a bvN/seqN (modulo 2^N), or a bit-vector used as an int (its unsigned value)."""

    arg: Expr
    type: Type
    span: Span


@dataclass(frozen=True)
class Ite:
    cond: Expr
    then: Expr
    else_: Expr
    type: Type
    span: Span


@dataclass(frozen=True)
class RecordLit:
    """Every field present (defaults filled in by the checker), in declaration order."""

    fields: tuple[tuple[str, Expr], ...]
    type: RecordType
    span: Span


@dataclass(frozen=True)
class ChanLen:
    channel: Channel
    type: Type
    span: Span


@dataclass(frozen=True)
class ChanSlot:
    """The message `index` places from the channel's head (0: the head). Past the channel's
    length it is the empty message (every field `types.default_value`), as empty slots are stored."""

    channel: Channel
    index: int
    type: RecordType
    span: Span


@dataclass(frozen=True)
class Local:
    """A name bound by `let` (or by a simultaneous assignment) earlier in the same body: the
    value its `Let` computed then. `bound` is that expression, for analyses (ranges) only:
    evaluating it here would read the state as it is now, not as it was."""

    name: str
    type: Type
    span: Span
    bound: "Expr"


@dataclass(frozen=True)
class MapRead:
    """`m[k]`: the value of map `m` at key `k`. The checker proved that `k` is a key of m's type."""

    map: Expr
    key: Expr
    type: Type
    span: Span


@dataclass(frozen=True)
class MapStore:
    """The map `map` with the value at `key` replaced by `value` (`m[k] := v` assigns this to m).
    `value.type` may be a wider int than the map's values: storing outside is a `range_ok`
    violation, as for an assignment."""

    map: Expr
    key: Expr
    value: Expr
    type: MapType
    span: Span


@dataclass(frozen=True)
class MapLit:
    """`[k in K -> e]`: one value per key of `type.key`, in order (the checker expands `e`)."""

    values: tuple[Expr, ...]
    type: MapType
    span: Span


@dataclass(frozen=True)
class SetLit:
    """`{a, b}`: the set of the elements' values (each proved to be an element of `type.elem`)."""

    elems: tuple[Expr, ...]
    type: SetType
    span: Span


@dataclass(frozen=True)
class SetOp:
    """op: 'union' (`s + t`), 'minus' (`s - t`) or 'inter' (`s * t`), on sets of one type."""

    op: str
    left: Expr
    right: Expr
    type: SetType
    span: Span


@dataclass(frozen=True)
class Member:
    """`x in s`: whether the value of `elem` is in set `set`."""

    elem: Expr
    set: Expr
    type: Type
    span: Span


@dataclass(frozen=True)
class Card:
    """`card(s)`: how many elements set `set` has."""

    set: Expr
    type: Type
    span: Span


Expr = (Lit | Var | Param | Msg | Field | Unary | Binary | Convert | Ite | RecordLit | ChanLen | ChanSlot | Local
        | MapRead | MapStore | MapLit | SetLit | SetOp | Member | Card)


# ---------------------------------------------------------------- statements


@dataclass(frozen=True)
class Assign:
    """`target := value`. `value.type` may be wider than `target.type` (an int range);
    storing outside the target's range is a range violation (`range_ok`)."""

    target: StateVar
    value: Expr
    span: Span


@dataclass(frozen=True)
class Send:
    """Fields of `message` that are int ranges are range-checked like assignments."""

    channel: Channel
    message: Expr
    span: Span


@dataclass(frozen=True)
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    else_: tuple[Stmt, ...]
    span: Span


@dataclass(frozen=True)
class Let:
    """`let x = e;`: computes `e` now and names it (`Local(name)`) for the statements after it.
    Names are unique within a transition."""

    name: str
    value: Expr
    span: Span


Stmt = Assign | Send | If | Let


# ---------------------------------------------------------------- transitions


@dataclass(frozen=True)
class Transition:
    """A transition of one instance: `client.active_open`.

    Enabled when `guard` holds (it may read params and the received message), the received
    channel is non-empty, and every send along the taken path finds room.
    """

    name: str
    instance: str
    local: str
    params: tuple[tuple[str, Type], ...]
    receive: tuple[str, Channel] | None  # (binding, channel)
    guard: Expr
    body: tuple[Stmt, ...]
    span: Span
    doc: str = ""


@dataclass(frozen=True)
class NetworkTransition:
    """A fault of a channel: `c2s.loss` etc. Params: `i` (a position) or the injected fields."""

    name: str
    channel: Channel
    kind: str  # one of FAULT_KINDS
    params: tuple[tuple[str, Type], ...]
    span: Span


AnyTransition = Transition | NetworkTransition


# ---------------------------------------------------------------- properties


class PropertyKind(str, Enum):
    INVARIANT = "invariant"
    LEMMA = "lemma"  # a helper invariant the user wrote for the prover: checked like an invariant
    REACHABLE = "reachable"
    STEP = "step"
    EVENTUALLY = "eventually"  # `expr` is the goal; every fair run reaches it
    LEADS_TO = "leads_to"  # `when` is P, `expr` is Q: every P-state is followed by a Q-state
    TEMPORAL = "temporal"  # `formula` is an LTL formula of the fragment of `Temporal`
    DEADLOCK = "deadlock"  # built-in `deadlock_free` (--deadlock): no reachable stuck state


# Properties about infinite runs, checked by lasso-shaped BMC (engines/liveness.py).
LIVENESS_KINDS = (PropertyKind.EVENTUALLY, PropertyKind.LEADS_TO, PropertyKind.TEMPORAL)


class TemporalOp(str, Enum):
    """The atoms and connectives of `temporal` formulas. Every atom applies its operators to
    state predicates only, which is what lets a formula be decided on a lasso by looking at the
    prefix and the loop once (tcpspec.checker.ltl)."""

    ALWAYS = "always"  # `always P`: `expr` in every state
    EVENTUALLY = "eventually"  # `eventually P`: `expr` in some state
    INFINITELY_OFTEN = "always eventually"  # `always eventually P`: `expr` again and again
    PERSISTENT = "eventually always"  # `eventually always P`: from some point on `expr` for ever
    LEADS_TO = "leads to"  # `always (P ==> eventually Q)`: `when` is P, `expr` is Q
    NOT = "!"
    AND = "&&"
    OR = "||"
    IMPLIES = "==>"


@dataclass(frozen=True)
class Temporal:
    """A `temporal` formula: an atom (`expr`, and `when` for LEADS_TO) or a connective over `args`."""

    op: TemporalOp
    args: tuple[Temporal, ...] = ()
    expr: Expr | None = None
    when: Expr | None = None
    span: Span | None = None


@dataclass(frozen=True)
class StepEvent:
    """`receive r from ch` (kind 'receive') or `send m to ch` (kind 'send')."""

    kind: str
    binding: str
    channel: Channel


@dataclass(frozen=True)
class Property:
    """An invariant / reachability target (`expr` over the state) or a step property.

    For step properties: `instance` limits it to that instance's transitions (None: any
    process transition, and network steps too when `events` is empty); `when` and `expr`
    (the `ensure`) read the state before the step, primed variables after it, and the
    bound messages of `events`.
    """

    name: str
    kind: PropertyKind
    expr: Expr
    span: Span
    doc: str = ""
    instance: str | None = None
    events: tuple[StepEvent, ...] = ()
    when: Expr | None = None
    builtin: bool = False  # `range_ok`: added by the checker, not written by the user
    formula: Temporal | None = None  # kind TEMPORAL (its `expr` is then the literal true)

    @property
    def over_states(self) -> bool:
        """An invariant or a lemma: a predicate every reachable state must satisfy."""
        return self.kind in (PropertyKind.INVARIANT, PropertyKind.LEMMA)


@dataclass(frozen=True)
class Final:
    """`final NAME: E;` states where E holds may end a run (not deadlocks).

    Top-level finals (`instance` None) each accept a state on their own; an instance's finals say
    when that instance is done, and accept a state when every such instance is done.
    """

    name: str
    expr: Expr
    span: Span
    instance: str | None = None


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class Instance:
    """`client`, or a family's member `rm[2]` (family "rm", index 2)."""

    name: str
    process: str
    channels: tuple[tuple[str, str], ...] = ()  # (process parameter, channel bound to it); `out[1]` for families
    family: str = ""
    index: int | None = None


@dataclass
class Model:
    """A checked, instantiated model, ready for any back end."""

    path: str
    constants: dict[str, Value]
    instances: list[Instance]
    state_vars: list[StateVar]
    # Initial value per state var, or absent for "any value". Init expressions may read
    # state vars declared earlier (their initial values).
    init: dict[str, Expr]
    channels: list[Channel]
    transitions: list[AnyTransition]
    properties: list[Property]
    sources: dict[str, str] = field(default_factory=dict)
    finals: list[Final] = field(default_factory=list)
    # `eventually` / `leads_to` properties, kept apart from `properties` (which are about states
    # and steps: every safety engine, exporter and search takes those as they are).
    liveness: list[Property] = field(default_factory=list)
    # Fair transitions by name: "weak" (taken if continuously enabled) or "strong" (taken if
    # enabled infinitely often). Only liveness properties read this.
    fairness: dict[str, str] = field(default_factory=dict)
    # `depth` declarations: the default bound of `tcpspec check` per property kind ("": every
    # kind). The command line's --depth overrides them.
    depths: dict[str, int] = field(default_factory=dict)
    # Things worth a look that do not make the model wrong (diagnostics of severity "warning"):
    # the CLI prints them on stderr; they never change a verdict or an exit code.
    warnings: list[Diagnostic] = field(default_factory=list)

    def default_depth(self, kind: PropertyKind) -> int | None:
        """The bound this model declares for properties of `kind`, if any."""
        return self.depths.get(kind.value, self.depths.get(""))

    def var(self, name: str) -> StateVar:
        for v in self.state_vars:
            if v.name == name:
                return v
        raise KeyError(name)

    def channel(self, name: str) -> Channel:
        for c in self.channels:
            if c.name == name:
                return c
        raise KeyError(name)

    def transition(self, name: str) -> AnyTransition:
        for t in self.transitions:
            if t.name == name:
                return t
        raise KeyError(name)

    def property(self, name: str) -> Property:
        for p in self.properties + self.liveness:
            if p.name == name:
                return p
        raise KeyError(name)


# ---------------------------------------------------------------- what an expression reads


def state_reads(e: Expr) -> tuple[str, ...] | None:
    """The state variables and channels `e` reads, sorted; None if it reads anything else (a
    primed variable, a parameter, a message, an expression this walk does not know): what a
    state predicate's value can depend on."""
    names: set[str] = set()
    todo = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, Var) and not x.primed:
            names.add(x.var.name)
        elif isinstance(x, (ChanLen, ChanSlot)):
            names.add(x.channel.name)
        elif isinstance(x, Field):
            todo.append(x.base)
        elif isinstance(x, (Unary, Convert)):
            todo.append(x.arg)
        elif isinstance(x, Binary):
            todo += [x.left, x.right]
        elif isinstance(x, Ite):
            todo += [x.cond, x.then, x.else_]
        elif isinstance(x, RecordLit):
            todo += [f for _, f in x.fields]
        elif not isinstance(x, Lit):
            return None  # a primed variable, a parameter or a message: the whole state
    return tuple(sorted(names))
