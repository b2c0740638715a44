"""The types of the language, shared by the checker, the encoder and the interpreter.

Values, as Python sees them (traces, the interpreter, constants):
bool -> bool; integer range, bvN, seqN -> int (bit-vectors as 0 .. 2^N-1);
enum -> the member name (str); record -> dict field -> value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

Value = Union[bool, int, str, dict[str, "Value"]]


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


Type = Union[BoolType, IntType, BitVecType, EnumType, RecordType]

BOOL = BoolType()
INT = IntType()


def is_finite(t: Type) -> bool:
    """Types a `choose` parameter or an injected message field may range over."""
    if isinstance(t, IntType):
        return t.bounded
    if isinstance(t, RecordType):
        return all(is_finite(ft) for _, ft in t.fields)
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
    if isinstance(v, dict):
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
