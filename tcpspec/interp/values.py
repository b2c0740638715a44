"""Values and finite domains of the concrete semantics: freezing and comparing values, the values
a type offers (all of them, or a sample), the errors of evaluation. No z3: every replay runs on this.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from tcpspec.core.types import (
    BitVecType,
    BoolType,
    EnumType,
    IntType,
    MapType,
    MapValue,
    RecordType,
    SetType,
    Type,
    Value,
    compose,
    composite_parts,
    value_text,
    values_in_range,
)

State = dict[str, Value | list[Value]]
Frozen = object  # a hashable image of a value or a state (see `freeze`)


class InterpError(Exception):
    """The interpreter met something the checker should have ruled out (a bug, not a verdict)."""


class Opaque:
    """A value a search stands in for without looking at it (engines/seqspace.py): a free
    initial value that data independence says is never read, or a constant stored into a
    sequence space. Copying it (assignments, sends, receives) is allowed; any use that looks at
    it (arithmetic, comparison, equality, a condition) raises `OpaqueRead`, which tells the
    search that its assumption was wrong. `value` is what a trace shows for it."""

    __slots__ = ("value", "origin")

    def __init__(self, value: int, origin: str) -> None:
        self.value, self.origin = value, origin

    def __eq__(self, other: object) -> bool:
        raise OpaqueRead(self)

    def __hash__(self) -> int:
        return hash(("opaque", self.value, self.origin))

    def __repr__(self) -> str:
        return f"Opaque({self.value}, {self.origin!r})"


class OpaqueRead(InterpError):
    """An `Opaque` value was looked at: the run depends on it."""

    def __init__(self, v: Opaque) -> None:
        super().__init__(f"the value of {v.origin} was read")
        self.origin = v.origin


# ---------------------------------------------------------------- values


def freeze(v: object) -> Frozen:
    """A hashable, canonical image: states are deduplicated by it in the search.

    bool and int are tagged apart because `True == 1` in Python but not in the language.
    """
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, dict):
        return tuple((k, freeze(x)) for k, x in v.items())
    if isinstance(v, list):
        return ("l", tuple(freeze(x) for x in v))
    if isinstance(v, MapValue):
        return ("m", tuple((freeze(k), freeze(x)) for k, x in v.items))
    if isinstance(v, frozenset):
        return ("s", tuple(sorted((freeze(x) for x in v), key=repr)))
    return v


def same(a: object, b: object) -> bool:
    """Structural equality that does not confuse `True` with `1` (unlike Python's `==`).

    Records compare by field name, not by the order their fields are listed in: a trace read
    from JSON (`tcpspec replay`) may list them in any order. (`freeze` keeps the order: the
    interpreter's own records always list their fields as the model declares them.)"""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(x, b[k]) for k, x in a.items())
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (MapValue, frozenset)) or isinstance(b, (MapValue, frozenset)):
        return type(a) is type(b) and freeze(a) == freeze(b)
    if isinstance(b, (dict, list)):
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def copy_state(state: Mapping[str, Value | list[Value]]) -> State:
    """A copy whose channel lists can be changed without touching `state` (values are never
    mutated in place, so they may be shared)."""
    return {k: (list(v) if isinstance(v, list) else v) for k, v in state.items()}


def show(v: object) -> str:
    """A value the way a person writes it in a model (for replay messages)."""
    if isinstance(v, Opaque):
        return f"<{v.origin}>"
    return value_text(v)


# ---------------------------------------------------------------- expressions


@dataclass

# ---------------------------------------------------------------- finite domains


@dataclass(frozen=True)
class Domain:
    """Which values unconstrained variables and `choose` parameters take (see module doc)."""

    values: Mapping[str, Sequence[Value]] = field(default_factory=dict)
    max_bits: int = 4
    max_range: int = 256

    def choices(self, key: str, t: Type) -> tuple[list[Value], bool]:
        """The values `key` (of type `t`) takes, and whether they are only a sample."""
        if key in self.values:
            given = list(self.values[key])
            for v in given:
                if not values_in_range(t, v):
                    raise InterpError(f"domain value {show(v)} for {key} is not a {t}")
            return given, self.sampled(key, t)
        parts = composite_parts(t)
        if parts is not None:
            if isinstance(t, SetType) and cardinality(t) > MAX_SUBSETS:  # every subset: too many
                return [frozenset(), frozenset(t.elems())], True
            per_part = [self.choices(_part_key(key, t, name), pt)[0] for name, pt in parts]
            if isinstance(t, MapType) and _product(len(p) for p in per_part) > MAX_SUBSETS:
                # Too many maps to try them all: each value everywhere (a sample).
                common = per_part[0] if all(p == per_part[0] for p in per_part) else per_part[0][:1]
                return [compose(t, [v] * len(parts)) for v in common], True
            return [compose(t, list(combo)) for combo in itertools.product(*per_part)], self.sampled(key, t)
        if self._small(t):
            return all_values(t), False
        return default_sample(t), True

    def sampled(self, key: str, t: Type) -> bool:
        """Whether `choices(key, t)` misses values of `t` (cheap: enumerates nothing)."""
        if key in self.values:
            return len({freeze(v) for v in self.values[key]}) < cardinality(t)
        if isinstance(t, SetType) or isinstance(t, MapType) and cardinality(t) > MAX_SUBSETS:
            return cardinality(t) > MAX_SUBSETS
        parts = composite_parts(t)
        if parts is not None:
            return any(self.sampled(_part_key(key, t, name), pt) for name, pt in parts)
        return not self._small(t)

    def _small(self, t: Type) -> bool:
        if isinstance(t, BitVecType):
            return t.width <= self.max_bits
        if isinstance(t, IntType):
            return t.bounded and cardinality(t) <= self.max_range
        return True


MAX_SUBSETS = 1 << 12  # a free set of a larger element type is sampled (empty, full)


def _product(ns: Iterator[int]) -> int:
    out = 1
    for n in ns:
        out *= n
    return out


def _part_key(key: str, t: Type, part: str) -> str:
    """The domain key of a part: `coord.votes[1]` for a map's value, `c2s.seq` for a field."""
    return f"{key}.{part}" if isinstance(t, RecordType) else f"{key}[{part}]"


def as_domain(domain: Domain | Mapping[str, Sequence[Value]] | None) -> Domain:
    """Callers may pass a plain `{name: values}` mapping; the limits then take their defaults."""
    if domain is None:
        return Domain()
    if isinstance(domain, Domain):
        return domain
    return Domain(values=dict(domain))


def cardinality(t: Type) -> int:
    """How many values a type has (unbounded ints: treated as infinite)."""
    if isinstance(t, BoolType):
        return 2
    if isinstance(t, IntType):
        if t.lo is None or t.hi is None:
            return 1 << 200
        return max(0, t.hi - t.lo + 1)
    if isinstance(t, BitVecType):
        return t.modulus
    if isinstance(t, EnumType):
        return len(t.members)
    n = 1
    for _, ft in composite_parts(t) or []:
        n *= cardinality(ft)
    return n


def all_values(t: Type) -> list[Value]:
    """Every value of a finite type, smallest first."""
    if isinstance(t, BoolType):
        return [False, True]
    if isinstance(t, IntType):
        if t.lo is None or t.hi is None:
            raise InterpError("an unbounded int has no finite list of values")
        return list(range(t.lo, t.hi + 1))
    if isinstance(t, BitVecType):
        return list(range(t.modulus))
    if isinstance(t, EnumType):
        return list(t.members)
    parts = composite_parts(t) or []
    return [compose(t, list(combo)) for combo in itertools.product(*(all_values(pt) for _, pt in parts))]


def default_sample(t: Type) -> list[Value]:
    """The values tried for a large type when the caller gave none."""
    if isinstance(t, BitVecType):
        return [0, 1, t.modulus - 1]
    if isinstance(t, IntType) and t.lo is not None and t.hi is not None:
        picks = [t.lo, t.hi] + ([0] if t.lo < 0 < t.hi else [])
        return list[Value](sorted(set(picks)))
    raise InterpError(f"no finite sample of type {t}: give its values in the domain")
