"""Maps and sets as Z3 arrays: the alternative to one term per key, kept to measure it.

`choose_theory(model, "bv+arrays")` (or `"int+arrays"`) stores a map `[K] -> V` as one
`Array(K, V)` and a set as an `Array(T, Bool)`, read with `Select` and updated with `Store`.
Only the Python API reaches it: docs/performance.md ("Maps and sets: one term per key, or
arrays") has the figures that made one term per key the encoding every command uses. BMC and the
induction prover work with it; PDR's certificates do not (their formulas are printed leaf by
leaf), and maps whose values are records are not supported.

Arrays are total over their index sort, which holds more values than the key type (a 2-bit
vector for keys 0..2, or every integer): the elements outside the key type are never written, so
within one run they keep their first values and whole-state equality (lasso loops, the next
state) is still exact, but a comparison the model writes (`m1 == m2`) compares the keys of the
type only.
"""

from __future__ import annotations

from typing import Callable, Protocol, Union

import z3

from tcpspec.checker import ir
from tcpspec.core.types import BoolType, IntType, MapType, MapValue, SetType, Type, Value

# A stored term: one Z3 term, or one per part of a record or tuple (`theories.Theory.fresh`).
Sym = Union[z3.ExprRef, dict[str, z3.ExprRef]]


class Theory(Protocol):
    """What this module asks of the number theory (`theories.Theory`) it encodes keys and
    values with; a protocol, so that `theories` can import this module and not the reverse."""

    def fresh(self, name: str, t: Type) -> Sym: ...
    def well_formed(self, sym: Sym, t: Type) -> list[z3.BoolRef]: ...
    def constant(self, v: Value, t: Type) -> Sym: ...
    def zero(self, t: Type) -> Sym: ...
    def decode(self, zm: z3.ModelRef, sym: Sym, t: Type) -> Value: ...
    def widen(self, stored: Sym, t: Type) -> Sym: ...
    def narrow(self, value: Sym, t: Type) -> tuple[Sym, z3.BoolRef | None]: ...
    def arith(self, op: str, a: z3.ExprRef, b: z3.ExprRef, t: Type) -> z3.ExprRef: ...


def supports(t: Type) -> bool:
    """Whether a map or set type is stored as an array (scalar values only)."""
    if isinstance(t, SetType):
        return True
    return isinstance(t, MapType) and not isinstance(t.value, (MapType, SetType)) and not hasattr(t.value, "fields")


def _sort(th: Theory, t: Type) -> z3.SortRef:
    sample = th.fresh("_sort", t)
    assert isinstance(sample, z3.ExprRef)
    return sample.sort()


def _index(th: Theory, t: MapType | SetType) -> Type:
    return t.key if isinstance(t, MapType) else t.elem


def _range(t: MapType | SetType) -> Type:
    return t.value if isinstance(t, MapType) else BoolType()


def fresh(th: Theory, name: str, t: MapType | SetType) -> z3.ExprRef:
    return z3.Array(name, _sort(th, _index(th, t)), _sort(th, _range(t)))


def _keys(t: MapType | SetType) -> list[Value]:
    return t.keys() if isinstance(t, MapType) else t.elems()


def _at(th: Theory, a: z3.ExprRef, t: MapType | SetType, k: Value) -> z3.ExprRef:
    return z3.Select(a, th.constant(k, _index(th, t)))  # type: ignore[arg-type]


def well_formed(th: Theory, a: z3.ExprRef, t: MapType | SetType) -> list[z3.BoolRef]:
    return [c for k in _keys(t) for c in th.well_formed(_at(th, a, t, k), _range(t))]


def constant(th: Theory, v: Value, t: MapType | SetType) -> z3.ExprRef:
    idx = _sort(th, _index(th, t))
    if isinstance(t, MapType):
        assert isinstance(v, MapValue)
        out = z3.K(idx, th.constant(v.items[0][1], t.value))
        for k, x in v.items:
            out = z3.Store(out, th.constant(k, t.key), th.constant(x, t.value))
        return out
    assert isinstance(v, frozenset)
    out = z3.K(idx, z3.BoolVal(False))
    for x in v:
        out = z3.Store(out, th.constant(x, t.elem), z3.BoolVal(True))
    return out


def zero(th: Theory, t: MapType | SetType) -> z3.ExprRef:
    return z3.K(_sort(th, _index(th, t)), th.zero(_range(t)))  # type: ignore[arg-type]


def decode(th: Theory, zm: z3.ModelRef, a: z3.ExprRef, t: MapType | SetType) -> Value:
    if isinstance(t, MapType):
        return MapValue(tuple((k, th.decode(zm, _at(th, a, t, k), t.value)) for k in t.keys()))
    return frozenset(k for k in t.elems() if z3.is_true(zm.eval(_at(th, a, t, k), model_completion=True)))


def _stored_key(th: Theory, key: ir.Expr, t: Type, value: Sym) -> z3.ExprRef:
    if isinstance(key, ir.Lit):
        return th.constant(key.value, t)  # type: ignore[return-value]
    return th.narrow(value, t)[0]  # type: ignore[return-value]


def _in_type(th: Theory, x: Sym, t: Type) -> z3.BoolRef:
    """An element expression is a value of the set's element type (arrays hold other indices)."""
    if isinstance(t, IntType) and t.lo is not None and t.hi is not None:
        lo, hi = th.widen(th.constant(t.lo, t), t), th.widen(th.constant(t.hi, t), t)
        return z3.And(lo <= x, x <= hi)  # type: ignore[operator]
    return z3.BoolVal(True)


def eval_collection(e: ir.Expr, th: Theory, ev: Callable[[ir.Expr], Sym]) -> Sym:
    """The encoder's `_eval_collection` over arrays (`ev` evaluates a sub-expression)."""
    if isinstance(e, ir.MapLit):
        t = e.type
        out = z3.K(_sort(th, t.key), th.narrow(ev(e.values[0]), t.value)[0])
        for k, v in zip(t.keys(), e.values):
            out = z3.Store(out, th.constant(k, t.key), th.narrow(ev(v), t.value)[0])
        return out
    if isinstance(e, ir.SetLit):
        out = z3.K(_sort(th, e.type.elem), z3.BoolVal(False))
        for x in e.elems:
            out = z3.Store(out, _stored_key(th, x, e.type.elem, ev(x)), z3.BoolVal(True))
        return out
    if isinstance(e, ir.SetOp):
        a, b = ev(e.left), ev(e.right)
        return {"union": z3.SetUnion, "minus": z3.SetDifference, "inter": z3.SetIntersect}[e.op](a, b)  # type: ignore[operator]
    if isinstance(e, ir.Card):
        s = ev(e.set)
        st = e.set.type
        assert isinstance(st, SetType)
        one, nought = th.widen(th.constant(1, e.type), e.type), th.widen(th.constant(0, e.type), e.type)
        total: Sym = nought
        for k in st.elems():
            total = th.arith("add", total, z3.If(_at(th, s, st, k), one, nought), IntType())  # type: ignore[arg-type]
        return total
    if isinstance(e, ir.Member):
        st = e.set.type
        assert isinstance(st, SetType)
        s, x = ev(e.set), ev(e.elem)
        if isinstance(e.elem, ir.Lit) and not any(type(k) is type(e.elem.value) and k == e.elem.value for k in st.elems()):
            return z3.BoolVal(False)
        return z3.And(_in_type(th, x, st.elem), z3.Select(s, _stored_key(th, e.elem, st.elem, x)))  # type: ignore[arg-type]
    if isinstance(e, ir.MapRead):
        mt = e.map.type
        assert isinstance(mt, MapType)
        m = ev(e.map)
        return th.widen(z3.Select(m, _stored_key(th, e.key, mt.key, ev(e.key))), mt.value)  # type: ignore[arg-type]
    assert isinstance(e, ir.MapStore)
    m = ev(e.map)
    key = _stored_key(th, e.key, e.type.key, ev(e.key))
    return z3.Store(m, key, th.narrow(ev(e.value), e.type.value)[0])  # type: ignore[arg-type]


def equal(th: Theory, a: z3.ExprRef, b: z3.ExprRef, t: MapType | SetType) -> z3.BoolRef:
    """Two maps or sets are equal on the keys of their type (not on the rest of the sort)."""
    return z3.And([_at(th, a, t, k) == _at(th, b, t, k) for k in _keys(t)])
