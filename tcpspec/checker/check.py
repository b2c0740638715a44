"""The checker: surface AST in, checked and instantiated `ir.Model` out (no z3 here).

Stages, in order, each filling the global `Env`: names (duplicates), enums, constants (with
`-D` overrides applied where each is defined), types and messages (`type_decls.py`), channels
(`channel_decls.py`), instances (`proc.py`), top-level properties, network faults, the built-in
`range_ok`, fairness (`fairness.py`). Every problem is collected; `ModelError` carries them all
at the end.
"""

from __future__ import annotations

import re

from tcpspec.frontend import ast

from tcpspec.checker import ir
from tcpspec.checker.channel_decls import ChannelDecls
from tcpspec.checker.const import const_value
from tcpspec.checker.expr import INT_LIMIT, ExprChecker
from tcpspec.checker.fairness import resolve_fairness
from tcpspec.checker.defs import def_signature
from tcpspec.checker.proc import ProcessChecker
from tcpspec.checker.properties import RANGE_OK, check_final, check_property
from tcpspec.checker.scope import Env, Reporter, Scope
from tcpspec.core.diagnostics import Diagnostic, ModelError, Span, UsageError
from tcpspec.core.types import BOOL, INT, EnumType, IntType, RecordType, Type, Value

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


class _Checker(ChannelDecls):
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

    # ------------------------------------------------------------ defs

    def _defs(self) -> None:
        for decl in self.decls:
            if isinstance(decl, ast.DefDecl):
                sig = def_signature(self.rep, decl, self.resolve_type, top_level=True)
                if sig is None:
                    self.env.broken.add(decl.name)
                else:
                    self.env.defs[decl.name] = sig

    # ------------------------------------------------------------ properties and faults

    def _properties(self, per_decl: dict[int, list[ir.Property]]) -> list[ir.Property]:
        """Properties in source order: a process's properties where its instance is declared."""
        out: list[ir.Property] = []
        scope = Scope(self.env, top_level=True)
        for index, decl in enumerate(self.decls):
            if isinstance(decl, (ast.Invariant, ast.Reachable, ast.StepProperty, ast.Eventually, ast.LeadsTo, ast.Temporal)):
                prop = check_property(self.rep, decl, scope, None)
                if prop is not None:
                    out.append(prop)
            out.extend(per_decl.get(index, []))
        return out

    def _finals(self) -> list[ir.Final]:
        scope = Scope(self.env, top_level=True)
        out = [check_final(self.rep, d, scope, None) for d in self.decls if isinstance(d, ast.Final)]
        return [f for f in out if f is not None]

    def _range_ok(self, span: Span) -> ir.Property:
        return ir.Property(
            name=RANGE_OK,
            kind=ir.PropertyKind.STEP,
            expr=ir.Lit(True, BOOL, span),
            span=span,
            doc=RANGE_OK_DOC,
            builtin=True,
        )


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

