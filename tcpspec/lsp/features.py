"""What the editor shows: hover texts, completion candidates, the outline. Plain data from the
analysis; server.py wraps it in protocol types."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tcpspec.frontend import ast

from tcpspec.checker import ir
from tcpspec.lsp.analysis import Analysis
from tcpspec.lsp.symbols import Symbol, span_text
from tcpspec.frontend.grammar import KEYWORDS

PROPERTY_KINDS = frozenset(("invariant", "lemma", "reachable", "step", "eventually", "leads_to", "temporal", "final"))
BUILTIN_TYPES = ("bool", "int", "seq32", "bv8", "bv16", "bv32")
BUILTIN_FUNCS = ("len",)


def hover_markdown(analysis: Analysis, sym: Symbol) -> str:
    """The declaration as written, its type (aliases expanded, as checked), its value if it is a
    constant, and its documentation: the `///` doc comment, else the comment beside it."""
    sources = analysis.program.sources if analysis.program else {}
    owner = f" of {sym.parent.kind} `{sym.parent.name}`" if sym.parent else ""
    parts = [f"**{sym.kind}** `{sym.name}`{owner}", f"```tcpspec\n{_signature(sources, sym)}\n```"]
    facts = _facts(analysis, sym)
    if facts:
        parts.append(" · ".join(facts))
    doc = sym.doc.strip() or _comment_beside(sources, sym)
    if doc:
        parts.append(doc)
    return "\n\n".join(parts)


def _signature(sources: dict[str, str], sym: Symbol) -> str:
    """The declaration's first line, up to its body (`{`) when it has one."""
    first = span_text(sources, sym.decl).split("\n")[0]
    if sym.kind in ("process", "transition", "message type") and "{" in first:
        first = first[: first.index("{")].rstrip()
    if sym.kind in ("enum member", "field", "parameter", "choose parameter", "message",
                    "quantified variable"):
        return f"{sym.name}: {sym.type_text}" if sym.type_text else sym.name
    return first.strip()


def _facts(analysis: Analysis, sym: Symbol) -> list[str]:
    facts: list[str] = []
    if sym.type_text:
        chain = _alias_chain(analysis, sym.type_text)
        facts.append("type: `" + " = ".join(chain) + "`")
    model = analysis.model
    if model is not None:
        if sym.kind == "constant" and sym.name in model.constants:
            facts.append(f"value: `{_value(model.constants[sym.name])}`")
        if sym.kind == "variable" and sym.parent is not None:
            checked = _checked_var_type(model, sym.parent.name, sym.name)
            if checked and (not facts or f"`{checked}`" not in facts[0] and f" {checked}`" not in facts[0]):
                facts.append(f"checked as `{checked}`")
        if sym.kind == "channel":
            chan = next((c for c in model.channels if c.name == sym.name), None)
            if chan is not None:
                faults = ", ".join(sorted(chan.faults)) or "reliable FIFO"
                facts.append(f"capacity {chan.capacity} · {faults}")
    if sym.kind == "enum member" and sym.parent is not None:
        facts.append(f"member of `{sym.parent.name}`")
    return facts


def _alias_chain(analysis: Analysis, text: str) -> list[str]:
    chain = [text]
    index = analysis.index
    while index is not None and len(chain) < 8:
        target = index.globals.get(chain[-1])
        if target is None or target.kind != "type alias" or not target.type_text:
            break
        chain.append(target.type_text)
    return chain


def _checked_var_type(model: ir.Model, process: str, local: str) -> str:
    names = {i.name for i in model.instances if i.process == process}
    for v in model.state_vars:
        if v.instance in names and v.local == local:
            return str(v.type)
    return ""


def _value(v: object) -> str:
    return "true" if v is True else "false" if v is False else str(v)


def _comment_beside(sources: dict[str, str], sym: Symbol) -> str:
    """The `//` comment on the declaration's line, else the run of `//` lines just above it."""
    lines = sources.get(sym.decl.file, "").split("\n")
    if not 1 <= sym.decl.line <= len(lines):
        return ""
    line = lines[sym.decl.line - 1]
    m = re.search(r"(?<!/)//(?!/)\s?(.*)$", line)
    if m and line[: m.start()].strip():
        return m.group(1).strip()
    above: list[str] = []
    k = sym.decl.line - 2
    while k >= 0 and lines[k].strip().startswith("//") and not lines[k].strip().startswith("// ---"):
        above.insert(0, lines[k].strip().lstrip("/").strip())
        k -= 1
    return "\n".join(above)


# ---------------------------------------------------------------- completion


@dataclass(frozen=True)
class Candidate:
    label: str
    kind: str  # a Symbol kind, "keyword", "type" or "function"
    detail: str = ""


def completions(analysis: Analysis, path: str, line: int, prefix_line: str) -> list[Candidate]:
    """Names that can stand at the cursor: after `x.`, the members of x; otherwise the names in
    scope (the process's parameters and variables, globals, enum members) and keywords."""
    index = analysis.index
    if index is None:
        return [Candidate(k, "keyword") for k in sorted(KEYWORDS)]
    dotted = re.search(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\.\s*[A-Za-z0-9_]*$", prefix_line)
    proc = index.process_at(path, line)
    scope: dict[str, Symbol] = dict(index.globals)
    if proc is not None:
        scope.update({n: s for n, s in proc.members.items()})
        scope.update(_locals_at(index, proc, line))
    if dotted:
        base = scope.get(dotted.group(1))
        return [Candidate(s.name, s.kind, s.type_text) for s in _members(index, base).values()]
    out = [Candidate(s.name, s.kind, s.type_text) for s in scope.values()]
    out += [Candidate(k, "keyword") for k in sorted(KEYWORDS)]
    out += [Candidate(t, "type") for t in BUILTIN_TYPES] + [Candidate(f, "function") for f in BUILTIN_FUNCS]
    return out


def _locals_at(index: object, proc: Symbol, line: int) -> dict[str, Symbol]:
    """Bindings of the transition or step property around `line` (choose, receive, on)."""
    out: dict[str, Symbol] = {}
    for s in index.symbols:  # type: ignore[attr-defined]
        if s.kind in ("choose parameter", "message", "quantified variable") and s.span.file == proc.decl.file:
            owner = _enclosing(proc, s.span.line)
            if owner is not None and owner.decl.line <= line <= (owner.decl.end_line or owner.decl.line):
                out[s.name] = s
    return out


def _enclosing(proc: Symbol, line: int) -> Symbol | None:
    for m in proc.members.values():
        d = m.decl
        if (m.kind == "transition" or m.kind in PROPERTY_KINDS) and d.line <= line <= (d.end_line or d.line):
            return m
    return None


def _members(index: object, base: Symbol | None) -> dict[str, Symbol]:
    if base is None:
        return {}
    if base.kind == "instance" and isinstance(base.node, ast.InstanceDecl):
        proc = index.globals.get(base.node.process)  # type: ignore[attr-defined]
        return proc.members if proc else {}
    if base.members:
        return base.members
    target = index.globals.get(base.type_text)  # type: ignore[attr-defined]
    if target is None and base.type_text.startswith("chan "):
        target = index.globals.get(base.type_text[5:])  # type: ignore[attr-defined]
    if target is not None and target.kind == "channel" and isinstance(target.node, ast.ChannelDecl):
        target = index.globals.get(target.node.message.name)  # type: ignore[attr-defined]
    return target.members if target is not None else {}


# ---------------------------------------------------------------- outline


@dataclass
class Outline:
    name: str
    kind: str
    symbol: Symbol
    children: list[Outline]


def outline(analysis: Analysis, path: str) -> list[Outline]:
    """The file's declarations in order, processes, enums and messages with their members."""
    index = analysis.index
    if index is None:
        return []
    seen: list[Outline] = []
    for sym in index.symbols:
        if sym.span.file != path or sym.parent is not None:
            continue
        if sym.kind in ("choose parameter", "message", "quantified variable", "enum member"):
            continue
        children = [Outline(m.name, m.kind, m, []) for m in sym.members.values()
                    if m.span.file == path] if sym.kind != "message" else []
        seen.append(Outline(sym.name, sym.kind, sym, children))
    return seen


def checkable(sym: Symbol) -> bool:
    """A property `tcpspec check --prop NAME` can select (a process property: for every instance)."""
    return sym.kind in PROPERTY_KINDS and sym.kind != "final"
