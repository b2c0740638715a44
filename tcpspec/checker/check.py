"""The checker: surface AST in, checked and instantiated `ir.Model` out (no z3 here).

Stages, in order, each filling the global `Env`: names (duplicates), enums, constants (with
`-D` overrides applied where each is defined), types and messages, channels, instances
(`checker_proc.py`), top-level properties, network faults, the built-in `range_ok`. Every
problem is collected; `ModelError` carries them all at the end.
"""

from __future__ import annotations

import re
from dataclasses import replace

from tcpspec.frontend import ast

from tcpspec.checker import ir
from tcpspec.checker.coll import key_type
from tcpspec.checker.const import const_value
from tcpspec.checker.expr import INT_LIMIT, ExprChecker
from tcpspec.checker.proc import ProcessChecker, def_signature, family_bounds
from tcpspec.checker.scope import ChanFamily, Env, Reporter, Scope, suggest
from tcpspec.core.diagnostics import Diagnostic, ModelError, Span, UsageError
from tcpspec.core.types import (
    BOOL,
    INT,
    BitVecType,
    EnumType,
    IntType,
    MapType,
    RecordType,
    SetType,
    Type,
    Value,
    value_text,
    values_in_range,
)

RANGE_OK = "range_ok"
RANGE_OK_DOC = (
    "Every value stored into a bounded integer variable or message field lies within its range."
)
KIND_NAMES = {
    ast.ConstDecl: "constant",
    ast.EnumDecl: "enum type",
    ast.MessageDecl: "message type",
    ast.TypeAlias: "type alias",
    ast.ChannelDecl: "channel",
    ast.ProcessDecl: "process",
    ast.InstanceDecl: "instance",
    ast.Invariant: "property",
    ast.Reachable: "property",
    ast.StepProperty: "property",
    ast.Eventually: "property",
    ast.LeadsTo: "property",
    ast.Temporal: "property",
    ast.Final: "final state predicate",
    ast.DefDecl: "definition",
}
BITVEC_RE = re.compile(r"(bv|seq)([0-9]+)")


def check_program(program: ast.Program, defines: dict[str, str]) -> ir.Model:
    """Check and instantiate a parsed program. Raises ModelError (all problems) or UsageError."""
    try:
        return _Checker(program, defines).run()
    except (ModelError, UsageError):
        raise
    except RecursionError:
        raise ModelError([Diagnostic(None, "the model is nested too deeply to check")]) from None
    except Exception as exc:  # a checker bug must still surface as a model error, not a crash
        raise ModelError([Diagnostic(None, f"internal error in the checker: {exc!r}")]) from exc


# What the engines can build: each step of an unrolling copies every value of the state, and a
# send or receive touches every slot of its channel. Measured per step of the encoding: tcp.tcpspec
# (48 transitions) 924 values (CAP=64) 2-4 s, ~3600 (CAP=256) 20-34 s; one channel of 2048 slots
# with two transitions 2-3 s. Past these the encoding alone outlasts any --timeout
# (`-D CAP=100000` hung check, graph and export).
MAX_CAPACITY = 2048  # slots of one channel
MAX_STATE_VALUES = 4096  # values in one state: the variables' fields and every channel slot's


def _values(t: Type) -> int:
    return sum(_values(ft) for _, ft in t.fields) if isinstance(t, RecordType) else 1


def _check_state_size(channels: list[ir.Channel], state_vars: list[ir.StateVar]) -> None:
    """A ModelError (exit 2) at the channel or variable that makes the state too large. Checked
    before the properties: their quantifiers over a channel's slots would otherwise be expanded
    first (minutes at CAP=1000)."""
    errors = [Diagnostic(c.span, f"channel '{c.name}' holds {c.capacity} messages: at most {MAX_CAPACITY} "
                                 "(every slot is copied in every state of every step)")
              for c in channels if c.capacity > MAX_CAPACITY]
    sizes = [(c.capacity * (_values(c.message) + 1), c.span, f"channel '{c.name}' ({c.capacity} slots)")
             for c in channels] + [(_values(v.type), v.span, f"variable '{v.name}'") for v in state_vars]
    total = sum(n for n, _, _ in sizes)
    if not errors and total > MAX_STATE_VALUES:
        n, span, what = max(sizes, key=lambda x: x[0])
        errors.append(Diagnostic(span, f"the state has {total} values, at most {MAX_STATE_VALUES} can be encoded; "
                                       f"{what} has {n} of them"))
    if errors:
        raise ModelError(errors)


class _Checker:
    """One run over one program; state lives here, not in globals."""

    def __init__(self, program: ast.Program, defines: dict[str, str]) -> None:
        self.program = program
        self.defines = defines
        self.rep = Reporter()
        self.env = Env()
        self.decls: list[ast.Decl] = []  # first definitions only; duplicates are dropped
        self.pending: dict[str, ast.TypeAlias | ast.MessageDecl] = {}
        self.resolving: set[str] = set()
        self.fault_spans: dict[tuple[str, str], Span] = {}
        self.fair_decls: list[ast.FairDecl] = []
        self.depth_decls: list[tuple[str, ast.DepthDecl]] = []  # (file, declaration)

    def run(self) -> ir.Model:
        self._collect_names()
        self._enums()
        self._constants()
        depths = self._depths()
        self._types()
        self._channels()
        self._defs()
        procs = ProcessChecker(self.rep, self.env, self.resolve_type)
        per_decl = procs.instantiate_all(self.decls)
        if not self.rep.diagnostics:
            _check_state_size(list(self.env.channels.values()), procs.state_vars)
        for sig in self.env.defs.values():
            ExprChecker(self.rep, Scope(self.env, top_level=True)).check_def_alone(sig)
        properties = self._properties(per_decl)
        transitions: list[ir.AnyTransition] = list(procs.transitions)
        transitions.extend(self._network())
        if procs.range_span is not None:
            properties.append(self._range_ok(procs.range_span))
        finals = self._finals() + procs.finals
        fairness = resolve_fairness(self.rep, self.fair_decls, transitions, procs.fairness, self.env)
        if self.rep.diagnostics:
            raise ModelError(self.rep.diagnostics)
        warnings = list(self.rep.warnings)
        return ir.Model(
            path=self.program.root,
            constants={n: v for n, (v, _) in self.env.constants.items()},
            instances=procs.instances,
            state_vars=procs.state_vars,
            init=procs.init,
            channels=list(self.env.channels.values()),
            transitions=transitions,
            properties=[p for p in properties if p.kind not in ir.LIVENESS_KINDS],
            sources=dict(self.program.sources),
            finals=finals,
            fairness=fairness,
            liveness=[p for p in properties if p.kind in ir.LIVENESS_KINDS],
            depths=depths,
            warnings=warnings,
        )

    # ------------------------------------------------------------ names

    def _collect_names(self) -> None:
        """Fill the global namespace; a second definition of a name is an error and is dropped."""
        for file in self.program.files:
            for decl in file.decls:
                if isinstance(decl, ast.FairDecl):  # names nothing: resolved once transitions exist
                    self.fair_decls.append(decl)
                    continue
                if isinstance(decl, ast.DepthDecl):  # names nothing either
                    self.depth_decls.append((file.path, decl))
                    continue
                kind = KIND_NAMES.get(type(decl))
                if kind is None:
                    self.rep.error(getattr(decl, "span", None), "not a declaration")
                    continue
                if isinstance(decl, ast.InstanceDecl) and decl.family is not None:
                    kind = "instance family"
                elif isinstance(decl, ast.ChannelDecl) and decl.family is not None:
                    kind = "channel family"
                if self._define(decl.name, kind, decl.span):
                    self.decls.append(decl)
                    if isinstance(decl, ast.EnumDecl):
                        self._define_members(decl)

    def _define(self, name: str, kind: str, span: Span) -> bool:
        first = self.env.spans.get(name)
        if first is not None:
            self.rep.error(span, f"'{name}' is already defined", f"first defined at {first}")
            return False
        self.env.kinds[name] = kind
        self.env.spans[name] = span
        return True

    def _define_members(self, decl: ast.EnumDecl) -> None:
        spans = list(decl.member_spans) + [decl.span] * len(decl.members)
        for member, span in zip(decl.members, spans):
            self._define(member, "enum member", span)

    def _enums(self) -> None:
        for decl in self.decls:
            if not isinstance(decl, ast.EnumDecl):
                continue
            if not decl.members:
                self.rep.error(decl.span, f"enum '{decl.name}' has no members")
                self.env.broken.add(decl.name)
                continue
            etype = EnumType(decl.name, tuple(decl.members))
            self.env.types[decl.name] = etype
            for member in decl.members:
                if self.env.kinds.get(member) == "enum member" and member not in self.env.members:
                    self.env.members[member] = etype

    # ------------------------------------------------------------ default bounds

    def _depths(self) -> dict[str, int]:
        """`depth` declarations -> {kind or "" (every kind): bound}. The checked file's own
        declarations win over those of the files it imports (the bound is a setting of the model
        being checked), an earlier import's over a later one's; two for one kind in one file is
        an error."""
        root = self.program.root
        ordered = sorted(self.depth_decls, key=lambda fd: fd[0] != root)  # stable: file order kept
        out: dict[str, int] = {}
        seen: dict[tuple[str, str], Span] = {}
        for path, decl in ordered:
            value = self.const_int(decl.value, "a depth")
            if value is not None and value < 0:
                self.rep.error(decl.value.span, f"a depth must be >= 0, not {value}")
                value = None
            for kind in decl.kinds or ("",):
                first = seen.get((path, kind))
                if first is not None:
                    what = f"for {kind}" if kind else "for every property"
                    self.rep.error(decl.span, f"a second default depth {what} in this file", f"first declared at {first}")
                    continue
                seen[(path, kind)] = decl.span
                if value is not None and kind not in out:
                    out[kind] = value
        return out

    # ------------------------------------------------------------ constants

    def _constants(self) -> None:
        """Evaluate constants in order, each `-D` override replacing its default where defined."""
        consts = [d for d in self.decls if isinstance(d, ast.ConstDecl)]
        names = [d.name for d in consts]
        unknown = [n for n in self.defines if n not in names]
        if unknown:
            known = ", ".join(names) if names else "none"
            listed = ", ".join(f"'{n}'" for n in unknown)
            raise UsageError(f"-D: no constant named {listed} in the model (constants: {known})")
        problems: list[str] = []
        for decl in consts:
            self._constant(decl, problems)
        if problems:
            raise UsageError("; ".join(problems))

    def _constant(self, decl: ast.ConstDecl, problems: list[str]) -> None:
        out = ExprChecker(self.rep, Scope(self.env)).check(decl.value)
        if out is None:
            self.env.broken.add(decl.name)
            return
        if out.type != BOOL and not isinstance(out.type, IntType):
            self.rep.error(decl.value.span, f"a constant must be an int or a bool, not {out.type}")
            self.env.broken.add(decl.name)
            return
        typ: Type = BOOL if out.type == BOOL else INT
        value = const_value(out)
        if decl.name in self.defines:
            value, problem = parse_define(decl.name, self.defines[decl.name], typ)
            if problem:
                problems.append(problem)
                self.env.broken.add(decl.name)
                return
        if value is None:
            self.rep.error(decl.value.span, f"the value of constant '{decl.name}' must be a constant expression")
        elif isinstance(value, int) and not -INT_LIMIT <= value <= INT_LIMIT:
            self.rep.error(decl.span, f"constant '{decl.name}' = {value} is out of range (must lie within ±2^62)")
            value = None
        if value is None:
            self.env.broken.add(decl.name)
        else:
            self.env.constants[decl.name] = (value, typ)

    # ------------------------------------------------------------ types

    def _types(self) -> None:
        for decl in self.decls:
            if isinstance(decl, (ast.TypeAlias, ast.MessageDecl)):
                self.pending[decl.name] = decl
        for name in list(self.pending):
            self._named_type(name, self.env.spans[name])

    def resolve_type(self, texpr: ast.TypeExpr) -> Type | None:
        """A type expression's type, or None after reporting why not (channels: see callers)."""
        if isinstance(texpr, ast.RangeType):
            return self._range(texpr)
        if isinstance(texpr, ast.ChanType):
            self.rep.error(texpr.span, "a channel type is only allowed for process parameters")
            return None
        if isinstance(texpr, ast.TypeName):
            return self._type_name(texpr.name, texpr.span)
        if isinstance(texpr, ast.MapTypeExpr):
            return self._map_type(texpr)
        if isinstance(texpr, ast.SetTypeExpr):
            elem = self.resolve_type(texpr.elem)
            problem = key_type(elem)
            if problem is not None:
                self.rep.error(texpr.elem.span, f"a set's elements: {problem}")
                return None
            return None if elem is None else SetType(elem)
        self.rep.error(getattr(texpr, "span", None), "not a type")
        return None

    def _map_type(self, texpr: ast.MapTypeExpr) -> Type | None:
        key = self.resolve_type(texpr.key)
        value = None if isinstance(texpr.value, ast.ChanType) else self.resolve_type(texpr.value)
        if isinstance(texpr.value, ast.ChanType):
            self.rep.error(texpr.value.span, "a map's values cannot be channels (a family of channels is "
                           "'channel c[N]: M[CAP]')")
        problem = key_type(key)
        if problem is not None:
            self.rep.error(texpr.key.span, f"a map's keys: {problem}")
            return None
        if key is None or value is None:
            return None
        return MapType(key, value)

    def _type_name(self, name: str, span: Span) -> Type | None:
        if name == "bool":
            return BOOL
        match = BITVEC_RE.fullmatch(name)
        if match and name not in self.env.kinds:
            return self._bitvec(match.group(1), int(match.group(2)), span)
        return self._named_type(name, span)

    def _bitvec(self, kind: str, width: int, span: Span) -> Type | None:
        low = 2 if kind == "seq" else 1
        if not low <= width <= 64:
            self.rep.error(span, f"{kind}{width}: the width of {kind}N must lie within {low}..64")
            return None
        return BitVecType(width, serial=kind == "seq")

    def _named_type(self, name: str, span: Span) -> Type | None:
        env = self.env
        if name in env.types:
            return env.types[name]
        if name in env.broken:
            return None
        if name in self.pending:
            return self._resolve_pending(name, span)
        if name in env.kinds:
            self.rep.error(span, f"'{name}' is a {env.kinds[name]}, not a type")
        else:
            hint = " (integers are ranges: LO..HI)" if name == "int" else suggest(name, self._type_names())
            self.rep.error(span, f"unknown type '{name}'{hint}")
        return None

    def _type_names(self) -> set[str]:
        kinds = ("enum type", "message type", "type alias")
        return {n for n, k in self.env.kinds.items() if k in kinds} | {"bool", "seq32", "bv8"}

    def _resolve_pending(self, name: str, span: Span) -> Type | None:
        if name in self.resolving:
            self.rep.error(span, f"type '{name}' is defined in terms of itself")
            self.env.broken.add(name)
            return None
        self.resolving.add(name)
        decl = self.pending[name]
        typ = self._message(decl) if isinstance(decl, ast.MessageDecl) else self.resolve_type(decl.type)
        self.resolving.discard(name)
        if typ is None:
            self.env.broken.add(name)
        elif name not in self.env.broken:
            self.env.types[name] = typ
        return self.env.types.get(name)

    def _range(self, texpr: ast.RangeType) -> Type | None:
        lo = self.const_int(texpr.lo, "a range bound")
        hi = self.const_int(texpr.hi, "a range bound")
        if lo is None or hi is None:
            return None
        if lo > hi:
            self.rep.error(texpr.span, f"empty range {lo}..{hi}: the low bound exceeds the high bound")
            return None
        return IntType(lo, hi)

    def _message(self, decl: ast.MessageDecl) -> RecordType | None:
        fields: list[tuple[str, Type]] = []
        defaults: dict[str, ir.Expr] = {}
        seen: dict[str, Span] = {}
        ok = True
        for fd in decl.fields:
            if fd.name in seen:
                self.rep.error(fd.span, f"field '{fd.name}' is already defined", f"first defined at {seen[fd.name]}")
                ok = False
                continue
            seen[fd.name] = fd.span
            ftype = self.resolve_type(fd.type)
            if ftype is not None and has_record(ftype):
                self.rep.error(fd.span, f"message field '{fd.name}' cannot be or hold a message ({ftype})")
                ftype = None
            if ftype is None:
                ok = False
                continue
            fields.append((fd.name, ftype))
            if fd.default is not None:
                default = self._default(fd, ftype)
                ok = ok and default is not None
                if default is not None:
                    defaults[fd.name] = default
        if not ok:
            return None
        self.env.defaults[decl.name] = defaults
        return RecordType(decl.name, tuple(fields))

    def _default(self, fd: ast.FieldDecl, ftype: Type) -> ir.Expr | None:
        """A field default: a constant of the field's type, folded to a literal."""
        assert fd.default is not None
        out = ExprChecker(self.rep, Scope(self.env)).check_as(fd.default, ftype, f"field '{fd.name}'")
        if out is None:
            return None
        value = const_value(out)
        if value is None:
            self.rep.error(fd.default.span, f"the default of field '{fd.name}' must be a constant expression")
            return None
        if not in_range(ftype, value):
            self.rep.error(fd.default.span, f"default {value} is out of range {ftype} of field '{fd.name}'")
            return None
        return ir.Lit(value, ftype, fd.default.span)

    # ------------------------------------------------------------ constant expressions

    def const_expr(self, e: ast.Expr, want: Type, what: str) -> Value | None:
        """A closed expression of kind `want` (BOOL or INT) evaluated now, or None (reported)."""
        out = ExprChecker(self.rep, Scope(self.env)).check(e)
        if out is None:
            return None
        if (want == BOOL) != (out.type == BOOL) or (want != BOOL and not isinstance(out.type, IntType)):
            self.rep.error(e.span, f"{what} must be {'a bool' if want == BOOL else 'an int'}, not {out.type}")
            return None
        value = const_value(out)
        if value is None:
            self.rep.error(e.span, f"{what} must be a constant expression")
        return value

    def const_int(self, e: ast.Expr, what: str) -> int | None:
        value = self.const_expr(e, INT, what)
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            return None
        if not -INT_LIMIT <= value <= INT_LIMIT:
            self.rep.error(e.span, f"{what} = {value} is out of range (must lie within ±2^62)")
            return None
        return value

    # ------------------------------------------------------------ defs

    def _defs(self) -> None:
        for decl in self.decls:
            if isinstance(decl, ast.DefDecl):
                sig = def_signature(self.rep, decl, self.resolve_type, top_level=True)
                if sig is None:
                    self.env.broken.add(decl.name)
                else:
                    self.env.defs[decl.name] = sig

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
            bounds = family_bounds(self.rep, self.env, ast.Family(fam.lo, fam.hi, fam.span))
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

    # ------------------------------------------------------------ properties and faults

    def _properties(self, per_decl: dict[int, list[ir.Property]]) -> list[ir.Property]:
        """Properties in source order: a process's properties where its instance is declared."""
        out: list[ir.Property] = []
        scope = Scope(self.env, top_level=True)
        for index, decl in enumerate(self.decls):
            if isinstance(decl, (ast.Invariant, ast.Reachable, ast.StepProperty, ast.Eventually, ast.LeadsTo, ast.Temporal)):
                prop = ProcessChecker.property(self.rep, decl, scope, None)
                if prop is not None:
                    out.append(prop)
            out.extend(per_decl.get(index, []))
        return out

    def _finals(self) -> list[ir.Final]:
        scope = Scope(self.env, top_level=True)
        out = [ProcessChecker.final(self.rep, d, scope, None) for d in self.decls if isinstance(d, ast.Final)]
        return [f for f in out if f is not None]

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

    def _range_ok(self, span: Span) -> ir.Property:
        return ir.Property(
            name=RANGE_OK,
            kind=ir.PropertyKind.STEP,
            expr=ir.Lit(True, BOOL, span),
            span=span,
            doc=RANGE_OK_DOC,
            builtin=True,
        )


def resolve_fairness(rep: Reporter, decls: list[ast.FairDecl], transitions: list[ir.AnyTransition],
                     declared: dict[str, str], env: Env) -> dict[str, str]:
    """`fair` declarations -> {transition name: weak | strong}; strong wins over weak.

    A target is a transition (`client.timeout`, `c2s.loss`), a channel (every process
    transition that receives from it: the channel delivers), or an instance (all its
    transitions). A family stands for each of its members (`fair rm.vote;` is every member's
    `vote`), `rm[0]` for one. A fault switched off by its constant (`-D LOSS=false`) is accepted
    and ignored.
    """
    out = dict(declared)
    for decl in decls:
        for target in decl.targets:
            names = _fair_names(rep, target, env)
            if names is None:
                continue
            hits = [t for name in names for t in _fair_hits(name, transitions, env)]
            if not hits and not all(_switched_off_fault(name, env) for name in names):
                rep.error(target.span, f"'{target.text}' is not a transition, channel or instance",
                          "fair takes transitions (client.timeout, c2s.loss), channels (their "
                          "receiving transitions) or instances (all their transitions)")
                continue
            for t in hits:
                if out.get(t.name) != "strong":
                    out[t.name] = decl.strength
    return out


def _fair_names(rep: Reporter, target: ast.FairTarget, env: Env) -> list[str] | None:
    """The qualified names a target stands for: a family's members, or one member."""
    bases = [target.base]
    fam = env.families.get(target.base) or env.chan_families.get(target.base)
    if target.index is not None:
        index = ExprChecker(rep, Scope(env)).const_int(target.index, "a family index")
        if index is None:
            return None
        if fam is None or not fam.lo <= index <= fam.hi:
            what = "not a family" if fam is None else f"members {fam.lo}..{fam.hi}"
            rep.error(target.span, f"'{target.base}[{index}]': '{target.base}' has {what}")
            return None
        bases = [f"{target.base}[{index}]"]
    elif fam is not None:
        bases = [f"{target.base}[{i}]" for i in range(fam.lo, fam.hi + 1)]
    return [b + (f".{target.member}" if target.member else "") for b in bases]


def _fair_hits(target: str, transitions: list[ir.AnyTransition], env: Env) -> list[ir.AnyTransition]:
    by_name = [t for t in transitions if t.name == target or t.name.startswith(target + "[")]
    if by_name:
        return by_name
    if target in env.channels:
        return [t for t in transitions if isinstance(t, ir.Transition) and t.receive is not None
                and t.receive[1].name == target]
    return [t for t in transitions if isinstance(t, ir.Transition) and t.instance == target]


def _switched_off_fault(target: str, env: Env) -> bool:
    chan, _, fault = target.rpartition(".")
    return chan in env.channels and fault in ir.FAULT_KINDS


def fault_params(chan: ir.Channel, kind: str) -> tuple[tuple[str, Type], ...] | None:
    """A fault's parameters; None when it cannot happen (reordering needs two slots)."""
    if kind in ("loss", "duplication"):
        return (("i", IntType(0, chan.capacity - 1)),)
    if kind == "reordering":
        return (("i", IntType(0, chan.capacity - 2)),) if chan.capacity >= 2 else None
    return chan.message.fields


def has_record(t: Type) -> bool:
    """Whether a type is or holds a message (a message may not: its fields are flat)."""
    if isinstance(t, RecordType):
        return True
    return isinstance(t, MapType) and has_record(t.value)


def in_range(typ: Type, value: Value) -> bool:
    """Whether a folded value fits a bounded int type (other types always fit)."""
    if isinstance(typ, IntType) and typ.bounded and isinstance(value, int):
        assert typ.lo is not None and typ.hi is not None
        return typ.lo <= value <= typ.hi
    return True


_DEFINE_INT = re.compile(r"-?(?:0[xX](?P<hex>[0-9a-fA-F]+)|(?P<dec>[0-9]+))")


def parse_define(name: str, text: str, typ: Type) -> tuple[Value | None, str]:
    """A `-D NAME=VALUE` value of the constant's kind, or (None, what is wrong)."""
    if typ == BOOL:
        if text in ("true", "false"):
            return text == "true", ""
        return None, f"-D {name}={text}: constant '{name}' is a bool; give true or false"
    # ASCII only, one sign, no `_`: int() alone took '-0x-5' (as 5), '0x1_0' and '٣'.
    m = _DEFINE_INT.fullmatch(text)
    if m is None:
        return None, f"-D {name}={text}: constant '{name}' is an int; give a decimal or 0x hex integer"
    digits = m.group("hex") or m.group("dec")
    value = INT_LIMIT + 1 if len(digits) > 20 else int(digits, 16 if m.group("hex") else 10)
    value = -value if text.startswith("-") else value
    if not -INT_LIMIT <= value <= INT_LIMIT:
        return None, f"-D {name}={text}: out of range (must lie within ±2^62)"
    return value, ""

