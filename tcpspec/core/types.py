"""The types of the language, shared by the checker, the encoder and the interpreter.

Values, as Python sees them (traces, the interpreter, constants):
bool -> bool; integer range, bvN, seqN -> int (bit-vectors as 0 .. 2^N-1);
enum -> the member name (str); record -> dict field -> value; finite map -> `MapValue` (every
key of its key type, in order, with its value); set -> frozenset of its elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class MapValue:
    """A value of a finite map type `[K] -> V`: total on K, so every key is listed, in K's order.

    Immutable and hashable; `set` returns a new map."""

    items: tuple[tuple["Value", "Value"], ...]

    def get(self, key: "Value") -> "Value":
        for k, v in self.items:
            if type(k) is type(key) and k == key:
                return v
        raise KeyError(key)

    def set(self, key: "Value", value: "Value") -> "MapValue":
        return MapValue(tuple((k, value if type(k) is type(key) and k == key else v) for k, v in self.items))

    def keys(self) -> list["Value"]:
        return [k for k, _ in self.items]


Value = Union[bool, int, str, dict[str, "Value"], MapValue, frozenset]  # type: ignore[type-arg]


@dataclass(frozen=True)
class BoolType:
    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class IntType:
    """A bounded integer range, or (lo = hi = None) the unbounded type of intermediate results."""

    lo: int | None = None
    hi: int | None = None

    @property
    def bounded(self) -> bool:
        return self.lo is not None and self.hi is not None

    def __str__(self) -> str:
        return f"{self.lo}..{self.hi}" if self.bounded else "int"


@dataclass(frozen=True)
class BitVecType:
    """`bvN` (unsigned order) or, with `serial`, `seqN` (RFC 1982 order)."""

    width: int
    serial: bool = False

    @property
    def modulus(self) -> int:
        return 1 << self.width

    def __str__(self) -> str:
        return f"{'seq' if self.serial else 'bv'}{self.width}"


@dataclass(frozen=True)
class EnumType:
    name: str
    members: tuple[str, ...]

    def index(self, member: str) -> int:
        return self.members.index(member)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class RecordType:
    name: str
    fields: tuple[tuple[str, "Type"], ...]

    def field_type(self, name: str) -> "Type | None":
        for fname, ftype in self.fields:
            if fname == name:
                return ftype
        return None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class MapType:
    """`[K] -> V`: a total map from a small key type (bool, an enum, a bounded range) to values."""

    key: "Type"
    value: "Type"

    def keys(self) -> list[Value]:
        out = scalar_values(self.key)
        assert out is not None, f"not a key type: {self.key}"
        return out

    def __str__(self) -> str:
        return f"[{self.key}] -> {self.value}"


@dataclass(frozen=True)
class SetType:
    """`set of T`: a subset of a small element type (bool, an enum, a bounded range)."""

    elem: "Type"

    def elems(self) -> list[Value]:
        out = scalar_values(self.elem)
        assert out is not None, f"not an element type: {self.elem}"
        return out

    def __str__(self) -> str:
        return f"set of {self.elem}"


Type = Union[BoolType, IntType, BitVecType, EnumType, RecordType, MapType, SetType]

MAX_KEYS = 1024  # keys of a map type, elements of a set type: each is a term of its own


def scalar_values(t: "Type") -> list[Value] | None:
    """Every value of a type that can key a map or be a set's element, in order; else None."""
    if isinstance(t, BoolType):
        return [False, True]
    if isinstance(t, EnumType):
        return list(t.members)
    if isinstance(t, IntType) and t.lo is not None and t.hi is not None:
        return list(range(t.lo, t.hi + 1))
    return None


def value_text(v: object) -> str:
    """A value the way a model writes it: `true`, `PREPARED`, `[0 -> true, 1 -> false]`, `{0, 2}`."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, MapValue):
        return "[" + ", ".join(f"{value_text(k)} -> {value_text(x)}" for k, x in v.items) + "]"
    if isinstance(v, frozenset):
        return "{" + ", ".join(value_text(x) for x in sorted(v, key=lambda x: (isinstance(x, str), x))) + "}"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k}: {value_text(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(value_text(x) for x in v) + "]"
    return str(v)


def key_text(v: Value) -> str:
    """A key or an element as the model writes it (`0`, `true`, `PREPARED`): the name of its
    slot in an encoded map or set."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def composite_parts(t: "Type") -> list[tuple[str, "Type"]] | None:
    """The parts a structured value is stored as, by name: a record's fields, a map's values per
    key, a set's membership bits per element; None for a scalar."""
    if isinstance(t, RecordType):
        return list(t.fields)
    if isinstance(t, MapType):
        return [(key_text(k), t.value) for k in t.keys()]
    if isinstance(t, SetType):
        return [(key_text(e), BOOL) for e in t.elems()]
    return None

BOOL = BoolType()
INT = IntType()


def part_values(t: "Type", v: Value) -> list[Value]:
    """A structured value's parts, in `composite_parts(t)` order."""
    if isinstance(t, RecordType):
        assert isinstance(v, dict)
        return [v[f] for f, _ in t.fields]
    if isinstance(t, MapType):
        assert isinstance(v, MapValue)
        return [x for _, x in v.items]
    assert isinstance(t, SetType) and isinstance(v, frozenset)
    return [any(type(e) is type(x) and e == x for x in v) for e in t.elems()]


def compose(t: "Type", parts: list[Value]) -> Value:
    """The structured value made of `parts` (the inverse of `part_values`)."""
    if isinstance(t, RecordType):
        return {f: x for (f, _), x in zip(t.fields, parts)}
    if isinstance(t, MapType):
        return MapValue(tuple(zip(t.keys(), parts)))
    assert isinstance(t, SetType)
    return frozenset(e for e, inside in zip(t.elems(), parts) if inside)


def is_finite(t: Type) -> bool:
    """Types a `choose` parameter or an injected message field may range over."""
    if isinstance(t, IntType):
        return t.bounded
    if isinstance(t, RecordType):
        return all(is_finite(ft) for _, ft in t.fields)
    if isinstance(t, MapType):
        return is_finite(t.value)
    return True


def values_in_range(t: Type, v: Value) -> bool:
    """Whether `v` is a legal value of `t` (the interpreter's type check)."""
    if isinstance(t, BoolType):
        return isinstance(v, bool)
    if isinstance(t, IntType):
        if not isinstance(v, int) or isinstance(v, bool):
            return False
        return (t.lo is None or v >= t.lo) and (t.hi is None or v <= t.hi)
    if isinstance(t, BitVecType):
        return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < t.modulus
    if isinstance(t, EnumType):
        return isinstance(v, str) and v in t.members
    if isinstance(t, MapType):
        return (isinstance(v, MapValue) and len(v.items) == len(t.keys())
                and all(type(k) is type(want) and k == want and values_in_range(t.value, x)
                        for (k, x), want in zip(v.items, t.keys())))
    if isinstance(t, SetType):
        return isinstance(v, frozenset) and all(values_in_range(t.elem, x) for x in v)
    if isinstance(v, dict) and isinstance(t, RecordType):
        return set(v) == {f for f, _ in t.fields} and all(
            values_in_range(ft, v[f]) for f, ft in t.fields
        )
    return False


def default_value(t: Type) -> Value:
    """The smallest value of a type: what counterexamples prefer and fresh slots hold."""
    if isinstance(t, BoolType):
        return False
    if isinstance(t, IntType):
        return t.lo if t.lo is not None and t.lo > 0 else (t.hi if t.hi is not None and t.hi < 0 else 0)
    if isinstance(t, BitVecType):
        return 0
    if isinstance(t, EnumType):
        return t.members[0]
    if isinstance(t, MapType):
        return MapValue(tuple((k, default_value(t.value)) for k in t.keys()))
    if isinstance(t, SetType):
        return frozenset()
    return {f: default_value(ft) for f, ft in t.fields}


def to_signed(v: int, width: int) -> int:
    """Read a `width`-bit pattern as a two's-complement number."""
    v &= (1 << width) - 1
    return v - (1 << width) if v >> (width - 1) else v


def serial_lt(a: int, b: int, width: int) -> bool:
    """RFC 1982 §3.2 / RFC 9293 §3.4 order: a < b when b is 1 .. 2^(N-1) - 1 ahead of a.

    Exactly 2^(N-1) apart, neither is less (RFC 1982's formula): `<` stays asymmetric, so
    `a < c <= b` can never hold with `a == b`, as TCP's ACK acceptability test assumes.
    """
    ahead = (b - a) % (1 << width)
    return 0 < ahead < (1 << (width - 1))
