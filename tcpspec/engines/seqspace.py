"""Data independence of sequence numbers: when one ISN per sequence space stands for all 2^N.

Wolper's data independence, in the form RFC 1982 arithmetic allows: if the values of a `seqN`
*sequence space* are only copied, compared (serially or for equality, with values of the same
space), subtracted from each other (`seqdiff`) and shifted by numbers that do not come from a
sequence space (constants, lengths), then adding one offset d to every value of the space maps
runs to runs: every guard, every property and every choice reads the same, and the serial order
of two values of the space does not change when both move by d. So the runs from ISN x are the
runs from ISN 0 moved by x, and a search from ISN 0 answers for every ISN.

A *space* is a class of a union-find over positions: state variables (and their record fields),
channel message fields (per channel, not per message type: `c2s.seq` and `s2c.seq` are different
positions), `choose` parameters and the injected fields of a channel. Two positions are joined
when a value flows from one to the other (assignment, send, initial value, `if`/`else` branches)
or when they are compared or subtracted. A space is *independent* when nothing breaks the
argument above:

- an operation that is not shift-invariant on one of its values: `+` of two sequence numbers,
  a number minus a sequence number, negation, multiplication, the unsigned value (`seqN` used as
  an int);
- a number computed outside the space (not a plain constant) stored into it or compared with it;
- a free input of the space (a `choose` parameter, an injected field) that the search does not
  enumerate over its whole type (then the shifted run would need an input the search lacks).

A constant stored into the space (a message field's default `ackno: 0`) would break it too: it
does not move with the space. Such a constant becomes an `interp.Opaque` in the searched model,
and so do the free initial values of the space other than the one fixed at 0 (TCP's IRS and
RCV.NXT before the peer's SYN): the argument holds as long as nobody looks at them, and the
interpreter raises `OpaqueRead` if a run does. A guard or property that reads one only where
the result cannot depend on it (`... && seg.ack` for a segment without ACK) is decided in
Kleene's three-valued logic by the search (engines/explicit_eval.py); anything else that looks
at an opaque value stops the search, which then starts again without that assumption. So the
static analysis decides which spaces may be independent, and the search checks, on every state
it visits, the one thing a static analysis cannot see here: that the opaque values are dead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Union

from tcpspec.checker import ir
from tcpspec.interp.values import Opaque
from tcpspec.core.types import BOOL, BitVecType, IntType, RecordType, Type, default_value

Key = tuple[str, ...]


def is_seq(t: Type) -> bool:
    return isinstance(t, BitVecType) and t.serial


def has_seq(t: Type) -> bool:
    if isinstance(t, RecordType):
        return any(has_seq(ft) for _, ft in t.fields)
    return is_seq(t)


# ---------------------------------------------------------------- what an expression is


@dataclass(frozen=True)
class _Rel:
    """A value of the space of `key` (it moves with the space's offset)."""

    key: Key


@dataclass(frozen=True)
class _Abs:
    """A sequence number that does not move with any space: a constant (`lit` names its node,
    so that it can be made opaque), or a computed number (`lit` None: `why` says which)."""

    lit: Key | None
    why: str


@dataclass(frozen=True)
class _Rec:
    """A record: its sequence-number fields (other fields are not tracked)."""

    fields: dict[str, "Cls"]


Cls = Union[_Rel, _Abs, _Rec, None]  # None: not a sequence number (bool, enum, int, bvN)


class Unsupported(Exception):
    """The model uses a construct the analysis does not know: no space is independent."""


# ---------------------------------------------------------------- the union-find


class _Spaces:
    def __init__(self) -> None:
        self.parent: dict[Key, Key] = {}
        self.bad: dict[Key, str] = {}  # root -> why the space is not independent
        self.free: dict[Key, list[Key]] = {}  # root -> free inputs (params, injected fields)

    def find(self, k: Key) -> Key:
        self.parent.setdefault(k, k)
        root = k
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[k] != root:
            self.parent[k], k = root, self.parent[k]
        return root

    def union(self, a: Key, b: Key) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        self.parent[rb] = ra
        if rb in self.bad:
            self.bad.setdefault(ra, self.bad.pop(rb))
        self.free.setdefault(ra, []).extend(self.free.pop(rb, []))

    def spoil(self, k: Key, why: str) -> None:
        self.bad.setdefault(self.find(k), why)


def _describe(k: Key) -> str:
    """A position as the user writes it: `client.snd_nxt`, `c2s.seq`, `client.send_data.n`."""
    kind, *rest = k
    if kind == "lit":
        return f"the constant at {rest[1]}"
    return ".".join(rest)


# ---------------------------------------------------------------- the walk


class _Walker:
    """One pass over every expression and statement of the model, in a fixed order.

    The first pass (`resolve` None) builds the union-find; the second, with `resolve` telling
    which constants to make opaque, rebuilds the model. Constants are numbered in the order they
    are met, which is the same in both passes: so the second pass knows which space each
    occurrence of a constant flowed into, even when the checker shares one `Lit` object between
    several places (a message field's default)."""

    def __init__(self, model: ir.Model, uf: _Spaces, resolve: Callable[[Key, ir.Lit], ir.Expr] | None = None,
                 slot_default: Callable[[ir.ChanSlot], ir.Expr | None] | None = None) -> None:
        self.model, self.uf, self.resolve, self.slot_default = model, uf, resolve, slot_default
        self.lits = 0
        self.msgs: dict[str, ir.Channel] = {}  # message bindings in scope
        self.transition: ir.AnyTransition | None = None

    # -------------------------------------------------- flows

    def flow(self, a: Cls, b: Cls, where: str) -> None:
        """Values `a` and `b` meet (one is stored into the other's place, or they are compared)."""
        if isinstance(a, _Rec) and isinstance(b, _Rec):
            for name, fa in a.fields.items():
                if name in b.fields:
                    self.flow(fa, b.fields[name], where)
            return
        ka = self._node(a)
        kb = self._node(b)
        if ka is not None and kb is not None:
            self.uf.union(ka, kb)
        elif ka is not None and isinstance(b, _Abs):
            self.uf.spoil(ka, f"{b.why} meets {where}")
        elif kb is not None and isinstance(a, _Abs):
            self.uf.spoil(kb, f"{a.why} meets {where}")

    @staticmethod
    def _node(c: Cls) -> Key | None:
        if isinstance(c, _Rel):
            return c.key
        if isinstance(c, _Abs):
            return c.lit
        return None

    def spoil(self, c: Cls, why: str) -> None:
        if isinstance(c, _Rec):
            for f in c.fields.values():
                self.spoil(f, why)
        elif isinstance(c, (_Rel, _Abs)) and self._node(c) is not None:
            self.uf.spoil(self._node(c), why)  # type: ignore[arg-type]

    # -------------------------------------------------- positions

    def position(self, key: Key, t: Type) -> Cls:
        if isinstance(t, RecordType):
            return _Rec({name: self.position(key + (name,), ft) for name, ft in t.fields if has_seq(ft)})
        return _Rel(key) if is_seq(t) else None

    # -------------------------------------------------- expressions

    def expr(self, e: ir.Expr) -> tuple[Cls, ir.Expr]:
        """What `e` is, and `e` rebuilt (constants made opaque where `resolve` says so)."""
        if isinstance(e, ir.Lit):
            return self._lit(e)
        if isinstance(e, ir.Var):
            return self.position(("var", e.var.name), e.var.type), e
        if isinstance(e, ir.Param):
            t = self.transition
            return self.position(("param", t.name if t is not None else "?", e.name), e.type), e
        if isinstance(e, ir.Local):
            return self.position(self._local(e.name), e.type), e
        if isinstance(e, ir.Msg):
            ch = self.msgs.get(e.name)
            if ch is None:
                raise Unsupported(f"message {e.name} bound to no channel")
            return self.position(("chan", ch.name), ch.message), e
        if isinstance(e, ir.Field):
            c, base = self.expr(e.base)
            out = c.fields.get(e.field) if isinstance(c, _Rec) else None
            return out, replace(e, base=base)
        if isinstance(e, ir.Unary):
            c, arg = self.expr(e.arg)
            if e.op == "neg" and c is not None:
                self.spoil(c, "a negated sequence number")
            return None, replace(e, arg=arg)
        if isinstance(e, ir.Binary):
            return self._binary(e)
        if isinstance(e, ir.Convert):
            return self._convert(e)
        if isinstance(e, ir.Ite):
            _, cond = self.expr(e.cond)
            a, then = self.expr(e.then)
            b, else_ = self.expr(e.else_)
            self.flow(a, b, "the other branch of an if-then-else")
            return (a if a is not None and not isinstance(a, _Abs) else b), replace(e, cond=cond, then=then, else_=else_)
        if isinstance(e, ir.RecordLit):
            fields: dict[str, Cls] = {}
            parts: list[tuple[str, ir.Expr]] = []
            for name, fe in e.fields:
                c, new = self.expr(fe)
                if c is not None:
                    fields[name] = c
                parts.append((name, new))
            return _Rec(fields), replace(e, fields=tuple(parts))
        if isinstance(e, ir.ChanLen):
            return None, e
        if isinstance(e, ir.ChanSlot):
            slot = self.position(("chan", e.channel.name), e.type)
            rewritten = self.slot_default(e) if self.slot_default is not None else None
            return slot, (rewritten if rewritten is not None else e)
        raise Unsupported(f"expression {type(e).__name__}")

    def _lit(self, e: ir.Lit) -> tuple[Cls, ir.Expr]:
        if not has_seq(e.type):
            return None, e
        if isinstance(e.type, RecordType):
            raise Unsupported("a record constant with sequence numbers")
        self.lits += 1
        key: Key = ("lit", str(self.lits), f"{e.span.file}:{e.span.line}:{e.span.col}")
        return _Abs(key, f"the constant {e.value}"), (self.resolve(key, e) if self.resolve is not None else e)

    def _binary(self, e: ir.Binary) -> tuple[Cls, ir.Expr]:
        a, left = self.expr(e.left)
        b, right = self.expr(e.right)
        new = replace(e, left=left, right=right)
        op = e.op
        if op in ("add", "sub") and is_seq(e.type):
            if isinstance(a, _Rel) and isinstance(b, _Rel):
                why = "a sum of two sequence numbers" if op == "add" else "a difference stored as a sequence number"
                self.spoil(a, why)
                self.spoil(b, why)
                return a, new
            if isinstance(a, _Rel):
                return a, new  # shifted by a number from outside the space
            if isinstance(b, _Rel):
                if op == "sub":
                    self.spoil(b, "a number minus a sequence number")
                return b, new
            return _Abs(None, "a computed sequence number"), new
        if op == "mul" and (a is not None or b is not None):
            self.spoil(a, "a multiplied sequence number")
            self.spoil(b, "a multiplied sequence number")
            return None, new
        if op in ("seqdiff", "eq", "ne", "lt", "le"):
            self.flow(a, b, f"a comparison at {e.span.file}:{e.span.line}:{e.span.col}")
            return None, new
        return None, new

    def _convert(self, e: ir.Convert) -> tuple[Cls, ir.Expr]:
        c, arg = self.expr(e.arg)
        new = replace(e, arg=arg)
        if is_seq(e.type):
            if isinstance(arg, ir.Lit) and isinstance(arg.value, int) and not isinstance(arg.value, bool):
                as_lit = ir.Lit(arg.value % e.type.modulus, e.type, e.span)  # type: ignore[union-attr]
                return self._lit(as_lit)
            return _Abs(None, f"a number converted to {e.type}"), new
        if c is not None:
            self.spoil(c, f"a sequence number used as {e.type} (its unsigned value)")
        return None, new

    def _local(self, name: str) -> Key:
        """A `let` name's position: names are unique within a transition, not across them."""
        t = self.transition
        return ("local", t.name if t is not None else "?", name)

    # -------------------------------------------------- statements

    def stmts(self, body: Iterable[ir.Stmt]) -> tuple[ir.Stmt, ...]:
        out: list[ir.Stmt] = []
        for s in body:
            if isinstance(s, ir.Assign):
                c, value = self.expr(s.value)
                self.flow(self.position(("var", s.target.name), s.target.type), c, f"{s.target.name} :=")
                out.append(replace(s, value=value))
            elif isinstance(s, ir.Send):
                c, msg = self.expr(s.message)
                self.flow(self.position(("chan", s.channel.name), s.channel.message), c, f"a send to {s.channel.name}")
                out.append(replace(s, message=msg))
            elif isinstance(s, ir.Let):
                c, value = self.expr(s.value)
                self.flow(self.position(self._local(s.name), s.value.type), c, f"let {s.name} =")
                out.append(replace(s, value=value))
            elif isinstance(s, ir.If):
                _, cond = self.expr(s.cond)
                out.append(replace(s, cond=cond, then=self.stmts(s.then), else_=self.stmts(s.else_)))
            else:
                raise Unsupported(f"statement {type(s).__name__}")
        return tuple(out)

    # -------------------------------------------------- the model

    def transition_(self, t: ir.AnyTransition) -> ir.AnyTransition:
        self.transition = t
        try:
            if isinstance(t, ir.NetworkTransition):
                if t.kind == "injection":
                    for name, ft in t.params:
                        c = self.position(("chan", t.channel.name, name), ft)
                        for key in _keys(c):
                            self.uf.free.setdefault(self.uf.find(key), []).append(("param", t.name, name) + key[3:])
                return t
            self.msgs = {t.receive[0]: t.receive[1]} if t.receive is not None else {}
            for name, pt in t.params:
                for key in _keys(self.position(("param", t.name, name), pt)):
                    self.uf.free.setdefault(self.uf.find(key), []).append(key)
            _, guard = self.expr(t.guard)
            return replace(t, guard=guard, body=self.stmts(t.body))
        finally:
            self.transition = None
            self.msgs = {}

    def property_(self, p: ir.Property) -> ir.Property:
        self.msgs = {ev.binding: ev.channel for ev in p.events}
        try:
            when = None
            if p.when is not None:
                _, when = self.expr(p.when)
            _, expr = self.expr(p.expr)
            return replace(p, expr=expr, when=when)
        finally:
            self.msgs = {}

    def model_(self) -> ir.Model:
        m = self.model
        init: dict[str, ir.Expr] = {}
        for v in m.state_vars:
            e = m.init.get(v.name)
            if e is not None:
                c, init[v.name] = self.expr(e)
                self.flow(self.position(("var", v.name), v.type), c, f"the initial value of {v.name}")
        transitions = [self.transition_(t) for t in m.transitions]
        properties = [self.property_(p) for p in m.properties]
        finals = [replace(f, expr=self.expr(f.expr)[1]) for f in m.finals]
        return replace(m, init=init, transitions=transitions, properties=properties, finals=finals)


def _keys(c: Cls) -> list[Key]:
    if isinstance(c, _Rec):
        return [k for f in c.fields.values() for k in _keys(f)]
    if isinstance(c, _Rel):
        return [c.key]
    return []


# ---------------------------------------------------------------- the result


@dataclass(frozen=True)
class Space:
    """An independent sequence space: `seed` is fixed at 0 in the search, `hidden` (the other
    free initial values) are opaque; `members` are its positions, for the report. `partial`:
    why ISN 0 is only a sample after all (a free input of the space is sampled: the search from
    0 covers the inputs it tries relative to the ISN, not all of them); "" when it covers all."""

    seed: str
    hidden: tuple[str, ...]
    members: tuple[str, ...]
    partial: str = ""


@dataclass
class Independence:
    """What the analysis found. `model` is the model to search: the original one with the
    constants of independent spaces made opaque (the original is what traces replay on)."""

    model: ir.Model
    spaces: list[Space] = field(default_factory=list)
    # free initial sequence numbers that are not covered, with why (their space is not independent)
    blocked: dict[str, str] = field(default_factory=dict)

    def covers(self, var: str) -> bool:
        """Whether every value of the free variable `var` is covered by the search from 0."""
        return any((var == s.seed or var in s.hidden) and not s.partial for s in self.spaces)

    def start_value(self, var: str) -> object | None:
        """The value `var` starts with in the search: 0 for a seed, an Opaque for a hidden one,
        None when the analysis does not cover it (the domain says)."""
        for s in self.spaces:
            if var == s.seed:
                return 0
            if var in s.hidden:
                return Opaque(0, var)
        return None


def free_leaves(model: ir.Model) -> list[tuple[str, Key, Type]]:
    """The sequence-number leaves of the state variables without an initial value:
    (variable, its position, its type). A record variable has one leaf per seqN field."""
    out: list[tuple[str, Key, Type]] = []
    for v in model.state_vars:
        if v.name in model.init:
            continue
        if is_seq(v.type):
            out.append((v.name, ("var", v.name), v.type))
    return out


def analyse(model: ir.Model, enumerated: Callable[[Key], bool], avoid: Iterable[str] = (),
            prefer: Iterable[str] = (), opaque_constants: bool = True) -> Independence:
    """Which free sequence numbers one search from 0 covers (see the module doc).

    `enumerated(key)`: whether the search enumerates the free input `key` (a parameter or an
    injected field) over its whole type. `avoid`: free variables not to cover (the user gave
    their values, or an earlier search found them read). `prefer`: seeds to fix at 0 where their
    space has one of them (for a search started again after an opaque seed was read). Without
    `opaque_constants`, a space with a constant is not independent (after one was read)."""
    uf = _Spaces()
    try:
        _Walker(model, uf).model_()
    except Unsupported as e:
        return Independence(model, blocked={v: f"the analysis does not cover {e}" for v, _, _ in free_leaves(model)})
    avoid, prefer = set(avoid), list(prefer)
    leaves = free_leaves(model)
    groups: dict[Key, list[str]] = {}
    for var, key, _ in leaves:
        groups.setdefault(uf.find(key), []).append(var)
    lits = {k for k in uf.parent if k[0] == "lit"}
    spaces: dict[Key, Space] = {}
    blocked: dict[str, str] = {}
    for root, seeds in groups.items():
        why = uf.bad.get(root)
        partial = ""
        missed = [k for k in uf.free.get(root, []) if not enumerated(k)]
        if missed:  # one ISN stands for the others relative to the sampled inputs: still a sample
            partial = f"{_describe(missed[0])} takes values the search does not enumerate"
        if why is None and not opaque_constants and any(uf.find(k) == root for k in lits):
            why = "a constant of the space is read"
        if why is None and any(s in avoid for s in seeds):
            why = f"{[s for s in seeds if s in avoid][0]} is sampled"
        if why is not None:
            blocked.update({s: why for s in seeds})
            continue
        chosen = [s for s in prefer if s in seeds]
        if len(chosen) > 1:  # two of its free values are read: one offset cannot stand for both
            blocked.update({s: f"{chosen[0]} and {chosen[1]} are both read" for s in seeds})
            continue
        seed = chosen[0] if chosen else _likely_seed(model, seeds)
        members = sorted(_describe(k) for k in uf.parent if uf.find(k) == root and k[0] != "lit")
        spaces[root] = Space(seed, tuple(s for s in seeds if s != seed), tuple(members), partial)
    if not spaces:
        return Independence(model, [], blocked)

    def resolve(key: Key, lit: ir.Lit) -> ir.Expr:
        if uf.find(key) in spaces:
            return ir.Lit(Opaque(lit.value, f"constant {lit.value}"), lit.type, lit.span)  # type: ignore[arg-type]
        return lit

    def slot_default(e: ir.ChanSlot) -> ir.Expr | None:
        """A slot past the channel's end reads as the empty message: its sequence numbers are
        constants of their spaces, opaque like the others."""
        opaque = {}
        for name, ft in e.type.fields:
            if is_seq(ft) and uf.find(("chan", e.channel.name, name)) in spaces:
                opaque[name] = Opaque(0, "constant 0")
        if not opaque:
            return None
        empty: dict[str, object] = dict(default_value(e.type))  # type: ignore[arg-type]
        empty.update(opaque)
        inside = ir.Binary("lt", ir.Lit(e.index, IntType(), e.span), ir.ChanLen(e.channel, IntType(), e.span), BOOL, e.span)
        return ir.Ite(inside, e, ir.Lit(empty, e.type, e.span), e.type, e.span)  # type: ignore[arg-type]

    searched = _Walker(model, uf, resolve if opaque_constants else None, slot_default if opaque_constants else None).model_()
    ordered = [spaces[r] for r in groups if r in spaces]
    return Independence(searched, ordered, blocked)


def _likely_seed(model: ir.Model, seeds: list[str]) -> str:
    """The free variable most likely read first: the one other variables start from
    (`snd_nxt = iss`), else the first. Only a guess: a wrong one costs a restart."""
    def read_by_inits(name: str) -> int:
        return sum(1 for e in model.init.values() if name in _vars_of(e))

    return max(seeds, key=lambda s: (read_by_inits(s), -seeds.index(s)))


def _vars_of(e: ir.Expr) -> set[str]:
    out: set[str] = set()
    todo: list[object] = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, ir.Var):
            out.add(x.var.name)
        elif hasattr(x, "__dataclass_fields__"):
            todo.extend(getattr(x, f) for f in x.__dataclass_fields__ if f not in ("type", "span"))
        elif isinstance(x, tuple):
            todo.extend(x)
    return out
