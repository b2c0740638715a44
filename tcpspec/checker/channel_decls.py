"""Channel declarations: message type, capacity, faults, families of channels and the messages
in flight at the start; and the network's fault transitions made from them.

A channel is built from declared types and constants (type_decls.py) and becomes part of the
global namespace that processes are checked in, so it is checked before any process.
"""

from __future__ import annotations

from dataclasses import replace

from tcpspec.frontend import ast, ast_expr

from tcpspec.checker import ir
from tcpspec.checker.const import const_value
from tcpspec.checker.expr import ExprChecker
from tcpspec.checker.scope import ChanFamily, Scope
from tcpspec.checker.type_decls import TypeDecls, family_bounds
from tcpspec.core.diagnostics import Span
from tcpspec.core.types import BOOL, IntType, RecordType, Type, Value, value_text, values_in_range


class ChannelDecls(TypeDecls):
    """The part of the model checker that declares channels and their faults."""

    fault_spans: dict[tuple[str, str], Span]

    # ------------------------------------------------------------ channels

    def _channels(self) -> None:
        for decl in self.decls:
            if not isinstance(decl, ast.ChannelDecl):
                continue
            chan = self._channel(decl)
            members = self._channel_members(decl)
            if chan is None or members is None:
                self.env.broken.add(decl.name)
                continue
            made: list[ir.Channel] = []
            for index, binder in members:
                name = decl.name if index is None else f"{decl.name}[{index}]"
                init = self._chan_init(decl, chan, binder)
                if init is None:
                    self.env.broken.add(decl.name)
                    break
                member = replace(chan, name=name, family=decl.name if index is not None else "",
                                 index=index, init=init)
                made.append(member)
                self.env.channels[name] = member
            else:
                if decl.family is not None:
                    lo = members[0][0]
                    assert lo is not None
                    self.env.chan_families[decl.name] = ChanFamily(decl.name, lo, lo + len(made) - 1,
                                                                   tuple(made), chan.message)

    def _channel_members(self, decl: ast.ChannelDecl) -> list[tuple[int | None, dict[str, ir.Lit]]] | None:
        """(index, the binder's value) per member: one member (None) without a family."""
        fam = decl.family
        if fam is None:
            return [(None, {})]
        if isinstance(fam, ast.Binder):
            bounds = family_bounds(self.rep, self.env, ast_expr.Family(fam.lo, fam.hi, fam.span))
            if bounds is None:
                return None
            return [(i, {fam.var: ir.Lit(i, IntType(i, i), fam.span)}) for i in range(bounds[0], bounds[1] + 1)]
        bounds = family_bounds(self.rep, self.env, fam)
        return None if bounds is None else [(i, {}) for i in range(bounds[0], bounds[1] + 1)]

    def _chan_init(self, decl: ast.ChannelDecl, chan: ir.Channel, binder: dict[str, ir.Lit]) -> tuple[Value, ...] | None:
        """The messages in flight at the start: constants of the channel's type, within capacity."""
        msgs = decl.init
        if isinstance(msgs, ast.InitChoice):
            cond = ExprChecker(self.rep, Scope(self.env, values=dict(binder))).check_bool(msgs.cond, "the condition")
            which = None if cond is None else const_value(cond)
            if cond is not None and not isinstance(which, bool):
                self.rep.error(msgs.cond.span, "the condition must be a constant expression (of the family's index)")
            if not isinstance(which, bool):
                return None
            msgs = msgs.then if which else msgs.else_
        if msgs is None:
            return ()
        if len(msgs) > chan.capacity:
            self.rep.error(msgs[chan.capacity].span, f"channel '{decl.name}' holds {chan.capacity} "
                           f"message{'s' if chan.capacity > 1 else ''}, not {len(msgs)}")
            return None
        out: list[Value] = []
        for e in msgs:
            msg = ExprChecker(self.rep, Scope(self.env, values=dict(binder))).check_as(
                e, chan.message, f"channel '{decl.name}'")
            if msg is None:
                return None
            value = const_value(msg)
            if value is None:
                self.rep.error(e.span, "a message in flight at the start must be a constant expression")
                return None
            if not values_in_range(chan.message, value):
                self.rep.error(e.span, f"message {value_text(value)} is out of range of {chan.message}")
                return None
            out.append(value)
        return tuple(out)

    def _channel(self, decl: ast.ChannelDecl) -> ir.Channel | None:
        message = self._type_name(decl.message.name, decl.message.span)
        if message is not None and not isinstance(message, RecordType):
            self.rep.error(decl.message.span, f"a channel carries messages, not {message}")
            message = None
        capacity = self.const_int(decl.capacity, "a channel capacity")
        if capacity is not None and capacity < 1:
            self.rep.error(decl.capacity.span, f"a channel capacity must be at least 1, not {capacity}")
            capacity = None
        faults = self._faults(decl)
        if message is None or capacity is None or faults is None:
            return None
        return ir.Channel(decl.name, message, capacity, faults, decl.span)

    def _faults(self, decl: ast.ChannelDecl) -> frozenset[str] | None:
        enabled: set[str] = set()
        seen: dict[str, Span] = {}
        ok = True
        for fault in decl.faults:
            if fault.kind not in ir.FAULT_KINDS:
                kinds = ", ".join(ir.FAULT_KINDS)
                self.rep.error(fault.span, f"unknown fault '{fault.kind}' (faults: {kinds})")
                ok = False
                continue
            if fault.kind in seen:
                self.rep.error(fault.span, f"fault '{fault.kind}' is given twice", f"first given at {seen[fault.kind]}")
                ok = False
                continue
            seen[fault.kind] = fault.span
            on: Value | None = True
            if fault.enabled is not None:
                on = self.const_expr(fault.enabled, BOOL, f"fault '{fault.kind}'")
            if on is None:
                ok = False
            elif on is True:
                enabled.add(fault.kind)
                self.fault_spans[(decl.name, fault.kind)] = fault.span
        return frozenset(enabled) if ok else None

    def _network(self) -> list[ir.NetworkTransition]:
        out: list[ir.NetworkTransition] = []
        for chan in self.env.channels.values():
            for kind in ir.FAULT_KINDS:
                if kind not in chan.faults:
                    continue
                params = fault_params(chan, kind)
                if params is not None:
                    span = self.fault_spans.get((chan.family or chan.name, kind), chan.span)
                    out.append(ir.NetworkTransition(f"{chan.name}.{kind}", chan, kind, params, span))
        return out


def fault_params(chan: ir.Channel, kind: str) -> tuple[tuple[str, Type], ...] | None:
    """A fault's parameters; None when it cannot happen (reordering needs two slots)."""
    if kind in ("loss", "duplication"):
        return (("i", IntType(0, chan.capacity - 1)),)
    if kind == "reordering":
        return (("i", IntType(0, chan.capacity - 2)),) if chan.capacity >= 2 else None
    return chan.message.fields
