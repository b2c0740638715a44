"""A checked model as an SMT-LIB 2 transition system, for other solvers (VMT-like functions).

The terms are the `TransitionSystem`'s own (z3 prints them), wrapped as functions of the state
so that a consumer unrolls them itself:

    (define-fun init  (S0)        Bool ...)   ; state 0 is initial
    (define-fun trans (S0 S1 L0)  Bool ...)   ; one step, L0 = the step's choice and parameters
    (define-fun |inv name| (S0) Bool ...)     ; invariant predicate / reachability target
    (define-fun |bad name| (S0 S1 L0) Bool ...) ; this step breaks the step property

`bmc_query` builds such an unrolling: "does some selected property fail within k steps?".
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from tcpspec.checker import ir
from tcpspec.exporters import comment_text
from tcpspec.encoding.theories import choose_theory
from tcpspec.encoding.transition_system import TransitionSystem


@dataclass
class SmtSystem:
    """The printed functions and their argument lists (z3 constants, in order)."""

    text: str
    state: list[z3.ExprRef]  # state-0 constants; their state-1 twins are `next_state`
    next_state: list[z3.ExprRef]
    locals: list[z3.ExprRef]  # the step's own constants (act, parameters)
    properties: list[ir.Property]


def _consts(terms: list[z3.ExprRef]) -> list[z3.ExprRef]:
    """The uninterpreted constants of `terms`, in first-seen order."""
    seen: dict[int, z3.ExprRef] = {}
    todo = list(terms)
    visited: set[int] = set()
    while todo:
        t = todo.pop()
        if t.get_id() in visited:
            continue
        visited.add(t.get_id())
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            seen.setdefault(t.get_id(), t)
        todo.extend(t.children())
    return sorted(seen.values(), key=lambda c: str(c))


def _leaves(sym: object) -> list[z3.ExprRef]:
    if isinstance(sym, z3.ExprRef):
        return [sym]
    if isinstance(sym, dict):
        return [x for v in sym.values() for x in _leaves(v)]
    slots, length = getattr(sym, "slots"), getattr(sym, "length")
    return [x for s in slots for x in _leaves(s)] + [length]


def _args(cs: list[z3.ExprRef]) -> str:
    return " ".join(f"({c.sexpr()} {c.sort().sexpr()})" for c in cs)


def export_smtlib(model: ir.Model, theory: str = "auto", properties: list[ir.Property] | None = None) -> SmtSystem:
    """The model's init, transition relation and property predicates as SMT-LIB functions."""
    ts = TransitionSystem(model, choose_theory(model, theory))
    props = [p for p in (properties if properties is not None else model.properties)]
    # z3 prints one-argument `and`s, which strict SMT-LIB readers (Bitwuzla) reject: simplify.
    init = z3.simplify(ts.init())
    step = ts.step_at(0)
    trans = z3.simplify(z3.And(step.trans, ts.well_formed(1), step.range_ok))
    preds = {p.name: z3.simplify(ts.step_violated(p, 0) if p.kind is ir.PropertyKind.STEP else ts.holds_at(p, 0))
             for p in props}
    s0 = _consts([t for v in ts.state_at(0).values() for t in _leaves(v)])
    s1 = _consts([t for v in ts.state_at(1).values() for t in _leaves(v)])
    both = {c.get_id() for c in s0 + s1}
    loc = [c for c in _consts([trans, *preds.values()]) if c.get_id() not in both]
    assert len(s0) == len(s1)  # both sorted by name: x@0 and x@1 at the same position
    step_args = _args(s0 + s1 + loc)
    lines = [
        f"; {comment_text(model.path)}: transition system exported by `tcpspec export --to smtlib` (theory {ts.th.name}).",
        f"; State: {len(s0)} constants (step 0 names end in @0, step 1 in @1); step locals: {len(loc)}.",
        "; init(S0), trans(S0 S1 L0), |inv NAME|(S0) for invariants and reachability targets,",
        "; |bad NAME|(S0 S1 L0) for step properties (true: the step breaks it).",
        "(set-logic ALL)",
        f"(define-fun init ({_args(s0)}) Bool {init.sexpr()})",
        f"(define-fun trans ({step_args}) Bool {trans.sexpr()})",
    ]
    for p in props:
        if p.kind is ir.PropertyKind.STEP:
            lines.append(f"(define-fun |bad {p.name}| ({step_args}) Bool {preds[p.name].sexpr()})")
        else:
            lines.append(f"(define-fun |inv {p.name}| ({_args(s0)}) Bool {preds[p.name].sexpr()})")
    return SmtSystem("\n".join(lines) + "\n", s0, s1, loc, props)


def bmc_query(system: SmtSystem, depth: int, exact: bool = False) -> str:
    """SMT-LIB asking whether a property of `system` fails within `depth` steps (sat: it does).

    Invariants fail when false, reachability targets "fail" when reached, step properties when
    a step breaks them. `exact`: only at step `depth` (the query BMC asks at each deepening).
    """
    def names(prefix: str, j: int, cs: list[z3.ExprRef]) -> list[str]:
        return [f"{prefix}{j}_{i}" for i in range(len(cs))]

    out = [system.text]
    for j in range(depth + 1):
        out += [f"(declare-fun {n} () {c.sort().sexpr()})" for n, c in zip(names("s", j, system.state), system.state)]
        if j < depth:
            out += [f"(declare-fun {n} () {c.sort().sexpr()})" for n, c in zip(names("l", j, system.locals), system.locals)]
    out.append(f"(assert (init {' '.join(names('s', 0, system.state))}))")
    for j in range(depth):
        step = " ".join(names("s", j, system.state) + names("s", j + 1, system.state) + names("l", j, system.locals))
        out.append(f"(assert (trans {step}))")
    bad: list[str] = []
    for j in range(0 if not exact else depth, depth + 1):
        state = " ".join(names("s", j, system.state))
        for p in system.properties:
            if p.over_states:
                bad.append(f"(not (|inv {p.name}| {state}))")
            elif p.kind is ir.PropertyKind.REACHABLE:
                bad.append(f"(|inv {p.name}| {state})")
            elif j > 0:
                step = " ".join(names("s", j - 1, system.state) + names("s", j, system.state)
                                + names("l", j - 1, system.locals))
                bad.append(f"(|bad {p.name}| {step})")
    out.append(f"(assert (or false {' '.join(bad)}))")
    return "\n".join(out) + "\n"
