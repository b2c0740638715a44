"""Symmetry across a family: permutations of the members of instance and channel families.

Why: a family `rm[i in 0..N-1]` whose members differ only by their index has N! states for
each "shape" of the system (which member voted first, which one aborted); a search that keeps
one state per orbit of the permutation group (Murphi's scalarsets, SPIN's symmetry reduction,
TLC's SYMMETRY) visits about 1/N! of them.

A permutation p of the indices lo..hi acts on a state by renaming (member `rm[i]`'s variables
become `rm[p(i)]`'s, channel `to_rm[i]` becomes `to_rm[p(i)]`) and, in the proposal that
reads them as indices, by mapping every value of the index type `lo..hi` (a message's
`voter`, a map's keys `[0..N-1] -> bool`, a set's elements). It is *proposed* from the model's
structure and then *verified* by Z3, never assumed: for each generator of the group (a swap of
two members and, for N > 2, the rotation), the initial states, the well-formed states, every
transition (mapped onto the transition of the renamed member, with the same effect on the
renamed state), and every searched property (onto itself, or onto the renamed member's copy)
are invariant. The generators' closure is the whole symmetric group, and a composition of
automorphisms is one. A model that reads an index in an order (`i < j`, Chang-Roberts' ids),
names one member (`rm[0].state` in a property) or gives one member other values fails a
check: no reduction, and the reason says which obligation failed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import z3

from tcpspec.checker import ir
from tcpspec.solving.budget import Budget
from tcpspec.solving.query import check
from tcpspec.solving.symmetry import fixed_act
from tcpspec.interp.semantics import State
from tcpspec.encoding.transition_system import ChanSym, TransitionSystem, _leaves, _substituter
from tcpspec.core.types import IntType, MapType, MapValue, RecordType, SetType, Type, key_text

Perm = tuple[int, ...]  # p[k]: the new offset of the member at offset k (offsets from `lo`)
CHECK_SECONDS = 20.0  # per generator: one query for every obligation at once


@dataclass(frozen=True)
class Proposal:
    """Which families are permuted together (those indexed by lo..lo+n-1), and whether values
    of the index type are read as member indices (mapped too)."""

    lo: int
    n: int
    instances: tuple[str, ...]  # instance family names
    channels: tuple[str, ...]  # channel family names
    values: bool

    @property
    def index_type(self) -> IntType:
        return IntType(self.lo, self.lo + self.n - 1)

    def describe(self) -> str:
        fams = ", ".join(self.instances + self.channels)
        return f"{fams} ({self.n}! = {_factorial(self.n)} permutations)"


def _factorial(n: int) -> int:
    out = 1
    for k in range(2, n + 1):
        out *= k
    return out


def proposals(model: ir.Model) -> list[Proposal]:
    """One proposal per index range of the model's instance families (with and without reading
    values of the index type as indices), the channel families of that range with them."""
    ranges: dict[tuple[int, int], list[str]] = {}
    members: dict[str, list[int]] = {}
    for inst in model.instances:
        if inst.family and inst.index is not None:
            members.setdefault(inst.family, []).append(inst.index)
    for fam, idx in members.items():
        if len(idx) >= 2 and sorted(idx) == list(range(min(idx), max(idx) + 1)):
            ranges.setdefault((min(idx), len(idx)), []).append(fam)
    chans: dict[str, list[int]] = {}
    for c in model.channels:
        if c.family and c.index is not None:
            chans.setdefault(c.family, []).append(c.index)
    out = []
    for (lo, n), fams in ranges.items():
        cf = tuple(f for f, idx in chans.items() if sorted(idx) == list(range(lo, lo + n)))
        for values in (True, False):
            out.append(Proposal(lo, n, tuple(fams), cf, values))
    return out


def generators(n: int) -> list[Perm]:
    """A swap of the first two members and the rotation: they generate every permutation."""
    swap = (1, 0) + tuple(range(2, n))
    return [swap] if n == 2 else [swap, tuple((k + 1) % n for k in range(n))]


def compose(after: Perm, first: Perm) -> Perm:
    """The permutation applying `first`, then `after`."""
    return tuple(after[first[k]] for k in range(len(first)))


def inverse(p: Perm) -> Perm:
    out = [0] * len(p)
    for k, v in enumerate(p):
        out[v] = k
    return tuple(out)


# ---------------------------------------------------------------- names


class Renaming:
    """Where each state variable, channel, transition and property goes under a permutation."""

    def __init__(self, model: ir.Model, prop: Proposal) -> None:
        self.model, self.prop = model, prop
        self.member: dict[str, tuple[str, int]] = {}  # instance -> (family, offset)
        self.by_offset: dict[tuple[str, int], str] = {}
        for inst in model.instances:
            if inst.family in prop.instances and inst.index is not None:
                self.member[inst.name] = (inst.family, inst.index - prop.lo)
                self.by_offset[(inst.family, inst.index - prop.lo)] = inst.name
        self.chan_member: dict[str, tuple[str, int]] = {}
        self.chan_by_offset: dict[tuple[str, int], str] = {}
        for c in model.channels:
            if c.family in prop.channels and c.index is not None:
                self.chan_member[c.name] = (c.family, c.index - prop.lo)
                self.chan_by_offset[(c.family, c.index - prop.lo)] = c.name
        self.vars = {v.name: v for v in model.state_vars}

    def instance(self, name: str | None, p: Perm) -> str | None:
        if name is None or name not in self.member:
            return name
        fam, k = self.member[name]
        return self.by_offset[(fam, p[k])]

    def var(self, name: str, p: Perm) -> str:
        v = self.vars[name]
        inst = self.instance(v.instance, p)
        return name if inst == v.instance else f"{inst}.{v.local}"

    def channel(self, name: str, p: Perm) -> str:
        if name not in self.chan_member:
            return name
        fam, k = self.chan_member[name]
        return self.chan_by_offset[(fam, p[k])]

    def transition(self, t: ir.AnyTransition, p: Perm) -> ir.AnyTransition | None:
        """The transition `t` is mapped onto: the renamed instance's (or channel's) transition of
        the same name, receiving from the renamed channel; None when there is none."""
        hits: list[ir.AnyTransition]
        if isinstance(t, ir.NetworkTransition):
            ch = self.channel(t.channel.name, p)
            hits = [u for u in self.model.transitions
                    if isinstance(u, ir.NetworkTransition) and u.kind == t.kind and u.channel.name == ch]
        else:
            inst = self.instance(t.instance, p)
            recv = None if t.receive is None else self.channel(t.receive[1].name, p)
            hits = [u for u in self.model.transitions if isinstance(u, ir.Transition) and u.instance == inst
                    and u.local == t.local and (None if u.receive is None else u.receive[1].name) == recv]
        hits = [u for u in hits if u.params == t.params]
        return hits[0] if len(hits) == 1 else None

    def property(self, name: str, p: Perm) -> str:
        """A member's property `rm[0].x` goes to `rm[p(0)].x`; others to themselves."""
        head, dot, local = name.rpartition(".")
        if dot and head in self.member:
            return f"{self.instance(head, p)}.{local}"
        return name


# ---------------------------------------------------------------- values (the interpreter's) and terms (Z3's)


def holds_index(t: Type, prop: Proposal) -> bool:
    """Whether values of `t` contain something the permutation maps (an index, a key, an element)."""
    if not prop.values:
        return False
    d = prop.index_type
    if isinstance(t, IntType):
        return t == d
    if isinstance(t, RecordType):
        return any(holds_index(ft, prop) for _, ft in t.fields)
    if isinstance(t, MapType):
        return t.key == d or holds_index(t.value, prop)
    if isinstance(t, SetType):
        return t.elem == d
    return False


def value_map(t: Type, prop: Proposal, p: Perm) -> Callable[[Any], Any] | None:
    """The permutation's effect on a value of type `t` (None: the identity)."""
    if not holds_index(t, prop):
        return None
    d, lo = prop.index_type, prop.lo
    if isinstance(t, IntType):
        return lambda v: lo + p[v - lo]  # type: ignore[operator]
    if isinstance(t, RecordType):
        fields = [(f, value_map(ft, prop, p)) for f, ft in t.fields]
        return lambda v: {f: (fn(v[f]) if fn is not None else v[f]) for f, fn in fields}  # type: ignore[index]
    if isinstance(t, MapType):
        inner = value_map(t.value, prop, p)
        keys = t.keys()
        if t.key == d:
            pinv = inverse(p)
            src = [lo + pinv[k - lo] for k in keys]  # type: ignore[operator]
        else:
            src = list(keys)  # type: ignore[arg-type]

        def remap(v: Any) -> Any:
            assert isinstance(v, MapValue)
            vals = [v.get(s) for s in src]
            return MapValue(tuple(zip(keys, vals if inner is None else [inner(x) for x in vals])))
        return remap
    assert isinstance(t, SetType)
    return lambda v: frozenset(lo + p[e - lo] for e in v)  # type: ignore[union-attr]


def _sym_map(ts: TransitionSystem, t: Type, prop: Proposal, p: Perm, sym: object) -> object:
    """`value_map` on a stored term (a leaf, or a dict of parts as theories.fresh builds it)."""
    if not holds_index(t, prop):
        return sym
    d, lo = prop.index_type, prop.lo
    if isinstance(t, IntType):
        assert isinstance(sym, z3.ExprRef)
        out = ts.th.constant(lo + p[-1], d)
        for k in range(prop.n - 2, -1, -1):
            out = z3.If(sym == ts.th.constant(lo + k, d), ts.th.constant(lo + p[k], d), out)  # type: ignore[arg-type]
        return out
    assert isinstance(sym, dict)
    if isinstance(t, RecordType):
        return {f: _sym_map(ts, ft, prop, p, sym[f]) for f, ft in t.fields}
    if isinstance(t, MapType):
        keys = t.keys()
        if t.key == d:
            pinv = inverse(p)
            src = {key_text(k): key_text(lo + pinv[k - lo]) for k in keys}  # type: ignore[operator]
        else:
            src = {key_text(k): key_text(k) for k in keys}
        return {kt: _sym_map(ts, t.value, prop, p, sym[src[kt]]) for kt in sym}
    assert isinstance(t, SetType)
    pinv = inverse(p)
    return {key_text(e): sym[key_text(lo + pinv[e - lo])] for e in t.elems()}  # type: ignore[operator]


def _sym_leaves(sym: object) -> list[z3.ExprRef]:
    return _leaves(sym)  # type: ignore[arg-type]


# ---------------------------------------------------------------- verification


@dataclass
class Verified:
    """A proposal Z3 verified for a model and a set of properties, or why none was."""

    proposal: Proposal | None
    reason: str = ""  # why no symmetry (when proposal is None)


def _pairs(ts: TransitionSystem, names: Renaming, p: Perm) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
    """The substitution of the permutation on states 0 and 1 and step 0's parameters: each
    constant of the renamed variable gets the mapped term of the original's."""
    prop = names.prop
    pairs: list[tuple[z3.ExprRef, z3.ExprRef]] = []
    for k in (0, 1):
        state = ts.state_at(k)
        consts = ts.constants(k)
        for v in ts.model.state_vars:
            dst = names.var(v.name, p)
            mapped = _sym_map(ts, v.type, prop, p, state[v.name])
            if dst == v.name and mapped is state[v.name]:
                continue
            pairs += zip(_sym_leaves(state[dst]), _sym_leaves(mapped))
        for c in ts.model.channels:
            dst = names.channel(c.name, p)
            src_ch, dst_ch = state[c.name], state[dst]
            assert isinstance(src_ch, ChanSym) and isinstance(dst_ch, ChanSym)
            if dst == c.name and not holds_index(c.message, prop):
                continue
            for i, (a, b) in enumerate(zip(dst_ch.slots, src_ch.slots)):
                # A slot past the length holds the empty content (well-formedness): kept as it is.
                full = ts.th.counter_lt(ts.th.counter_lit(i), src_ch.length)
                pairs += [(x, y if y.eq(z) else z3.If(full, y, z)) for x, y, z in
                          zip(_sym_leaves(a), _sym_leaves(_sym_map(ts, c.message, prop, p, b)), _sym_leaves(b))]
            pairs.append((consts[dst][-1], consts[c.name][-1]))
    step0 = ts.step_at(0)
    index = {t.name: i for i, t in enumerate(ts.model.transitions)}
    for i, t in enumerate(ts.model.transitions):
        u = names.transition(t, p)
        assert u is not None
        j = index[u.name]
        for pname, ptype in t.params:
            mapped = _sym_map(ts, ptype, prop, p, step0.params[i][pname])
            if j != i or mapped is not step0.params[i][pname]:
                pairs += zip(_sym_leaves(step0.params[j][pname]), _sym_leaves(mapped))
    return [(a, b) for a, b in pairs if not a.eq(b)]


def verify(model: ir.Model, props: Sequence[ir.Property], budget: Budget | None = None,
           ts: TransitionSystem | None = None) -> Verified:
    """The first proposal that Z3 verifies as an automorphism of `model` and of `props` (as a
    set), or the reason none is used."""
    candidates = proposals(model)
    if not candidates:
        return Verified(None, "no family of two or more instances")
    if ts is None:
        from tcpspec.encoding.theories import choose_theory

        ts = TransitionSystem(model, choose_theory(model, "auto"))
    if ts.th.arrays:
        return Verified(None, "maps and sets stored as Z3 arrays")
    reasons = []
    for prop in candidates:
        why = _check(ts, Renaming(model, prop), props, budget)
        if why is None:
            return Verified(prop)
        reasons.append(why)
    return Verified(None, reasons[0])


def _check(ts: TransitionSystem, names: Renaming, props: Sequence[ir.Property], budget: Budget | None) -> str | None:
    """None when every generator is an automorphism of the model and of `props`; else why not."""
    model = ts.model
    for p in generators(names.prop.n):
        image: list[int] = []
        index = {t.name: i for i, t in enumerate(model.transitions)}
        for t in model.transitions:
            u = names.transition(t, p)
            if u is None:
                return f"{t.name} has no counterpart in the permuted family"
            image.append(index[u.name])
        by_name = {q.name: q for q in props}
        finals: list[tuple[ir.Final, ir.Final]] = []
        if any(q.kind is ir.PropertyKind.DEADLOCK for q in props):
            # A stuck state is one without successors that no `final` accepts: the transitions
            # are checked below; the finals must move with the members too (Z3 checks them).
            for f in model.finals:
                mapped = names.instance(f.instance, p)
                hits = [g for g in model.finals
                        if g.instance == mapped and g.name.rpartition(".")[2] == f.name.rpartition(".")[2]]
                if len(hits) != 1:
                    return f"final {f.name} is not declared for every member alike"
                finals.append((f, hits[0]))
        for q in props:
            if q.kind is not ir.PropertyKind.DEADLOCK and names.property(q.name, p) not in by_name:
                return f"property {q.name} is checked without {names.property(q.name, p)}"
        obligations = _obligations(ts, names, p, image, props, by_name, finals)
        combined = [z3.Or([z3.And(given, z3.Not(implied)) for _, given, implied in obligations])]
        if not _unsat(ts, combined, budget):
            for what, given, implied in obligations:
                if not _unsat(ts, [given, z3.Not(implied)], budget):
                    return f"{what} is not invariant under a permutation of {names.prop.describe().split(' (')[0]}"
            return "Z3 did not verify the permutation in time"
    return None


def _unsat(ts: TransitionSystem, terms: list[z3.BoolRef], budget: Budget | None) -> bool:
    """Z3 says the terms cannot hold together, within CHECK_SECONDS (and `budget`)."""
    s = ts.th.solver()
    s.add(*terms)
    return check(s, [], (budget or Budget(None)).capped(CHECK_SECONDS)).result == z3.unsat


def _obligations(ts: TransitionSystem, names: Renaming, p: Perm, image: list[int], props: Sequence[ir.Property],
                 by_name: dict[str, ir.Property], finals: Sequence[tuple[ir.Final, ir.Final]] = ()
                 ) -> list[tuple[str, z3.BoolRef, z3.BoolRef]]:
    """(what, given, implied): each must hold for the permutation to be an automorphism."""
    pairs = _pairs(ts, names, p)
    sub = _substituter(pairs)

    def apply(t: z3.ExprRef) -> z3.ExprRef:
        # `_substituter` holds raw pointers: the mapped terms must outlive it (`pairs` does)
        return sub(t) if pairs else t
    step0 = ts.step_at(0)
    frame = z3.And(ts.well_formed(0), step0.trans, z3.Implies(step0.range_ok, ts.well_formed(1)))
    out: list[tuple[str, z3.BoolRef, z3.BoolRef]] = [
        ("the initial states", ts.init(), apply(ts.init())),  # type: ignore[list-item]
        ("well-formedness", ts.well_formed(0), apply(ts.well_formed(0))),  # type: ignore[list-item]
    ]
    steps = [q for q in props if q.kind is ir.PropertyKind.STEP and not q.builtin]
    for i, j in enumerate(image):
        at_i, at_j = fixed_act(ts, i), fixed_act(ts, j)
        implied = [apply(at_j(frame)), apply(at_j(step0.range_ok)) == at_i(step0.range_ok)]
        for q in steps:
            other = by_name[names.property(q.name, p)]
            implied.append(at_i(ts.step_violated(q, 0)) == apply(at_j(ts.step_violated(other, 0))))
        out.append((f"transition {ts.model.transitions[i].name}", at_i(frame), z3.And(implied)))  # type: ignore[arg-type]
    for q in props:
        if q.kind in (ir.PropertyKind.INVARIANT, ir.PropertyKind.LEMMA, ir.PropertyKind.REACHABLE):
            other = by_name[names.property(q.name, p)]
            out.append((f"property {q.name}", ts.well_formed(0), ts.holds_at(q, 0) == apply(ts.holds_at(other, 0))))
    for f, g in finals:
        as_prop = [ir.Property(x.name, ir.PropertyKind.INVARIANT, x.expr, x.span) for x in (f, g)]
        out.append((f"final {f.name}", ts.well_formed(0),
                    ts.holds_at(as_prop[0], 0) == apply(ts.holds_at(as_prop[1], 0))))
    return out


# ---------------------------------------------------------------- permutations of interpreter states


class Permuter:
    """Applies permutations to the interpreter's states (dicts of variables and channels)."""

    def __init__(self, model: ir.Model, prop: Proposal) -> None:
        self.model, self.prop = model, prop
        self.names = Renaming(model, prop)
        self.n = prop.n
        self._plans: dict[Perm, list[tuple[str, str, Callable[[Any], Any] | None, bool]]] = {}
        self.identity: Perm = tuple(range(prop.n))

    def plan(self, p: Perm) -> list[tuple[str, str, Callable[[Any], Any] | None, bool]]:
        """(destination key, source key, value map, is a channel) for every key of a state."""
        if p not in self._plans:
            out = []
            for v in self.model.state_vars:
                out.append((self.names.var(v.name, p), v.name, value_map(v.type, self.prop, p), False))
            for c in self.model.channels:
                out.append((self.names.channel(c.name, p), c.name, value_map(c.message, self.prop, p), True))
            self._plans[p] = out
        return self._plans[p]

    def apply(self, state: State, p: Perm) -> State:
        if p == self.identity:
            return state
        out: State = {}
        for dst, src, fn, chan in self.plan(p):
            v = state[src]
            if fn is not None:
                v = [fn(m) for m in v] if chan else fn(v)  # type: ignore[union-attr]
            out[dst] = v
        # keep the state's key order (hashes and traces list keys in declaration order)
        return {k: out[k] for k in state}

    def all(self) -> list[Perm]:
        return list(itertools.permutations(range(self.n)))
