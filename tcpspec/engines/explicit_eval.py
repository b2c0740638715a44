"""Guards and properties for the explicit search, compiled once, decided in three-valued logic.

The values are the interpreter's (`interp.compile_expr` for every expression that is not a
connective). What is added is Kleene's logic over `and`, `or`, `==>`, `!` and `if`: a part that
reads an opaque value (engines/seqspace.py) is *unknown*, and the whole is still decided when
the other parts decide it -- `(state == FIN_WAIT_1 && seg.ackno != snd_nxt) && seg.ack` is
false for a segment without ACK whatever its `ackno`. That is exactly the value the
interpreter computes for every concrete value in place of the opaque one, so the search may
use it. Only a result that stays unknown depends on an opaque value (`OpaqueRead` is raised).
Without opaque values the result is the interpreter's, in the interpreter's order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Optional

from tcpspec.checker import ir
from tcpspec.interp.evaluate import Env, compile_expr
from tcpspec.interp.values import InterpError, OpaqueRead
from tcpspec.interp.semantics import StepOutcome, step_env
from tcpspec.core.types import BoolType

Tri = Optional[bool]  # None: unknown (depends on an opaque value)
Test = Callable[[Env], bool]


class _Reads:
    """The last opaque read met while deciding one formula (to report it if it decides)."""

    def __init__(self) -> None:
        self.last: OpaqueRead | None = None


def _tri(expr: ir.Expr, reads: _Reads) -> Callable[[Env], Tri]:
    if isinstance(expr, ir.Binary) and expr.op in ("and", "or", "implies"):
        left, right, op = _tri(expr.left, reads), _tri(expr.right, reads), expr.op

        if op == "and":
            def both(env: Env) -> Tri:
                a = left(env)
                if a is False:
                    return False
                b = right(env)
                return False if b is False else (None if a is None or b is None else True)
            return both
        if op == "or":
            def either(env: Env) -> Tri:
                a = left(env)
                if a is True:
                    return True
                b = right(env)
                return True if b is True else (None if a is None or b is None else False)
            return either

        def implies(env: Env) -> Tri:
            a = left(env)
            if a is False:
                return True
            b = right(env)
            return True if b is True else (None if a is None or b is None else False)
        return implies
    if isinstance(expr, ir.Unary) and expr.op == "not":
        arg = _tri(expr.arg, reads)

        def negate(env: Env) -> Tri:
            a = arg(env)
            return None if a is None else not a
        return negate
    if isinstance(expr, ir.Ite) and isinstance(expr.type, BoolType):
        cond, then, else_ = _tri(expr.cond, reads), _tri(expr.then, reads), _tri(expr.else_, reads)

        def pick(env: Env) -> Tri:
            c = cond(env)
            if c is not None:
                return then(env) if c else else_(env)
            a, b = then(env), else_(env)
            return a if a is not None and a == b else None
        return pick
    leaf = compile_expr(expr)

    def atom(env: Env) -> Tri:
        try:
            v = leaf(env)
        except OpaqueRead as e:
            reads.last = e
            return None
        if not isinstance(v, bool):
            raise InterpError(f"expected a bool from {type(expr).__name__}")
        return v
    return atom


def decide(expr: ir.Expr) -> Test:
    """`expr` (a bool) as a function of the environment; raises OpaqueRead when its value
    depends on an opaque value. The interpreter's compiled evaluation first; the three-valued
    one only when that met an opaque value."""
    reads = _Reads()
    tri = _tri(expr, reads)
    fast = compile_expr(expr)

    def test(env: Env) -> bool:
        v: object
        try:
            v = fast(env)
        except OpaqueRead:
            v = tri(env)
            if v is None:
                assert reads.last is not None
                raise reads.last from None
        if not isinstance(v, bool):
            raise InterpError(f"expected a bool, got {v!r}")
        return v
    return test


class StepCheck:
    """A step property, compiled: `ok(pre, transition, outcome)` is `interp.step_ok`."""

    def __init__(self, prop: ir.Property) -> None:
        self.prop = prop
        self.when = decide(prop.when) if prop.when is not None else None
        self.ensure = decide(prop.expr)

    def ok(self, pre: object, transition: ir.AnyTransition, outcome: StepOutcome) -> bool:
        if self.prop.builtin:
            return outcome.range_ok
        env = step_env(self.prop, pre, outcome, transition)  # type: ignore[arg-type]
        if env is None or (self.when is not None and not self.when(env)):
            return True
        return self.ensure(env)

    def may_apply(self, t: ir.AnyTransition) -> bool:
        """False when the property can never concern a step of `t` (cheap, static)."""
        p = self.prop
        if p.builtin:
            return True
        if isinstance(t, ir.NetworkTransition):
            return p.instance is None and not p.events
        if p.instance is not None and t.instance != p.instance:
            return False
        sends = _sent_channels(t.body)
        for ev in p.events:
            if ev.kind == "receive" and (t.receive is None or t.receive[1].name != ev.channel.name):
                return False
            if ev.kind == "send" and ev.channel.name not in sends:
                return False
        return True


def _sent_channels(body: tuple[ir.Stmt, ...]) -> set[str]:
    out: set[str] = set()
    for s in body:
        if isinstance(s, ir.Send):
            out.add(s.channel.name)
        elif isinstance(s, ir.If):
            out |= _sent_channels(s.then) | _sent_channels(s.else_)
    return out


def necessary(guard: ir.Expr) -> list[tuple[str, str, frozenset[object]]]:
    """What a guard needs of plain state variables and of the received message's fields, read
    off its top-level conjuncts: triples (where, name, the values it may have), e.g. ("var",
    "client.state", {LISTEN, SYN_SENT}) or ("msg", "syn", {True}). Each is implied by the
    guard, so a state that fails one cannot enable the transition: the search tries the guard
    only where they all pass (a set lookup instead of evaluating the formula)."""
    out: list[tuple[str, str, frozenset[object]]] = []
    todo = [guard]
    while todo:
        e = todo.pop()
        if isinstance(e, ir.Binary) and e.op == "and":
            todo += [e.left, e.right]
            continue
        allowed = _allowed(e)
        if allowed is not None:
            out.append(allowed)
    return out


def _place(e: ir.Expr) -> tuple[str, str] | None:
    """A plain state variable ("var", name) or a field of the received message ("msg", field)."""
    if isinstance(e, ir.Var) and not e.primed:
        return "var", e.var.name
    if isinstance(e, ir.Field) and isinstance(e.base, ir.Msg):
        return "msg", e.field
    return None


def _allowed(e: ir.Expr) -> tuple[str, str, frozenset[object]] | None:
    """`x == c`, `x` (a bool), `!x`, or a disjunction of these on one place `x`. Only bools and
    enum members: no `1 == True` confusion in the set."""
    here = _place(e)
    if isinstance(e.type, BoolType) and here is not None:
        return here[0], here[1], frozenset([True])
    inner = _place(e.arg) if isinstance(e, ir.Unary) and e.op == "not" else None
    if inner is not None:
        return inner[0], inner[1], frozenset([False])
    if isinstance(e, ir.Binary) and e.op == "eq":
        for a, b in ((e.left, e.right), (e.right, e.left)):
            where = _place(a)
            if where is not None and isinstance(b, ir.Lit) and isinstance(b.value, (bool, str)):
                return (*where, frozenset([b.value]))  # type: ignore[return-value]
        return None
    if isinstance(e, ir.Binary) and e.op == "or":
        left, right = _allowed(e.left), _allowed(e.right)
        if left is not None and right is not None and left[:2] == right[:2]:
            return left[0], left[1], left[2] | right[2]
    return None
