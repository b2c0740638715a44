"""The state as a flat list of named constants: every variable, record field, map entry, set
bit, channel slot and channel length of `TransitionSystem.state_at(k)`, each with its name in
model syntax.

PDR declares its Horn predicate over this list and prints Spacer's invariant by these names
(engines/pdr.py); k-induction's simple-path constraints compare two states leaf by leaf
(engines/kinduction.py). One module below both, so that neither engine imports the other.
"""

from __future__ import annotations

import z3

from tcpspec.encoding.encoder import ChanSym
from tcpspec.encoding.transition_system import TransitionSystem
from tcpspec.engines.formula_text import Leaf
from tcpspec.core.types import IntType, RecordType, SetType, Type, composite_parts


def consts(term: z3.ExprRef) -> list[z3.ExprRef]:
    """The uninterpreted constants in `term` (a stored state term is one, or an extension of one)."""
    out: list[z3.ExprRef] = []
    seen: set[int] = set()
    todo = [term]
    while todo:
        e = todo.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            out.append(e)
        elif z3.is_app(e):
            todo.extend(e.children())
    return out


def _sym_leaves(sym: object, t: Type, label: str, out: list[Leaf]) -> None:
    parts = composite_parts(t)
    if parts is not None:
        assert isinstance(sym, dict)
        for f, pt in parts:
            _sym_leaves(sym[f], pt, part_label(label, t, f), out)
        return
    assert isinstance(sym, z3.ExprRef)
    for c in consts(sym):
        out.append(Leaf(c, label))


def part_label(label: str, t: Type, part: str) -> str:
    """A part's name in model syntax: `seg.seq`, `coord.votes[2]`, and a set's membership bit
    `(2 in coord.seen)` (a bool, so the formula printer can use it as one)."""
    if isinstance(t, RecordType):
        return f"{label}.{part}"
    if isinstance(t, SetType):
        return f"({part} in {label})"
    return f"{label}[{part}]"


def state_leaves(ts: TransitionSystem, k: int) -> list[Leaf]:
    """State k as a flat list of constants, each with its model-syntax name."""
    state = ts.state_at(k)
    out: list[Leaf] = []
    for v in ts.model.state_vars:
        _sym_leaves(state[v.name], v.type, v.name, out)
    for c in ts.model.channels:
        ch = state[c.name]
        assert isinstance(ch, ChanSym)
        for i, slot in enumerate(ch.slots):
            _sym_leaves(slot, c.message, f"{c.name}[{i}]", out)
        _sym_leaves(ch.length, IntType(0, c.capacity), f"len({c.name})", out)
    return out
