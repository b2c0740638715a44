"""State variables that keep their initial value in every run, seen from the model's text alone.

A model with options (`const WINDOW = false;`) carries the variables of every option; with the
option off, no enabled transition writes them. The prover's candidate generator would still
relate each of them to every other number of its instance, and Houdini would spend rounds on
those relations. Knowing the variable is a constant, one candidate (`v == its initial value`)
says all there is.

The analysis is syntactic and errs on the side of "not frozen": a variable is frozen when its
initial value is a closed constant and every assignment to it lies in a transition whose guard
is constantly false, in a branch whose condition is constantly false, or stores that same
constant or the variable itself (`x := if OPTION then e else x`). The candidate it yields is still proved like any other (initiation and consecution),
so a wrong answer here could cost a proof, never make one.
"""

from __future__ import annotations

from collections.abc import Iterable

from tcpspec.checker import ir
from tcpspec.checker.const import const_value, decided
from tcpspec.core.types import IntType


def never(e: ir.Expr) -> bool:
    return decided(e) is False


def always(e: ir.Expr) -> bool:
    return decided(e) is True


def settle(e: ir.Expr) -> ir.Expr:
    """`e` with its constantly decided if-then-elses (and widening conversions) taken."""
    while True:
        if isinstance(e, ir.Ite) and always(e.cond):
            e = e.then
        elif isinstance(e, ir.Ite) and never(e.cond):
            e = e.else_
        elif isinstance(e, ir.Convert) and isinstance(e.type, IntType) and isinstance(e.arg.type, IntType):
            e = e.arg  # a widening between int ranges keeps the value
        else:
            return e


def frozen(model: ir.Model) -> dict[str, ir.Expr]:
    """The frozen state variables, each with its (constant) initial value."""
    inits: dict[str, ir.Expr] = {}
    for v in model.state_vars:
        e = model.init.get(v.name)
        if e is not None and const_value(e) is not None:
            inits[v.name] = e
    written: set[str] = set()

    def walk(body: Iterable[ir.Stmt]) -> None:
        for s in body:
            if isinstance(s, ir.Assign):
                name = s.target.name
                value = settle(s.value)
                keeps = (isinstance(value, ir.Var) and value.var.name == name) or \
                    const_value(value) == const_value(inits.get(name, value))
                if name in inits and not keeps:
                    written.add(name)
            elif isinstance(s, ir.If):
                if not never(s.cond):
                    walk(s.then)
                if not always(s.cond):
                    walk(s.else_)

    for t in model.transitions:
        if isinstance(t, ir.Transition) and not never(t.guard):
            walk(t.body)
    return {name: e for name, e in inits.items() if name not in written}
