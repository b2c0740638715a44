"""The certificate of an exhaustive explicit search: the reachable states, re-checked by Z3.

A search that visited every reachable state proves the properties that hold in all of them --
if the search is right: its hash-compacted visited set, the interpreter, and, when sequence
numbers were searched from ISN 0 alone, the data-independence argument (engines/seqspace.py).
None of that is trusted here. The set of states it visited is written as one formula, a
disjunction with one conjunct per state, and `certificate.recheck` asks fresh solvers, as for
every proof: does every initial state lie in it, does every step from it stay in it, does
every property hold in it. A sequence number of an independent space is written relative to
the space's ISN variable (`client.snd_nxt - client.iss == 1`), so that the formula speaks of
every ISN at once; an opaque value (never read) is left out of its conjunct.

The formula is also model text: `--certificate FILE` writes it, and `tcpspec recheck` reads it
back like any other certificate.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from tcpspec.checker import ir
from tcpspec.encoding.encoder import ChanSym, sym_eq
from tcpspec.proof.certificate import CertInvariant, Certificate, recheck
from tcpspec.engines.common import fast_or
from tcpspec.engines.seqspace import Independence, is_seq
from tcpspec.interp.values import Opaque
from tcpspec.interp.semantics import State
from tcpspec.encoding.transition_system import TransitionSystem
from tcpspec.core.types import BitVecType, BoolType, EnumType, RecordType, Type, to_signed

# Past this many states the formula is not written (its re-check would take longer than the search).
MAX_STATES = 5000

_NOTE = ("Found by the explicit search: one disjunct per reachable state it visited, sequence numbers\n"
         "relative to their space's ISN variable where one ISN stood for all (data independence).")


class _Anchors:
    """Per state variable of an independent space: the variable its values are relative to."""

    def __init__(self, model: ir.Model, ind: Independence) -> None:
        self.of: dict[str, str] = {}
        for space in ind.spaces:
            if space.partial:
                continue
            for member in space.members:
                self.of[member] = space.seed

    def seed(self, position: str) -> str | None:
        return self.of.get(position)


class Unwritable(Exception):
    """A state the formula cannot say (a nested record in a channel, an ISN variable that holds an
    opaque value): no certificate, the proof rests on the search."""


def _leaf_text(place: str, value: object, t: Type, anchor: str | None, anchor_value: object) -> str | None:
    if isinstance(value, Opaque):
        return None
    if isinstance(t, RecordType):
        raise Unwritable(f"{place}: a record inside a record")
    if anchor is not None and not isinstance(anchor_value, int):
        raise Unwritable(f"{anchor} holds a value the search did not look at")
    if isinstance(t, BoolType):
        return place if value else f"!{place}"
    if isinstance(t, EnumType):
        return f"{place} == {value}"
    if anchor is not None and is_seq(t):
        assert isinstance(t, BitVecType) and isinstance(value, int) and isinstance(anchor_value, int)
        return f"{place} - {anchor} == {to_signed(value - anchor_value, t.width)}"
    return f"{place} == {value}"


class _Cube:
    """One state as a conjunct, in model text and as a builder of Z3 terms."""

    def __init__(self, model: ir.Model, anchors: _Anchors, state: State) -> None:
        self.parts: list[tuple[str, str, object, Type, str | None, int | None, str | None]] = []
        # (text, variable or channel, value, type, anchor, slot index or None, field or None)
        for v in model.state_vars:
            self._add(v.name, v.name, state[v.name], v.type, anchors, state, None)
        for c in model.channels:
            queue = state[c.name]
            assert isinstance(queue, list)
            self.parts.append((f"len({c.name}) == {len(queue)}", c.name, len(queue), c.message, None, -1, None))
            for i, msg in enumerate(queue):
                assert isinstance(msg, dict)
                for f, ft in c.message.fields:
                    anchor = anchors.seed(f"{c.name}.{f}")
                    text = _leaf_text(f"{c.name}[{i}].{f}", msg[f], ft, anchor, state.get(anchor) if anchor else None)
                    if text is not None:
                        self.parts.append((text, c.name, msg[f], ft, anchor, i, f))  # type: ignore[arg-type]

    def _add(self, text: str, var: str, value: object, t: Type, anchors: _Anchors, state: State,
             field: str | None) -> None:
        if isinstance(t, RecordType):
            assert isinstance(value, dict)
            for f, ft in t.fields:
                anchor = anchors.seed(f"{var}.{f}")
                leaf = _leaf_text(f"{text}.{f}", value[f], ft, anchor, state.get(anchor) if anchor else None)
                if leaf is not None:
                    self.parts.append((leaf, var, value[f], ft, anchor, None, f))
            return
        anchor = anchors.seed(var)
        leaf = _leaf_text(text, value, t, anchor, state.get(anchor) if anchor else None)
        if leaf is not None:
            self.parts.append((leaf, var, value, t, anchor, None, field))

    def text(self) -> str:
        return _balanced([p[0] for p in self.parts], "&&", "true")

    def term(self, ts: TransitionSystem, k: int, state: State) -> z3.BoolRef:
        syms = ts.state_at(k)
        th = ts.th
        out: list[z3.BoolRef] = []
        for _text, place, value, t, anchor, slot, field in self.parts:
            sym = syms[place]
            if isinstance(sym, ChanSym):
                if slot == -1:
                    out.append(sym.length == th.counter_lit(value))  # type: ignore[arg-type]
                    continue
                leaf = sym.slots[slot][field]  # type: ignore[index]
            elif field is not None:
                leaf = sym[field]  # type: ignore[index]
            else:
                leaf = sym
            if anchor is not None and is_seq(t):
                base = syms[anchor]
                offset = (value - state[anchor]) % t.modulus  # type: ignore[operator,union-attr]
                out.append(leaf == th.arith("add", base, th.number_constant(offset, t), t))  # type: ignore[arg-type]
            else:
                out.append(sym_eq(leaf, th.constant(value, t)))  # type: ignore[arg-type]
        return z3.And(out) if out else z3.BoolVal(True)


def concrete_term(model: ir.Model, ts: TransitionSystem, k: int, state: State) -> z3.BoolRef:
    """State k of `ts` is `state`, value for value (an opaque value: any value)."""
    return _Cube(model, _Anchors(model, Independence(model)), state).term(ts, k, state)


def _balanced(parts: list[str], op: str, empty: str) -> str:
    """`a op b op ...` as a balanced tree of parentheses: the parser refuses expressions nested
    more than 100 deep, and a chain of 1000 disjuncts nests 1000 deep."""
    if not parts:
        return empty
    while len(parts) > 1:
        parts = [f"({parts[i]} {op} {parts[i + 1]})" if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    return parts[0]


def reachable_certificate(model: ir.Model, ind: Independence, states: Sequence[State],
                          proved: list[str]) -> Certificate:
    """The states as one invariant (see the module doc)."""
    anchors = _Anchors(model, ind)
    cubes = [(_Cube(model, anchors, st), st) for st in states]
    text = _balanced([c.text() for c, _ in cubes], "||", "false")

    def build(ts: TransitionSystem, k: int) -> z3.BoolRef:
        return fast_or([c.term(ts, k, st) for c, st in cubes])
    inv = CertInvariant("explicit_reachable_states", text, build, "explicit")
    return Certificate([inv], k=1, model_path=model.path, proved=list(proved), note=_NOTE)


def recheck_reachable(model: ir.Model, ind: Independence, states: Sequence[State], props: list[ir.Property],
                      theory: str = "auto", timeout: float | None = None) -> tuple[Certificate | None, str | None]:
    """The certificate and what its re-check said (None: every obligation holds); no
    certificate when a state cannot be written (Unwritable: the problem says why)."""
    try:
        # deadlock_free is the command line's property, not the model's: `tcpspec recheck` reads
        # the model alone, so the file does not list it (its obligation is asked here).
        cert = reachable_certificate(model, ind, states, [p.name for p in props if p.kind is not ir.PropertyKind.DEADLOCK])
    except Unwritable as e:
        return None, f"not written: {e}"
    dead = [p for p in props if p.kind is ir.PropertyKind.DEADLOCK]
    problem = recheck(model, cert, [p for p in props if p not in dead], theory, timeout)
    if problem is None and dead:
        problem = _no_deadlock(model, cert, theory, timeout)
    return cert, problem


def _no_deadlock(model: ir.Model, cert: Certificate, theory: str, timeout: float | None) -> str | None:
    """The obligation `recheck` does not know: no state of the invariant is deadlocked."""
    from tcpspec.solving.budget import Budget
    from tcpspec.solving.query import check
    from tcpspec.engines.deadlock import deadlocked_at
    from tcpspec.encoding.theories import choose_theory

    ts = TransitionSystem(model, choose_theory(model, theory))
    s = ts.th.solver()
    s.add(ts.well_formed(0), cert.invariants[0].build(ts, 0), deadlocked_at(ts, 0))
    out = check(s, [], Budget(timeout))
    if out.result == z3.unsat:
        return None
    return "deadlock_free: counterexample" if out.result == z3.sat else f"deadlock_free: solver unknown ({out.reason})"

