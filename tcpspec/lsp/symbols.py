"""Name resolution for the editor: every declaration with the position of its name, and every use
of a name with the declaration it means, across a model and its imports.

The checker resolves names too, but into the checked model (qualified state variables, folded
constants), which keeps no link from a use in the text to the declaration. This index is built
from the AST (spans) and the token stream (the exact position of each name) by the same scoping
rules: a transition's `choose` parameters and received message, a step property's event
bindings and quantified names, then the process's parameters and variables, then the global
names of every file. A field after a dot is looked up in what the left side is (an instance's
process, a message's fields). Node types this module does not know (new syntax) are walked
generically, so the names inside them are still found.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from dataclasses import dataclass, field

from tcpspec.frontend import ast, ast_expr
from tcpspec.core.diagnostics import Span
from tcpspec.fmt.tokens import Tok, lex_tolerant

PROPERTY_KINDS = {
    ast.Reachable: "reachable", ast.StepProperty: "step", ast.Eventually: "eventually", ast.Temporal: "temporal",
    ast.LeadsTo: "leads_to", ast.Final: "final",
}


@dataclass(eq=False)
class Symbol:
    """A declared name. `span` is the name's own position; `decl` the whole declaration."""

    name: str
    kind: str  # "constant", "variable", "transition", "field", "enum member", "invariant", ...
    span: Span
    decl: Span
    doc: str = ""
    type_text: str = ""  # the type as written (`Seq`, `0..MSS`, `chan Segment`)
    parent: Symbol | None = None  # the process, message or enum it belongs to
    node: object = None  # the AST node
    members: dict[str, Symbol] = field(default_factory=dict)  # fields, process members, enum members


@dataclass(frozen=True)
class Reference:
    span: Span
    symbol: Symbol


@dataclass
class Index:
    symbols: list[Symbol] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    globals: dict[str, Symbol] = field(default_factory=dict)
    files: dict[str, list[Tok]] = field(default_factory=dict)

    def at(self, path: str, line: int, col: int) -> Symbol | None:
        """The symbol whose name (declared or used) covers this position (1-based)."""
        for span, sym in self._spans():
            if span.file == path and span.line == line and span.col <= col <= span.end_col:
                return sym
        return None

    def _spans(self) -> list[tuple[Span, Symbol]]:
        return [(s.span, s) for s in self.symbols] + [(r.span, r.symbol) for r in self.references]

    def uses(self, sym: Symbol) -> list[Span]:
        return [r.span for r in self.references if r.symbol is sym]

    def process_at(self, path: str, line: int) -> Symbol | None:
        for sym in self.globals.values():
            d = sym.decl
            if sym.kind == "process" and d.file == path and d.line <= line <= (d.end_line or d.line):
                return sym
        return None


def build_index(program: ast.Program) -> Index:
    index = Index()
    for path, text in program.sources.items():
        index.files[path] = lex_tolerant(text)
    _Builder(index, program.sources).run(program)
    return index


def span_text(sources: dict[str, str], span: Span) -> str:
    """The source text a span covers (its first line only if it has no end)."""
    lines = sources.get(span.file, "").split("\n")
    if not 1 <= span.line <= len(lines):
        return ""
    if not span.end_line:
        return lines[span.line - 1][span.col - 1 :]
    if span.end_line == span.line:
        return lines[span.line - 1][span.col - 1 : span.end_col - 1]
    middle = lines[span.line : span.end_line - 1]
    return "\n".join([lines[span.line - 1][span.col - 1 :], *middle,
                      lines[span.end_line - 1][: span.end_col - 1]])


class _Builder:
    def __init__(self, index: Index, sources: dict[str, str]) -> None:
        self.ix = index
        self.sources = sources

    def type_text(self, t: object) -> str:
        """A type as written (`Seq`, `0..MSS`, `chan Segment`)."""
        span = getattr(t, "span", None)
        return " ".join(span_text(self.sources, span).split()) if span is not None else ""

    # ---------------------------------------------------------------- positions

    def _names(self, span: Span) -> list[Tok]:
        """The NAME tokens inside a span, in order."""
        toks = self.ix.files.get(span.file, [])
        lo = bisect_left(toks, (span.line, span.col), key=lambda t: (t.line, t.col))
        end = (span.end_line or span.line, span.end_col or 10**9)
        out = []
        for tok in toks[lo:]:
            if (tok.line, tok.col) >= end:
                break
            if tok.kind == "NAME":
                out.append(tok)
        return out

    def _name_span(self, span: Span, name: str, nth: int = 0) -> Span:
        """The position of the nth token `name` inside `span` (the span's start if not found)."""
        hits = [t for t in self._names(span) if t.text == name]
        if len(hits) > nth:
            t = hits[nth]
            return Span(span.file, t.line, t.col, t.line, t.end_col)
        return Span(span.file, span.line, span.col, span.line, span.col + len(name))

    def _last_name_span(self, span: Span, name: str) -> Span:
        hits = [t for t in self._names(span) if t.text == name]
        if not hits:
            return self._name_span(span, name)
        t = hits[-1]
        return Span(span.file, t.line, t.col, t.line, t.end_col)

    # ---------------------------------------------------------------- declarations

    def declare(self, node: object, name: str, kind: str, parent: Symbol | None = None,
                type_text: str = "", nth: int = 0) -> Symbol:
        decl: Span = node.span  # type: ignore[attr-defined]
        sym = Symbol(name, kind, self._name_span(decl, name, nth), decl, getattr(node, "doc", ""),
                     type_text, parent, node)
        self.ix.symbols.append(sym)
        return sym

    def use(self, span: Span, sym: Symbol | None) -> None:
        if sym is not None:
            self.ix.references.append(Reference(span, sym))

    def run(self, program: ast.Program) -> None:
        decls = [d for f in program.files for d in f.decls]
        for d in decls:
            self._declare_global(d)
        for d in decls:
            try:
                self._resolve_decl(d)
            except Exception:  # noqa: BLE001 - syntax this index does not know yet: its names
                self._generic(d, {}, skip=("name",))  # are still looked up, without scopes

    def _declare_global(self, d: object) -> None:
        g = self.ix.globals
        name = getattr(d, "name", None)
        if not isinstance(name, str) or isinstance(d, (ast.FairDecl, ast.DepthDecl)):
            return
        kind = _kind_of(d)
        sym = self.declare(d, name, kind, type_text=self._type_text_of(d))
        g.setdefault(name, sym)
        if isinstance(d, ast.EnumDecl):
            for member, mspan in zip(d.members, d.member_spans):
                m = Symbol(member, "enum member", mspan, d.span, "", name, sym, d)
                self.ix.symbols.append(m)
                sym.members[member] = m
                g.setdefault(member, m)
        elif isinstance(d, ast.MessageDecl):
            for f in d.fields:
                sym.members[f.name] = self.declare(f, f.name, "field", sym, self.type_text(f.type))
        elif isinstance(d, ast.ProcessDecl):
            for p in d.params:
                sym.members[p.name] = self.declare(p, p.name, "parameter", sym, self.type_text(p.type))
            for v in d.vars:
                sym.members[v.name] = self.declare(v, v.name, "variable", sym, self.type_text(v.type))
            for t in d.transitions:
                sym.members[t.name] = self.declare(t, t.name, "transition", sym)
            for prop in (*d.properties, *d.finals):
                sym.members[prop.name] = self.declare(prop, prop.name, _kind_of(prop), sym)

    # ---------------------------------------------------------------- uses

    def _resolve_decl(self, d: object) -> None:
        g = self.ix.globals
        scope: dict[str, Symbol] = {}
        if isinstance(d, ast.ProcessDecl):
            proc = g.get(d.name)
            if proc is None or proc.node is not d:
                return
            scope = {n: s for n, s in proc.members.items() if s.kind in ("parameter", "variable")}
            for p in d.params:
                self._type(p.type)
            for v in d.vars:
                self._type(v.type)
                self._expr(v.init, scope)
            for t in d.transitions:
                self._transition(t, scope)
            for prop in (*d.properties, *d.finals):
                self._property(prop, scope)
            return
        if isinstance(d, ast.InstanceDecl):
            proc = g.get(d.process)
            self.use(d.process_span, proc)
            for a in d.args:
                self.use(self._name_span(a.span, a.name), proc.members.get(a.name) if proc else None)
                self._expr(a.value, scope)
            return
        if isinstance(d, ast.FairDecl):
            for target in d.targets:
                if isinstance(target, tuple):  # (text as written, span)
                    self._dotted(*target)
                else:  # a target with parts: base, an index, a member
                    base, member = getattr(target, "base", ""), getattr(target, "member", None)
                    self._dotted(base + (f".{member}" if member else ""), target.span)
                    self._expr(getattr(target, "index", None), scope)
            return
        if isinstance(d, ast.ChannelDecl):
            self.use(d.message.span, g.get(d.message.name))
            self._expr(d.capacity, scope)
            for fault in d.faults:
                self._expr(fault.enabled, scope)
            return
        if isinstance(d, ast.MessageDecl):
            for f in d.fields:
                self._type(f.type)
                self._expr(f.default, scope)
            return
        if isinstance(d, ast.TypeAlias):
            self._type(d.type)
            return
        if isinstance(d, (ast.Invariant, ast.Reachable, ast.StepProperty, ast.Eventually, ast.LeadsTo, ast.Temporal,
                          ast.Final)):
            self._property(d, scope)
            return
        self._generic(d, scope, skip=("name",))

    def _transition(self, t: ast.Transition, outer: dict[str, Symbol]) -> None:
        scope = dict(outer)
        for p in t.choose:
            self._type(p.type)
            scope[p.name] = self.declare(p, p.name, "choose parameter", type_text=self.type_text(p.type))
        if t.receive is not None:
            scope.update(self._binding(t.receive, outer))
        self._expr(t.guard, scope)
        self._stmts(t.body, scope)

    def _type_text_of(self, d: object) -> str:
        if isinstance(d, ast.TypeAlias):
            return self.type_text(d.type)
        if isinstance(d, ast.InstanceDecl):
            return d.process
        if isinstance(d, ast.ChannelDecl):
            return d.message.name
        return ""

    def _binding(self, ev: ast.Receive | ast.SendEvent, scope: dict[str, Symbol]) -> dict[str, Symbol]:
        """`receive seg from inbox` / `send m to c2s`: the channel is a use, the name a binding
        whose fields are those of the channel's message type."""
        chan = self._lookup(ev.channel, scope)
        self.use(self._name_span(ev.span, ev.channel, 1 if ev.channel == ev.binding else 0), chan)
        self._expr(getattr(ev, "index", None), scope)  # a member of a channel family
        message = self._message_of(chan)
        sym = self.declare(ev, ev.binding, "message", type_text=message.name if message else "")
        if message is not None:
            sym.members = message.members
        return {ev.binding: sym}

    def _message_of(self, chan: Symbol | None) -> Symbol | None:
        """The message declaration a channel (or a `chan M` parameter) carries."""
        if chan is None:
            return None
        if chan.kind == "channel" and isinstance(chan.node, ast.ChannelDecl):
            return self.ix.globals.get(chan.node.message.name)
        if chan.type_text.startswith("chan "):
            return self.ix.globals.get(chan.type_text[5:])
        return None

    def _property(self, prop: object, outer: dict[str, Symbol]) -> None:
        scope = dict(outer)
        if isinstance(prop, ast.StepProperty):
            for ev in prop.events:
                scope.update(self._binding(ev, outer))
        self._generic(prop, scope, skip=("name", "events"))

    def _stmts(self, stmts: tuple[ast_expr.Stmt, ...], scope: dict[str, Symbol]) -> None:
        for s in stmts:
            if isinstance(s, ast_expr.Assign):
                self.use(s.target_span, self._lookup(s.target, scope))
                self._expr(s.value, scope)
            elif isinstance(s, ast_expr.Send):
                self.use(s.channel_span, self._lookup(s.channel, scope))
                self._expr(s.message, scope)
                self._expr(getattr(s, "index", None), scope)  # a member of a channel family
            elif isinstance(s, ast_expr.If):
                self._expr(s.cond, scope)
                self._stmts(s.then, scope)
                self._stmts(s.else_, scope)
            else:
                self._generic(s, scope)

    def _type(self, t: object) -> None:
        if isinstance(t, ast_expr.TypeName):
            self.use(t.span, self.ix.globals.get(t.name))
        elif isinstance(t, ast_expr.ChanType):
            self._type(t.message)
        elif isinstance(t, ast_expr.RangeType):
            self._expr(t.lo, {})
            self._expr(t.hi, {})
        elif t is not None:
            self._generic(t, {})

    def _lookup(self, name: str, scope: dict[str, Symbol]) -> Symbol | None:
        return scope.get(name) or self.ix.globals.get(name)

    def _expr(self, e: object, scope: dict[str, Symbol]) -> Symbol | None:
        """Record the names used in `e`; return what `e` denotes when it is a name (for `.f`)."""
        if e is None:
            return None
        if isinstance(e, ast_expr.Name):
            sym = self._lookup(e.name, scope)
            self.use(self._name_span(e.span, e.name), sym)
            return sym
        if isinstance(e, ast_expr.FieldAccess):
            base = self._expr(e.base, scope)
            member = self._member(base, e.field)
            self.use(self._last_name_span(e.span, e.field), member)
            return member
        if isinstance(e, ast_expr.Index):
            base = self._expr(e.base, scope)
            self._expr(e.index, scope)
            return self._message_of(base)
        if isinstance(e, ast_expr.RecordLit):
            msg = self.ix.globals.get(e.type_name)
            self.use(self._name_span(e.span, e.type_name), msg)
            for fi in e.fields:
                self.use(self._name_span(fi.span, fi.name), msg.members.get(fi.name) if msg else None)
                self._expr(fi.value, scope)
            return None
        if isinstance(e, ast_expr.Quantifier):
            self._expr(e.lo, scope)
            self._expr(e.hi, scope)
            inner = dict(scope)
            inner[e.var] = self.declare(e, e.var, "quantified variable", type_text="int")
            self._expr(e.body, inner)
            return None
        self._generic(e, scope)
        return None

    def _member(self, base: Symbol | None, name: str) -> Symbol | None:
        if base is None:
            return None
        if base.kind == "instance" and isinstance(base.node, ast.InstanceDecl):
            proc = self.ix.globals.get(base.node.process)
            return proc.members.get(name) if proc else None
        if base.members:
            return base.members.get(name)
        msg = self.ix.globals.get(base.type_text)
        return msg.members.get(name) if msg is not None and msg.kind == "message type" else None

    def _dotted(self, text: str, span: Span) -> None:
        """`client.timeout`, `c2s`, `c2s.loss` in a `fair` declaration."""
        parts = text.split(".")
        head = self.ix.globals.get(parts[0])
        self.use(self._name_span(span, parts[0]), head)
        if len(parts) == 2 and head is not None:
            member = self._member(head, parts[1])
            self.use(self._last_name_span(span, parts[1]), member)

    def _generic(self, node: object, scope: dict[str, Symbol], skip: tuple[str, ...] = ()) -> None:
        """Walk a node of any kind: expressions inside it are resolved, types looked up."""
        if not dataclasses.is_dataclass(node) or isinstance(node, type):
            if isinstance(node, (tuple, list)):
                for x in node:
                    self._generic(x, scope)
            return
        if isinstance(node, (ast_expr.Name, ast_expr.FieldAccess, ast_expr.Index, ast_expr.RecordLit, ast_expr.Quantifier)):
            self._expr(node, scope)
            return
        if isinstance(node, (ast_expr.TypeName, ast_expr.ChanType, ast_expr.RangeType)):
            self._type(node)
            return
        for f in dataclasses.fields(node):
            if f.name in skip or f.name in ("span", "doc"):
                continue
            self._generic(getattr(node, f.name), scope)


def _kind_of(d: object) -> str:
    if isinstance(d, ast.Invariant):
        return "lemma" if d.lemma else "invariant"
    for cls, kind in PROPERTY_KINDS.items():
        if isinstance(d, cls):
            return kind
    return {
        ast.ConstDecl: "constant", ast.EnumDecl: "enum type", ast.MessageDecl: "message type",
        ast.TypeAlias: "type alias", ast.ChannelDecl: "channel", ast.ProcessDecl: "process",
        ast.InstanceDecl: "instance",
    }.get(type(d), type(d).__name__.lower())


