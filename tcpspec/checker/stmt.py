"""Lowering a transition's body: statements checked in the scope of one instance, to `ir` statements.

`for` loops are unrolled and a `send` to a family member chosen at run time becomes an if-chain
over the members, so the `ir` keeps its three statements (assign, send, if). The rule "at most
one message per channel on any path" is checked afterwards on that lowered body, where every
channel is known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace


from tcpspec.frontend import ast_expr

from tcpspec.checker import ir
from tcpspec.checker.conversions import coerce
from tcpspec.checker.domains import eq, value_lit
from tcpspec.checker.expr import ExprChecker
from tcpspec.checker.index import MAX_EXPANDED
from tcpspec.checker.scope import Reporter, Scope, suggest
from tcpspec.core.diagnostics import Span
from tcpspec.core.types import BOOL, IntType, MapType, RecordType, Type


def contains_bounded(t: Type) -> bool:
    """Whether storing a `t` can break a range (a bounded int, or a message with one)."""
    if isinstance(t, IntType):
        return t.bounded
    if isinstance(t, RecordType):
        return any(contains_bounded(ft) for _, ft in t.fields)
    if isinstance(t, MapType):
        return contains_bounded(t.value)
    return False


class StmtChecker:
    """Lowers the statements of one transition; `note_range` hears of every store that can
    leave a range (the model then gets the built-in `range_ok`)."""

    def __init__(self, rep: Reporter, note_range: Callable[[Span], None]) -> None:
        self.rep = rep
        self.note_range = note_range
        self.written: dict[int, str] = {}  # id(ir.Send) -> the channel as written (`inbox`, `out[j]`)
        self.lets = 0  # `let` names are made unique within the transition: `old#1`

    def lower(self, stmts: tuple[ast_expr.Stmt, ...], ec: ExprChecker) -> tuple[ir.Stmt, ...]:
        """A block: each `let` is in scope for the statements after it, to the block's end."""
        out: list[ir.Stmt] = []
        for s in stmts:
            if isinstance(s, ast_expr.Let):
                let = self._let(s.name, s.value, s.span, ec)
                if let is not None:
                    out.append(let[0])
                    ec = let[1]
                continue
            out.extend(self._stmt(s, ec))
        return tuple(out)

    def _let(self, name: str, e: ast_expr.Expr, span: Span, ec: ExprChecker) -> tuple[ir.Let, ExprChecker] | None:
        s = ec.scope
        if name in s.local_names() or name in s.env.kinds or name in s.env.members:
            self.rep.error(span, f"'{name}' already names something here; choose another name for the let")
            ec.check(e)
            return None
        value = ec.check(e)
        if value is None:
            return None
        self.lets += 1
        irname = f"{name}#{self.lets}"
        local = ir.Local(irname, value.type, span, value)
        return ir.Let(irname, value, span), type(ec)(ec.rep, replace(s, locals={**s.locals, name: local}))

    def _multi(self, s: ast_expr.MultiAssign, ec: ExprChecker) -> list[ir.Stmt]:
        """`a, b := b, a;`: every value (and map key) is computed, into a hidden let, before
        anything is stored."""
        names = [a.target for a in s.assigns if not a.path]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            self.rep.error(s.span, f"'{twice[0]}' is assigned twice in one simultaneous assignment")
            return []
        lets: list[ir.Stmt] = []
        stores: list[tuple[ast_expr.Assign, ir.StateVar, list[ir.Expr], ir.Expr]] = []
        for a in s.assigns:
            target = self._target(a, ec.scope)
            parts = [ec.check(k) for k in a.path] + [ec.check(a.value)]
            if target is None or any(p is None for p in parts):
                continue
            hidden = []
            for p in parts:
                assert p is not None
                self.lets += 1
                name = f"{a.target}'#{self.lets}"  # a quote: no user name can clash
                lets.append(ir.Let(name, p, p.span))
                hidden.append(ir.Local(name, p.type, p.span, p))
            stores.append((a, target, hidden[:-1], hidden[-1]))
        out = list(lets)
        for a, target, keys, value in stores:
            out.extend(_opt(self._store(a, target, keys, value, ec)))
        return out

    def _stmt(self, s: ast_expr.Stmt, ec: ExprChecker) -> list[ir.Stmt]:
        if isinstance(s, ast_expr.Assign):
            return _opt(self._assign(s, ec))
        if isinstance(s, ast_expr.MultiAssign):
            return self._multi(s, ec)
        if isinstance(s, ast_expr.Send):
            return _opt(self._send(s, ec))
        if isinstance(s, ast_expr.If):
            cond = ec.check_bool(s.cond, "an 'if' condition")
            then, other = self.lower(s.then, ec), self.lower(s.else_, ec)
            return [ir.If(cond, then, other, s.span)] if cond is not None else []
        if isinstance(s, ast_expr.For):
            return self._for(s, ec)
        if not isinstance(s, ast_expr.Skip):
            self.rep.error(getattr(s, "span", None), "not a statement")
        return []

    def _for(self, s: ast_expr.For, ec: ExprChecker) -> list[ir.Stmt]:
        dom = ec.domain(s.lo, s.hi, s.var, "for", s.span)
        if dom is None:
            return []
        out: list[ir.Stmt] = []
        for lit in dom.lits:
            body = self.lower(s.body, ec.bound(s.var, lit))
            if dom.guard is None:
                out.extend(body)
            elif body:  # over a set: the block runs for its elements only
                out.append(ir.If(ir.Member(lit, dom.guard, BOOL, s.span), body, (), s.span))
        return out

    # ------------------------------------------------------------ assignments

    def _assign(self, s: ast_expr.Assign, ec: ExprChecker) -> ir.Stmt | None:
        target = self._target(s, ec.scope)
        keys = [ec.check(k) for k in s.path]
        value = ec.check(s.value)
        if target is None or value is None or any(k is None for k in keys):
            return None
        return self._store(s, target, [k for k in keys if k is not None], value, ec)

    def _store(self, s: ast_expr.Assign, target: ir.StateVar, keys: list[ir.Expr], value: ir.Expr,
               ec: ExprChecker) -> ir.Stmt | None:
        if keys:
            element = self._element(ir.Var(target, False, target.type, s.target_span), keys, value, s, ec)
            if element is None:
                return None
            value = element
        conv = coerce(value, target.type)
        if conv is None:
            self.rep.error(s.value.span, f"type mismatch: cannot assign {value.type} to {s.target} of type {target.type}")
            return None
        if contains_bounded(target.type):
            self.note_range(s.span)
        return ir.Assign(target, conv, s.span)

    def _element(self, base: ir.Expr, keys: list[ir.Expr], value: ir.Expr, s: ast_expr.Assign,
                 ec: ExprChecker) -> ir.Expr | None:
        """`m[k1][k2] := v` as the map m with that element replaced (`ir.MapStore`, nested)."""
        mt = base.type
        if not isinstance(mt, MapType):
            self.rep.error(s.target_span, f"'{s.target}' is a {mt}, not a map: only a map's element can be "
                           "assigned with [...]")
            return None
        key = ec.map_key(mt, keys[0])
        if key is None:
            return None
        if len(keys) > 1:
            inner = self._element(ir.MapRead(base, key, mt.value, s.target_span), keys[1:], value, s, ec)
        else:
            inner = coerce(value, mt.value)
            if inner is None:
                self.rep.error(s.value.span, f"type mismatch: cannot assign {value.type} to an element of "
                               f"{s.target} (of type {mt.value})")
        return None if inner is None else ir.MapStore(base, key, inner, mt, s.span)

    def _target(self, s: ast_expr.Assign, scope: Scope) -> ir.StateVar | None:
        name, span, env = s.target, s.target_span, scope.env
        if name in scope.vars:
            return scope.vars[name]
        local = {**{n: "choose parameter" for n in scope.params}, **{n: "message" for n in scope.msgs},
                 **{n: "process parameter" for n in scope.values}, **{n: "channel" for n in scope.chans},
                 **{n: "let name" for n in scope.locals}}
        kind = local.get(name) or (None if name in scope.broken else env.kinds.get(name))
        if name in scope.broken or (kind is None and name in env.broken):
            return None
        if kind is None:
            self.rep.error(span, f"unknown variable '{name}'{suggest(name, set(scope.vars))}")
        elif kind == "channel":
            self.rep.error(span, f"cannot assign to channel '{name}'; use send")
        elif kind == "message":
            self.rep.error(span, f"cannot assign to message '{name}': a received message is read-only")
        elif kind == "let name":
            self.rep.error(span, f"cannot assign to '{name}': a let keeps the value it was given (use a variable)")
        else:
            self.rep.error(span, f"cannot assign to {kind} '{name}'")
        return None

    # ------------------------------------------------------------ sends

    def _send(self, s: ast_expr.Send, ec: ExprChecker) -> ir.Stmt | None:
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


# ---------------------------------------------------------------- reads after writes

SEQUENTIAL_DOC = 'docs/language.md, "Sequential and simultaneous assignment"'


def warn_reads_after_writes(rep: Reporter, body: tuple[ir.Stmt, ...]) -> None:
    """A warning where the value stored into a variable (an assignment's or a `let`'s value)
    reads a variable an earlier statement of the same body may have assigned. Statements run in
    order, so that read sees the new value, where TLA+'s `y' = x` reads the old one: a
    translated model silently loses state (`a := b; b := a;`). A condition or a sent message
    that reads what the step just computed is the usual intent (`rcv_nxt := seg.seq + 1; send
    ... ackno: rcv_nxt`), so those are not flagged. One warning per variable and transition."""
    warned: set[str] = set()

    def reads(e: ir.Expr, assigned: dict[str, Span]) -> None:
        for var in _vars_read(e):
            first = assigned.get(var.var.name)
            if first is not None and var.var.name not in warned:
                warned.add(var.var.name)
                rep.warn(var.span, f"'{var.var.local}' is read after the assignment on line {first.line}, in the "
                         f"same transition: statements run in order, so this reads the new value",
                         f"to read the value from before the step, name it first (let old = {var.var.local};) or "
                         f"assign simultaneously (a, b := b, a;); see {SEQUENTIAL_DOC}")

    def walk(stmts: tuple[ir.Stmt, ...], assigned: dict[str, Span]) -> dict[str, Span]:
        assigned = dict(assigned)
        for st in stmts:
            if isinstance(st, ir.Assign):
                for part in _stored_parts(st.value, st.target.name):
                    reads(part, assigned)
                assigned.setdefault(st.target.name, st.span)
            elif isinstance(st, ir.Let):
                reads(st.value, assigned)
            elif isinstance(st, ir.If):
                then, other = walk(st.then, assigned), walk(st.else_, assigned)
                assigned = {**other, **then}
        return assigned

    walk(body, {})


def _stored_parts(e: ir.Expr, target: str) -> list[ir.Expr]:
    """What an assignment to `target` reads: for `m[k] := v` (the map m with one element
    replaced) the keys and v, not m itself, which the element update only carries over."""
    if not isinstance(e, ir.MapStore):
        return [e]
    keys = [e.key]
    base = e.map
    while isinstance(base, ir.MapRead):
        keys.append(base.key)
        base = base.map
    if not (isinstance(base, ir.Var) and base.var.name == target):
        return [e]
    return keys + _stored_parts(e.value, target)


def _vars_read(e: object) -> list[ir.Var]:
    """The unprimed state variables an expression reads (not through a `let` name: that is a
    value computed earlier)."""
    out: list[ir.Var] = []
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, ir.Var):
            if not x.primed:
                out.append(x)
        elif isinstance(x, ir.Local):
            continue
        elif isinstance(x, tuple):
            stack.extend(reversed(x))
        elif hasattr(x, "__dataclass_fields__") and not isinstance(x, (ir.Channel, ir.StateVar)):
            for name in x.__dataclass_fields__:
                if name not in ("type", "span"):
                    stack.append(getattr(x, name))
    return out


def _written(s: ast_expr.Send) -> str:
    return s.channel + ("[...]" if s.index is not None else "")


def _opt(s: ir.Stmt | None) -> list[ir.Stmt]:
    return [] if s is None else [s]


__all__ = ["MAX_EXPANDED", "StmtChecker", "contains_bounded"]
