"""What a name means where it is read: the global namespace (`Env`), one context's bindings
(`Scope`), and the reporter every checking step writes to.

They sit below every part of the checker (expressions, defs, collections, indices, statements,
processes, the model) because each of those reads names and reports problems; keeping them apart
from `expr.py` lets the parts of `ExprChecker` live in their own modules without importing it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from tcpspec.frontend import ast

from tcpspec.checker import ir
from tcpspec.core.diagnostics import Diagnostic, Span
from tcpspec.core.types import EnumType, RecordType, Type, Value


@dataclass(frozen=True)
class DefSig:
    """A def with its parameter and result types resolved (`top_level`: written outside processes)."""

    decl: ast.DefDecl
    params: tuple[tuple[str, Type], ...]
    type: Type
    top_level: bool


class Reporter:
    """Collects diagnostics in order, dropping exact repeats (a process checked per instance)."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self._seen: set[tuple[Span | None, str, tuple[str, ...]]] = set()

    def error(self, span: Span | None, message: str, *notes: str) -> None:
        key = (span, message, notes)
        if key not in self._seen:
            self._seen.add(key)
            self.diagnostics.append(Diagnostic(span, message, notes))

    def warn(self, span: Span | None, message: str, *notes: str) -> None:
        """Worth a look, not wrong: the model is checked all the same."""
        key = (span, "warning: " + message, notes)
        if key not in self._seen:
            self._seen.add(key)
            self.warnings.append(Diagnostic(span, message, notes, severity="warning"))


def suggest(name: str, candidates: list[str] | set[str]) -> str:
    """`; did you mean 'x'?` for a close match, else nothing."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


@dataclass(frozen=True)
class ChanFamily:
    """A family of channels (`channel to_rm[N]`, or a `chan M[N]` parameter bound to one)."""

    name: str
    lo: int
    hi: int
    members: tuple[ir.Channel, ...]  # index lo first
    message: RecordType

    def member(self, index: int) -> ir.Channel:
        return self.members[index - self.lo]


@dataclass(frozen=True)
class InstFamily:
    """A family of instances (`instance rm[i in 0..N-1] = ...`): members `rm[0]` .. `rm[N-1]`."""

    name: str
    lo: int
    hi: int

    def member(self, index: int) -> str:
        return f"{self.name}[{index}]"


@dataclass
class Env:
    """The global namespace, filled in by the checker stage by stage."""

    kinds: dict[str, str] = field(default_factory=dict)  # name -> "constant", "channel", ...
    spans: dict[str, Span] = field(default_factory=dict)
    constants: dict[str, tuple[Value, Type]] = field(default_factory=dict)
    members: dict[str, EnumType] = field(default_factory=dict)
    types: dict[str, Type] = field(default_factory=dict)
    defaults: dict[str, dict[str, ir.Expr]] = field(default_factory=dict)
    channels: dict[str, ir.Channel] = field(default_factory=dict)
    instance_vars: dict[str, dict[str, ir.StateVar]] = field(default_factory=dict)
    # An instance's constant arguments (`node[2].id`): fixed for the run, readable like variables.
    instance_values: dict[str, dict[str, ir.Lit]] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)  # already reported: stay silent about uses
    chan_families: dict[str, ChanFamily] = field(default_factory=dict)
    families: dict[str, InstFamily] = field(default_factory=dict)
    defs: dict[str, DefSig] = field(default_factory=dict)  # top-level `def`s


@dataclass
class Scope:
    """What a name means here. Inner bindings first: params, messages, vars, values, channels."""

    env: Env
    instance: str | None = None
    params: dict[str, Type] = field(default_factory=dict)
    msgs: dict[str, RecordType] = field(default_factory=dict)
    vars: dict[str, ir.StateVar] = field(default_factory=dict)
    values: dict[str, ir.Lit] = field(default_factory=dict)
    chans: dict[str, ir.Channel] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)  # name -> why it cannot be read here
    broken: set[str] = field(default_factory=set)
    primes: bool = False
    top_level: bool = False  # a property or final outside any process
    foreign: bool = False  # other instances' variables (`coord.state`, `rm[j].state`) readable
    chan_families: dict[str, ChanFamily] = field(default_factory=dict)  # `chan M[N]` parameters
    self_index: ir.Lit | None = None  # `self`: this family member's index
    locals: dict[str, ir.Local] = field(default_factory=dict)  # `let` names in a transition body
    exprs: dict[str, ir.Expr] = field(default_factory=dict)  # a `def`'s parameters, bound to arguments
    defs: dict[str, DefSig] = field(default_factory=dict)  # the process's `def`s
    home: "Scope | None" = None  # the instance's own scope, where the process's `def`s are read
    expanding: tuple[str, ...] = ()  # the `def`s being expanded (a def may not call itself)

    def local_names(self) -> set[str]:
        return {*self.params, *self.msgs, *self.vars, *self.values, *self.chans, *self.chan_families,
                *self.locals, *self.exprs}

    @property
    def reads_instances(self) -> bool:
        return self.top_level or self.foreign

    def chan_family(self, name: str) -> ChanFamily | None:
        """A `chan M[N]` parameter, else a global channel family not hidden by a local name."""
        if name in self.chan_families:
            return self.chan_families[name]
        if name in self.local_names():
            return None
        return self.env.chan_families.get(name)

    def channel(self, name: str) -> ir.Channel | None:
        """A channel parameter, else a global channel not hidden by a local name."""
        if name in self.chans:
            return self.chans[name]
        if name in self.local_names():
            return None
        return self.env.channels.get(name)

