"""Lowering a transition's body: statements checked in the scope of one instance, to `ir` statements.

`for` loops are unrolled and a `send` to a family member chosen at run time becomes an if-chain
over the members, so the `ir` keeps its three statements (assign, send, if). The rule "at most
one message per channel on any path" is checked afterwards on that lowered body, where every
channel is known.
"""

from __future__ import annotations

from collections.abc import Callable

from tcpspec import ast, ir
from tcpspec.checker_expr import ExprChecker, Reporter, Scope, suggest
from tcpspec.checker_index import MAX_EXPANDED, eq, value_lit
from tcpspec.diagnostics import Span
from tcpspec.types import IntType, RecordType, Type


def contains_bounded(t: Type) -> bool:
    """Whether storing a `t` can break a range (a bounded int, or a message with one)."""
    if isinstance(t, IntType):
        return t.bounded
    if isinstance(t, RecordType):
        return any(contains_bounded(ft) for _, ft in t.fields)
    return False


class StmtChecker:
    """Lowers the statements of one transition; `note_range` hears of every store that can
    leave a range (the model then gets the built-in `range_ok`)."""

    def __init__(self, rep: Reporter, note_range: Callable[[Span], None]) -> None:
        self.rep = rep
        self.note_range = note_range
        self.written: dict[int, str] = {}  # id(ir.Send) -> the channel as written (`inbox`, `out[j]`)

    def lower(self, stmts: tuple[ast.Stmt, ...], ec: ExprChecker) -> tuple[ir.Stmt, ...]:
        out: list[ir.Stmt] = []
        for s in stmts:
            out.extend(self._stmt(s, ec))
        return tuple(out)

    def _stmt(self, s: ast.Stmt, ec: ExprChecker) -> list[ir.Stmt]:
        if isinstance(s, ast.Assign):
            return _opt(self._assign(s, ec))
        if isinstance(s, ast.Send):
            return _opt(self._send(s, ec))
        if isinstance(s, ast.If):
            cond = ec.check_bool(s.cond, "an 'if' condition")
            then, other = self.lower(s.then, ec), self.lower(s.else_, ec)
            return [ir.If(cond, then, other, s.span)] if cond is not None else []
        if isinstance(s, ast.For):
            return self._for(s, ec)
        if not isinstance(s, ast.Skip):
            self.rep.error(getattr(s, "span", None), "not a statement")
        return []

    def _for(self, s: ast.For, ec: ExprChecker) -> list[ir.Stmt]:
        lits = ec.domain(s.lo, s.hi, s.var, "for", s.span)
        if lits is None:
            return []
        out: list[ir.Stmt] = []
        for lit in lits:
            out.extend(self.lower(s.body, ec.bound(s.var, lit)))
        return out

    # ------------------------------------------------------------ assignments

    def _assign(self, s: ast.Assign, ec: ExprChecker) -> ir.Stmt | None:
        target = self._target(s, ec.scope)
        if target is None:
            ec.check(s.value)
            return None
        value = ec.check_as(s.value, target.type, s.target)
        if value is None:
            return None
        if contains_bounded(target.type):
            self.note_range(s.span)
        return ir.Assign(target, value, s.span)

    def _target(self, s: ast.Assign, scope: Scope) -> ir.StateVar | None:
        name, span, env = s.target, s.target_span, scope.env
        if name in scope.vars:
            return scope.vars[name]
        local = {**{n: "choose parameter" for n in scope.params}, **{n: "message" for n in scope.msgs},
                 **{n: "process parameter" for n in scope.values}, **{n: "channel" for n in scope.chans}}
        kind = local.get(name) or (None if name in scope.broken else env.kinds.get(name))
        if name in scope.broken or (kind is None and name in env.broken):
            return None
        if kind is None:
            self.rep.error(span, f"unknown variable '{name}'{suggest(name, set(scope.vars))}")
        elif kind == "channel":
            self.rep.error(span, f"cannot assign to channel '{name}'; use send")
        elif kind == "message":
            self.rep.error(span, f"cannot assign to message '{name}': a received message is read-only")
        else:
            self.rep.error(span, f"cannot assign to {kind} '{name}'")
        return None

    # ------------------------------------------------------------ sends

    def _send(self, s: ast.Send, ec: ExprChecker) -> ir.Stmt | None:
        ref = ec.chan_ref(s.channel, s.index, s.channel_span)
        msg = ec.check(s.message)
        if ref is None or msg is None:
            return None
        message = ref.options[0][1].message
        if msg.type != message:
            self.rep.error(s.message.span, f"channel '{_written(s)}' carries {message}, not {msg.type}")
            return None
        if contains_bounded(message):
            self.note_range(s.span)
        sends = [(v, ir.Send(chan, msg, s.span)) for v, chan in ref.options]
        for _, send in sends:
            self.written[id(send)] = s.channel if s.index is None else send.channel.name
        if ref.index is None:
            return sends[0][1]
        # `send to_rm[j] m`: one branch per member j may select, the last one without a test.
        out: ir.Stmt = sends[-1][1]
        for v, send in reversed(sends[:-1]):
            out = ir.If(eq(ref.index, value_lit(v, ref.index.type, s.span), s.span), (send,), (out,), s.span)
        return out

    def check_sends(self, tname: str, stmts: tuple[ir.Stmt, ...],
                    sent: dict[str, ir.Send] | None = None) -> dict[str, ir.Send]:
        """At most one send per channel along any path: branches are checked apart, then joined."""
        sent = dict(sent or {})
        for s in stmts:
            if isinstance(s, ir.If):
                then = self.check_sends(tname, s.then, sent)
                other = self.check_sends(tname, s.else_, sent)
                sent = {**other, **then}
            elif isinstance(s, ir.Send):
                first = sent.get(s.channel.name)
                if first is None:
                    sent[s.channel.name] = s
                    continue
                written, first_written = self.written.get(id(s), s.channel.name), self.written.get(id(first), "")
                notes = [f"first send at {first.span}"]
                if first_written and first_written != written:
                    notes.append(f"'{first_written}' and '{written}' are both channel '{s.channel.name}'")
                self.rep.error(s.span, f"transition '{tname}' sends to '{written}' twice on one path "
                               "(at most one message per channel)", *notes)
        return sent


def _written(s: ast.Send) -> str:
    return s.channel + ("[...]" if s.index is not None else "")


def _opt(s: ir.Stmt | None) -> list[ir.Stmt]:
    return [] if s is None else [s]


__all__ = ["MAX_EXPANDED", "StmtChecker", "contains_bounded"]
