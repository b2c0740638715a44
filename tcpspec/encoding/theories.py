"""How numbers become Z3 terms: two interchangeable representations, chosen per model.

No single encoding wins on this repo's models (figures: docs/performance.md):
- `IntTheory` (linear integer arithmetic): sequence numbers are Ints in 0..2^N-1 with one
  conditional correction per `+`/`-`. The solver sees that `iss + 1 + n - (iss + 1)` is `n` for
  every ISN; bit-blasting 32-bit adders does not, so models with wide sequence numbers need it.
- `BitTheory` (bit-vectors, bit-blasted): every number a small bit-vector. Control-heavy models
  with small domains are SAT problems at heart, which integers make far slower.

`choose_theory` picks integers when the model computes with wide (> 8 bit) sequence numbers or
bit-vectors, bit-vectors otherwise; `--theory` overrides. Both implement the same semantics
(the interpreter replays every counterexample, whichever produced it).

Terms come in two forms. *Stored*: how a variable, parameter or message field holds a value.
*Expression*: how expressions compute with it. They differ only for integers in `BitTheory`
(stored in the smallest width that holds the range, computed in 64-bit two's complement).
"""

from __future__ import annotations


import z3

from tcpspec.checker import ir
from tcpspec.encoding import theory_arrays
from tcpspec.encoding.theory_arrays import Sym
from tcpspec.core.types import (
    BitVecType,
    BoolType,
    EnumType,
    IntType,
    MapType,
    RecordType,
    SetType,
    Type,
    Value,
    compose,
    composite_parts,
    default_value,
    part_values,
)


WIDE_BITS = 8  # bit-vectors wider than this make a model "arithmetic": integers win

# Z3 settings for every integer-theory solver: the classic arithmetic solver without bound
# propagation, which answers the sequence-number queries of BMC, the prover and `replay` several
# times faster than Z3's default (docs/performance.md). Tuning only: the answers are the same.
INT_PARAMS: dict[str, int] = {"smt.arith.solver": 2, "smt.arith.propagation_mode": 0}


class Theory:
    """The number representation; subclasses fill in the numeric cases."""

    name = ""
    arrays = False  # maps and sets as Z3 arrays (theory_arrays.py; measured, not the default)

    def _array(self, t: Type) -> bool:
        if not self.arrays or not isinstance(t, (MapType, SetType)):
            return False
        return theory_arrays.supports(t)

    # ---------------------------------------------------------- shared (bools, records)

    def fresh(self, name: str, t: Type) -> Sym:
        if isinstance(t, BoolType):
            return z3.Bool(name)
        if self._array(t):
            return theory_arrays.fresh(self, name, t)  # type: ignore[arg-type]
        parts = composite_parts(t)
        if parts is not None:
            return {f: self.fresh(_part_name(name, t, f), ft) for f, ft in parts}  # type: ignore[misc]
        return self.fresh_number(name, t)

    def well_formed(self, sym: Sym, t: Type) -> list[z3.BoolRef]:
        """Constraints that a stored term holds a legal value of `t`."""
        if self._array(t):
            return theory_arrays.well_formed(self, sym, t)  # type: ignore[arg-type]
        parts = composite_parts(t)
        if parts is not None:
            assert isinstance(sym, dict)
            return [c for f, ft in parts for c in self.well_formed(sym[f], ft)]
        if isinstance(t, BoolType):
            return []
        return self.number_well_formed(sym, t)  # type: ignore[arg-type]

    def constant(self, v: Value, t: Type) -> Sym:
        """A model value as a stored term."""
        if isinstance(t, BoolType):
            return z3.BoolVal(bool(v))
        if self._array(t):
            return theory_arrays.constant(self, v, t)  # type: ignore[arg-type]
        parts = composite_parts(t)
        if parts is not None:
            return {f: self.constant(x, ft) for (f, ft), x in zip(parts, part_values(t, v))}  # type: ignore[misc]
        if isinstance(t, EnumType):
            assert isinstance(v, str)
            return self.number_constant(t.index(v), t)
        assert isinstance(v, int)
        return self.number_constant(v % t.modulus if isinstance(t, BitVecType) else v, t)

    def zero(self, t: Type) -> Sym:
        """The canonical content of an empty channel slot."""
        if isinstance(t, BoolType):
            return z3.BoolVal(False)
        if self._array(t):
            return theory_arrays.zero(self, t)  # type: ignore[arg-type]
        parts = composite_parts(t)
        if parts is not None:
            return {f: self.zero(ft) for f, ft in parts}  # type: ignore[misc]
        # An int range that excludes 0 (`len: 1..MSS`) holds its lower bound: still a legal value,
        # so empty slots stay well formed (zero there would leave the model with no state at all).
        return self.number_constant(default_value(t) if isinstance(t, IntType) else 0, t)

    def decode(self, zm: z3.ModelRef, sym: Sym, t: Type) -> Value:
        """A stored term's value in a Z3 model, as a model value."""
        if self._array(t):
            return theory_arrays.decode(self, zm, sym, t)  # type: ignore[arg-type]
        parts = composite_parts(t)
        if parts is not None:
            assert isinstance(sym, dict)
            return compose(t, [self.decode(zm, sym[f], ft) for f, ft in parts])
        v = zm.eval(sym, model_completion=True)
        if isinstance(t, BoolType):
            return z3.is_true(v)
        n = self.number_value(v, t)
        if isinstance(t, EnumType):
            return t.members[n] if 0 <= n < len(t.members) else t.members[0]
        return n

    def solver(self, ctx: z3.Context | None = None) -> z3.Solver:
        """An incremental solver suited to the representation (see the module doc),
        in `ctx` (default: Z3's main context)."""
        return z3.Solver(ctx=ctx)

    def lt(self, a: z3.ExprRef, b: z3.ExprRef, operand: Type) -> z3.BoolRef:
        if isinstance(operand, BitVecType) and operand.serial:
            return self.serial_lt(a, b, operand.width)
        return self.plain_lt(a, b, operand)

    # ---------------------------------------------------------- numeric, per theory

    def fresh_number(self, name: str, t: Type) -> z3.ExprRef: ...
    def number_well_formed(self, sym: z3.ExprRef, t: Type) -> list[z3.BoolRef]: ...
    def number_constant(self, n: int, t: Type) -> z3.ExprRef: ...
    def number_value(self, v: z3.ExprRef, t: Type) -> int: ...
    def widen(self, stored: Sym, t: Type) -> Sym: ...
    def narrow(self, value: Sym, t: Type) -> tuple[Sym, z3.BoolRef | None]: ...
    def int_lit(self, n: int) -> z3.ExprRef: ...
    def plain_lt(self, a: z3.ExprRef, b: z3.ExprRef, operand: Type) -> z3.BoolRef: ...
    def serial_lt(self, a: z3.ExprRef, b: z3.ExprRef, width: int) -> z3.BoolRef: ...
    def arith(self, op: str, a: z3.ExprRef, b: z3.ExprRef, t: Type) -> z3.ExprRef: ...
    def neg(self, a: z3.ExprRef, t: Type) -> z3.ExprRef: ...
    def seqdiff(self, a: z3.ExprRef, b: z3.ExprRef, width: int) -> z3.ExprRef: ...
    def convert(self, a: z3.ExprRef, source: Type, target: Type) -> z3.ExprRef: ...

    # Counters: channel lengths and positions (small non-negative numbers), kept narrow because
    # every channel operation of every transition of every step computes with them.
    def counter(self, stored: z3.ExprRef, t: Type) -> z3.ExprRef: ...
    def counter_lit(self, n: int) -> z3.ExprRef: ...
    def counter_lt(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef: ...
    def counter_to_int(self, c: z3.ExprRef) -> z3.ExprRef: ...


def _part_name(name: str, t: Type, part: str) -> str:
    """A part's constant name, in model syntax: `c2s[0].seq`, `coord.votes[2]`, `seen[2]`."""
    return f"{name}.{part}" if isinstance(t, RecordType) else f"{name}[{part}]"


def _range(t: Type) -> tuple[int, int] | None:
    if isinstance(t, IntType):
        return (t.lo, t.hi) if t.lo is not None and t.hi is not None else None
    if isinstance(t, BitVecType):
        return 0, t.modulus - 1
    if isinstance(t, EnumType):
        return 0, len(t.members) - 1
    return None


class IntTheory(Theory):
    """Every number an Int; bit-vectors kept in 0..2^N-1 (linear arithmetic, QF_LIA)."""

    name = "int"

    def solver(self, ctx: z3.Context | None = None) -> z3.Solver:
        s = z3.Solver(ctx=ctx)
        for key, value in INT_PARAMS.items():
            s.set(key, value)
        return s

    def fresh_number(self, name: str, t: Type) -> z3.ExprRef:
        return z3.Int(name)

    def number_well_formed(self, sym: z3.ExprRef, t: Type) -> list[z3.BoolRef]:
        r = _range(t)
        return [] if r is None else [sym >= r[0], sym <= r[1]]  # type: ignore[operator,list-item]

    def number_constant(self, n: int, t: Type) -> z3.ExprRef:
        return z3.IntVal(n)

    def number_value(self, v: z3.ExprRef, t: Type) -> int:
        return v.as_long()  # type: ignore[attr-defined,no-any-return]

    def widen(self, stored: Sym, t: Type) -> Sym:
        return stored

    def narrow(self, value: Sym, t: Type) -> tuple[Sym, z3.BoolRef | None]:
        if isinstance(t, IntType) and t.bounded:
            return value, z3.And(value >= t.lo, value <= t.hi)  # type: ignore[operator]
        return value, None

    def int_lit(self, n: int) -> z3.ExprRef:
        return z3.IntVal(n)

    def plain_lt(self, a: z3.ExprRef, b: z3.ExprRef, operand: Type) -> z3.BoolRef:
        return a < b  # type: ignore[operator,no-any-return]

    def serial_lt(self, a: z3.ExprRef, b: z3.ExprRef, width: int) -> z3.BoolRef:
        m = 1 << width
        ahead = _wrap_sub(b - a, m)  # type: ignore[operator]
        return z3.And(ahead > 0, ahead < (m >> 1))  # RFC 1982: see types.serial_lt

    def arith(self, op: str, a: z3.ExprRef, b: z3.ExprRef, t: Type) -> z3.ExprRef:
        r = a + b if op == "add" else a - b if op == "sub" else a * b  # type: ignore[operator]
        if not isinstance(t, BitVecType):
            return r  # type: ignore[no-any-return]
        m = t.modulus
        if op == "add":
            return z3.If(r >= m, r - m, r)
        if op == "sub":
            return _wrap_sub(r, m)
        return r % m  # type: ignore[no-any-return]

    def neg(self, a: z3.ExprRef, t: Type) -> z3.ExprRef:
        return _wrap_sub(-a, t.modulus) if isinstance(t, BitVecType) else -a  # type: ignore[operator]

    def seqdiff(self, a: z3.ExprRef, b: z3.ExprRef, width: int) -> z3.ExprRef:
        m = 1 << width
        d = _wrap_sub(a - b, m)  # type: ignore[operator]
        return z3.If(d >= (m >> 1), d - m, d)

    def convert(self, a: z3.ExprRef, source: Type, target: Type) -> z3.ExprRef:
        if not isinstance(target, BitVecType):
            return a  # a bit-vector's value as an int is its unsigned value
        m = target.modulus
        r = _range(source)
        if r is not None and 0 <= r[0] and r[1] < m:
            return a
        if r is not None and -m <= r[0] and r[1] < m:
            return _wrap_sub(a, m)
        return a % m  # type: ignore[operator,no-any-return]


    def counter(self, stored: z3.ExprRef, t: Type) -> z3.ExprRef:
        return stored

    def counter_lit(self, n: int) -> z3.ExprRef:
        return z3.IntVal(n)

    def counter_lt(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
        return a < b  # type: ignore[operator,no-any-return]

    def counter_to_int(self, c: z3.ExprRef) -> z3.ExprRef:
        return c


def _wrap_sub(r: z3.ArithRef, m: int) -> z3.ArithRef:
    return z3.If(r < 0, r + m, r)


INT_WIDTH = 64
COUNTER_WIDTH = 16  # channel capacities are far below 2^15


class BitTheory(Theory):
    """Every number a bit-vector: stored in the smallest width, integers computed in 64 bits."""

    name = "bv"

    def solver(self, ctx: z3.Context | None = None) -> z3.Solver:
        # The bit-blasting solver: Solver() stalls on control-heavy models (arrays need QF_ABV).
        return z3.SolverFor("QF_ABV" if self.arrays else "QF_BV", ctx=ctx)

    @staticmethod
    def storage(t: Type) -> tuple[int, bool]:
        """(width, signed) of the stored form."""
        if isinstance(t, IntType):
            if not t.bounded:
                return INT_WIDTH, True
            assert t.lo is not None and t.hi is not None
            if t.lo >= 0:
                return max(1, t.hi.bit_length()), False
            return max((-t.lo - 1).bit_length(), max(t.hi, 0).bit_length()) + 1, True
        if isinstance(t, BitVecType):
            return t.width, False
        if isinstance(t, EnumType):
            return max(1, (len(t.members) - 1).bit_length()), False
        raise TypeError(t)

    def fresh_number(self, name: str, t: Type) -> z3.ExprRef:
        return z3.BitVec(name, self.storage(t)[0])

    def number_well_formed(self, sym: z3.ExprRef, t: Type) -> list[z3.BoolRef]:
        if isinstance(t, IntType) and t.bounded:
            assert t.lo is not None and t.hi is not None
            w, signed = self.storage(t)
            lo, hi = z3.BitVecVal(t.lo % (1 << w), w), z3.BitVecVal(t.hi % (1 << w), w)
            if signed:  # compare at the stored width, not in 64 bits: smaller circuits
                return [sym >= lo, sym <= hi]  # type: ignore[operator,list-item]
            return [z3.UGE(sym, lo), z3.ULE(sym, hi)]  # type: ignore[arg-type]
        if isinstance(t, EnumType):
            w = self.storage(t)[0]
            if len(t.members) < (1 << w):
                return [z3.ULT(sym, len(t.members))]  # type: ignore[arg-type]
        return []

    def number_constant(self, n: int, t: Type) -> z3.ExprRef:
        w = self.storage(t)[0]
        return z3.BitVecVal(n % (1 << w), w)

    def number_value(self, v: z3.ExprRef, t: Type) -> int:
        n: int = v.as_long()  # type: ignore[attr-defined]
        w, signed = self.storage(t)
        return n - (1 << w) if signed and n >> (w - 1) else n

    def widen(self, stored: Sym, t: Type) -> Sym:
        if not isinstance(t, IntType):
            return stored
        w, signed = self.storage(t)
        assert isinstance(stored, z3.BitVecRef)
        if w == INT_WIDTH:
            return stored
        return z3.SignExt(INT_WIDTH - w, stored) if signed else z3.ZeroExt(INT_WIDTH - w, stored)

    def narrow(self, value: Sym, t: Type) -> tuple[Sym, z3.BoolRef | None]:
        if isinstance(t, IntType) and t.bounded:
            assert isinstance(value, z3.BitVecRef)
            ok = z3.And(value >= t.lo, value <= t.hi)  # signed comparisons
            return z3.Extract(self.storage(t)[0] - 1, 0, value), ok
        return value, None

    def int_lit(self, n: int) -> z3.ExprRef:
        return z3.BitVecVal(n, INT_WIDTH)

    def plain_lt(self, a: z3.ExprRef, b: z3.ExprRef, operand: Type) -> z3.BoolRef:
        if isinstance(operand, IntType):
            return a < b  # type: ignore[operator,no-any-return]  # signed
        return z3.ULT(a, b)  # type: ignore[arg-type]

    def serial_lt(self, a: z3.ExprRef, b: z3.ExprRef, width: int) -> z3.BoolRef:
        return (b - a) > 0  # type: ignore[operator,no-any-return]  # signed: 2^(N-1) ahead is not

    def arith(self, op: str, a: z3.ExprRef, b: z3.ExprRef, t: Type) -> z3.ExprRef:
        return a + b if op == "add" else a - b if op == "sub" else a * b  # type: ignore[operator,no-any-return]

    def neg(self, a: z3.ExprRef, t: Type) -> z3.ExprRef:
        return -a  # type: ignore[operator,no-any-return]

    def seqdiff(self, a: z3.ExprRef, b: z3.ExprRef, width: int) -> z3.ExprRef:
        d = a - b  # type: ignore[operator]
        return z3.SignExt(INT_WIDTH - width, d) if width < INT_WIDTH else d  # type: ignore[no-any-return]

    def convert(self, a: z3.ExprRef, source: Type, target: Type) -> z3.ExprRef:
        assert isinstance(a, z3.BitVecRef)
        if isinstance(target, BitVecType):
            return z3.Extract(target.width - 1, 0, a) if target.width < a.size() else a
        return z3.ZeroExt(INT_WIDTH - a.size(), a) if a.size() < INT_WIDTH else a


    def counter(self, stored: z3.ExprRef, t: Type) -> z3.ExprRef:
        assert isinstance(stored, z3.BitVecRef)
        return z3.ZeroExt(COUNTER_WIDTH - stored.size(), stored) if stored.size() < COUNTER_WIDTH else stored

    def counter_lit(self, n: int) -> z3.ExprRef:
        return z3.BitVecVal(n, COUNTER_WIDTH)

    def counter_lt(self, a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
        return z3.ULT(a, b)  # type: ignore[arg-type]

    def counter_to_int(self, c: z3.ExprRef) -> z3.ExprRef:
        return z3.ZeroExt(INT_WIDTH - COUNTER_WIDTH, c)  # type: ignore[arg-type]


from tcpspec.core.options import THEORIES  # noqa: E402 - defined once, without z3, for the CLI


def _types_of(model: ir.Model) -> list[Type]:
    ts: list[Type] = [v.type for v in model.state_vars]
    ts += [ft for c in model.channels for _, ft in c.message.fields]
    ts += [pt for t in model.transitions for _, pt in t.params]
    return ts


def choose_theory(model: ir.Model, name: str = "auto") -> Theory:
    """`auto`: integers when the model computes with wide bit-vectors, bit-vectors otherwise;
    integers too when an integer the model computes may leave BitTheory's 64 bits (there it
    would wrap, and a proof could be wrong). `bv` on such a model is the user's error.
    A `+arrays` suffix (`bv+arrays`; the Python API only) stores maps and sets as Z3 arrays
    (theory_arrays.py), to measure that encoding against the default."""
    if name.endswith("+arrays"):
        th = choose_theory(model, name.removesuffix("+arrays"))
        th.arrays = True
        return th
    if name == "int":
        return IntTheory()
    span = wider_than_64_bits(model)
    if name == "bv":
        if span is not None:
            from tcpspec.core.diagnostics import Diagnostic, ModelError

            raise ModelError([Diagnostic(span, "this integer can leave the 64-bit range the bit-vector theory "
                                         "computes in (it would wrap there): use --theory int or auto")])
        return BitTheory()
    wide = any(isinstance(t, BitVecType) and t.width > WIDE_BITS for t in _types_of(model))
    return IntTheory() if wide or span is not None else BitTheory()


_INT64 = (-(1 << (INT_WIDTH - 1)), (1 << (INT_WIDTH - 1)) - 1)


def wider_than_64_bits(model: ir.Model):  # type: ignore[no-untyped-def]
    """The span of the first integer expression whose value may leave -2^63..2^63-1 (interval
    arithmetic over the declared ranges), or None. An integer range holds any value the
    language allows, so only intermediate results (`a * b * c`) can get there."""
    import dataclasses

    memo: dict[int, tuple[int, int] | None] = {}
    found: list[object] = []

    def rng(e: object) -> tuple[int, int] | None:
        key = id(e)
        if key not in memo:
            memo[key] = _int_range(e, rng)
            r = memo[key]
            if r is not None and not found and (r[0] < _INT64[0] or r[1] > _INT64[1]):
                found.append(getattr(e, "span", None))
        return memo[key]

    def walk(x: object) -> None:
        if found:
            return
        if isinstance(x, (tuple, list)):
            for y in x:
                walk(y)
        elif dataclasses.is_dataclass(x) and not isinstance(x, (ir.Channel, ir.StateVar, type)):
            if isinstance(x, _EXPRS):
                rng(x)
            for f in dataclasses.fields(x):
                if f.name not in ("type", "span", "channel", "var", "target", "bound"):
                    walk(getattr(x, f.name))

    walk(list(model.init.values()))
    walk(list(model.transitions))
    walk(list(model.properties) + list(model.liveness) + list(model.finals))
    return found[0] if found else None


_EXPRS = (ir.Lit, ir.Var, ir.Param, ir.Msg, ir.Field, ir.Unary, ir.Binary, ir.Convert, ir.Ite, ir.RecordLit, ir.Local,
          ir.ChanLen, ir.ChanSlot)


def _int_range(e: object, rng) -> tuple[int, int] | None:  # type: ignore[no-untyped-def]
    """The interval of an integer-typed expression (children through `rng`); None otherwise."""
    t = getattr(e, "type", None)
    if isinstance(e, ir.Binary):
        a, b = rng(e.left), rng(e.right)  # visit both, whatever the type
        if not isinstance(t, IntType):
            return None
        if e.op == "seqdiff":
            w = e.left.type.width if isinstance(e.left.type, BitVecType) else INT_WIDTH
            return -(1 << (w - 1)), (1 << (w - 1)) - 1
        if a is None or b is None:
            return _declared(t)
        if e.op == "add":
            return a[0] + b[0], a[1] + b[1]
        if e.op == "sub":
            return a[0] - b[1], a[1] - b[0]
        if e.op == "mul":
            ps = [x * y for x in a for y in b]
            return min(ps), max(ps)
        return _declared(t)
    if isinstance(e, ir.Unary):
        a = rng(e.arg)
        if not isinstance(t, IntType):
            return None
        return (-a[1], -a[0]) if a is not None else _declared(t)
    if isinstance(e, ir.Ite):
        rng(e.cond)
        a, b = rng(e.then), rng(e.else_)
        if not isinstance(t, IntType):
            return None
        if a is None or b is None:
            return _declared(t)
        return min(a[0], b[0]), max(a[1], b[1])
    if isinstance(e, ir.Convert):
        rng(e.arg)
        if isinstance(t, IntType) and isinstance(e.arg.type, BitVecType):
            return 0, e.arg.type.modulus - 1
        return _declared(t) if isinstance(t, IntType) else None
    if isinstance(e, ir.Field):
        rng(e.base)
    if isinstance(e, ir.RecordLit):
        for _, x in e.fields:
            rng(x)
        return None
    if isinstance(e, ir.Lit) and isinstance(t, IntType) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value, e.value
    if isinstance(e, ir.ChanLen):
        return 0, e.channel.capacity
    if isinstance(e, ir.Local):  # what its `let` computed (already visited there)
        return rng(e.bound)
    return _declared(t) if isinstance(t, IntType) else None


def _declared(t: IntType) -> tuple[int, int]:
    """What a stored integer of type `t` can hold; an unbounded one, the language's ±2^62."""
    if t.bounded:
        assert t.lo is not None and t.hi is not None
        return t.lo, t.hi
    return -(1 << 62), 1 << 62
