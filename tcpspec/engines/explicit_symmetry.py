"""The explicit search's symmetry reduction: one state per orbit of a verified permutation group.

Why: with a family whose permutations Z3 verified as automorphisms (engines/family_symmetry.py),
every state of an orbit has the same future up to the permutation, so the visited set keeps
one representative per orbit (the canonical state) and the search expands only those.

The canonical state of `s` is, among the images of `s` under the permutations that sort the
members by a signature (what each member holds, with index values blanked; ties broken by
every ordering of the tied members, or one when tied members are interchangeable), the one
with the smallest hash. The signature is
equivariant (the image of member i under p has the signature member i had), so every state of
an orbit yields the same set of images and the same canonical state. When ties leave more
than MAX_CANDIDATES orderings only the first ones are tried: the state kept is still in the
orbit (sound), the reduction only smaller.

Counterexamples: the search remembers the canonical states; the run is rebuilt by taking each
step again from a canonical state and mapping the states before it through the permutations
taken after it, so the run ends in the violating state itself (engines/explicit_search.py
`run_of`). The run is then replayed on the interpreter like every other.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from tcpspec.checker import ir
from tcpspec.engines.family_symmetry import Perm, Permuter, Proposal, holds_index
from tcpspec.interp.semantics import State
from tcpspec.core.types import IntType, MapType, RecordType, SetType

MAX_CANDIDATES = 720



class Reducer:
    """Canonical states of `model`'s states under the permutations of `proposal`."""

    def __init__(self, model: ir.Model, proposal: Proposal, key: Callable[[State], int]) -> None:
        self.model, self.proposal, self.key = model, proposal, key
        self.perm = Permuter(model, proposal)
        names = self.perm.names
        n, lo = proposal.n, proposal.lo
        self.n = n
        dom = proposal.index_type
        # Per member: its variables and channels, in one order for every member (by local name).
        own: list[list[tuple[str, str, bool]]] = [[] for _ in range(n)]  # (sort key, state key, blank)
        for v in model.state_vars:
            if v.instance in names.member:
                _, k = names.member[v.instance]
                own[k].append((f"v{v.local}", v.name, holds_index(v.type, proposal)))
        for c in model.channels:
            if c.name in names.chan_member:
                fam, k = names.chan_member[c.name]
                own[k].append((f"c{fam}", c.name, holds_index(c.message, proposal)))
        self.own = [[(key, blank) for _, key, blank in sorted(o)] for o in own]
        chans = {c.name: c for c in model.channels}
        types = {v.name: v.type for v in model.state_vars}

        def how(key: str, blank: bool) -> int:
            """How a member's key enters its signature: 0 as it is, 1 blanked, 2 a channel of
            flat messages, 3 a channel's length, 4 flattened."""
            if key in chans:
                nested = any(isinstance(ft, RecordType) for _, ft in chans[key].message.fields)
                return 3 if blank else 4 if nested else 2
            return 1 if blank else 4 if isinstance(types[key], RecordType) else 0
        self.own_how = [[(key, how(key, blank)) for key, blank in o] for o in self.own]
        # Outside the members: index-keyed maps, sets of indices, index-valued variables, and
        # channels whose messages carry an index field (by position): what ties members to
        # the rest of the state.
        self.keyed: list[tuple[str, str]] = []  # (variable, "map" | "set" | "value")
        self.fields: list[tuple[str, list[str]]] = []  # (channel, index fields)
        if proposal.values:
            for v in model.state_vars:
                if v.instance in names.member:
                    continue
                t = v.type
                if isinstance(t, MapType) and t.key == dom and not holds_index(t.value, proposal):
                    self.keyed.append((v.name, "map"))
                elif isinstance(t, SetType) and t.elem == dom:
                    self.keyed.append((v.name, "set"))
                elif isinstance(t, IntType) and t == dom:
                    self.keyed.append((v.name, "value"))
            for c in model.channels:
                if c.name in names.chan_member:
                    continue
                fs = [f for f, ft in c.message.fields if ft == dom]
                if fs:
                    self.fields.append((c.name, fs))
        self.lo = lo
        # When the signature sees every index the state holds (no member holds one in its own
        # variables or channels; outside them, only in the places above), members with equal
        # signatures are interchangeable: swapping them leaves the state as it is, so one
        # ordering of the tied members gives every candidate's image.
        covered = {name for name, _ in self.keyed}
        self.ties_fixed = not any(blank for o in self.own for _, blank in o) and all(
            v.name in covered for v in model.state_vars
            if v.instance not in names.member and holds_index(v.type, proposal)) and all(
            all(ft == dom or not holds_index(ft, proposal) for _, ft in c.message.fields)
            for c in model.channels if c.name not in names.chan_member)

    def signature(self, state: State, k: int) -> int:
        i = self.lo + k
        parts: list[object] = []
        for key, code in self.own_how[k]:
            v = state[key]
            if code == 0:
                parts.append(v)
            elif code == 2:
                parts.append(tuple([tuple(m.values()) for m in v]))  # type: ignore[union-attr]
            elif code == 3:
                parts.append(len(v))  # type: ignore[arg-type]
            elif code == 4:
                parts.append(flat(v))
            else:
                parts.append(None)
        for name, how in self.keyed:
            v = state[name]
            if how == "map":
                parts.append(v.get(i))  # type: ignore[union-attr,call-overload]
            elif how == "set":
                parts.append(i in v)  # type: ignore[operator]
            else:
                parts.append(v == i)
        for name, fs in self.fields:
            parts.append(tuple((pos, f) for pos, m in enumerate(state[name]) for f in fs if m[f] == i))  # type: ignore[index, arg-type]
        return hash(tuple(parts))

    def candidates(self, state: State) -> list[Perm]:
        """The permutations that put the members in the order of their signatures."""
        sig = [self.signature(state, k) for k in range(self.n)]
        order = sorted(range(self.n), key=lambda k: sig[k])
        groups: list[list[int]] = []
        for k in order:
            if groups and sig[groups[-1][0]] == sig[k]:
                groups[-1].append(k)
            else:
                groups.append([k])
        if self.ties_fixed or all(len(g) == 1 for g in groups):
            return [_placing(order)]
        out = []
        for combo in itertools.product(*[itertools.permutations(g) for g in groups]):
            out.append(_placing([k for g in combo for k in g]))
            if len(out) >= MAX_CANDIDATES:
                break
        return out

    def canon(self, state: State) -> tuple[State, Perm, int]:
        """The canonical state, the permutation that maps `state` onto it, and its hash."""
        best: tuple[State, Perm, int] | None = None
        for p in self.candidates(state):
            image = self.perm.apply(state, p)
            h = self.key(image)
            if best is None or h < best[2]:
                best = (image, p, h)
        assert best is not None
        return best

    def orbit(self, state: State) -> list[State]:
        """Every state of `state`'s orbit (for a certificate over all reachable states)."""
        seen: dict[int, State] = {}
        for p in self.perm.all():
            image = self.perm.apply(state, p)
            seen.setdefault(self.key(image), image)
        return list(seen.values())


def flat(v: object) -> object:
    """A hashable form of a value (records and channels as tuples)."""
    if isinstance(v, dict):
        return tuple(flat(x) for x in v.values())
    if isinstance(v, list):
        return tuple(flat(x) for x in v)
    return v


def _placing(order: list[int]) -> Perm:
    """The permutation sending the member at order[r] to offset r."""
    p = [0] * len(order)
    for r, k in enumerate(order):
        p[k] = r
    return tuple(p)
