"""A variant (`variant of "BASE" { ... }`) resolved: the base program with the variant's edits.

A broken copy of a model is the model with one fault. Written as a full copy it drifts from the
model as the model evolves; written as a variant it is the lines that differ, and everything else
is the base's text. TLA+'s `INSTANCE ... WITH` and Quint's `import M(N = 3)` substitute constants
only; a fault is usually one transition written differently, so here any named item can be
replaced, dropped or added, each edit checked against the base: replacing or dropping what the
base does not have is an error at the edit, and so is adding what it already has (that is a
`replace`). The result is an ordinary program: the checker, the engines, export and replay see
a model like any other, with the replacements' spans in the variant's file, so a replacement
that does not type-check is reported there.

Items keep their place in the base (a replaced transition stays where the base had it, so the
transition order, and with it the traces, are the base's); added items come after the base's.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from tcpspec.frontend import ast
from tcpspec.core.diagnostics import Diagnostic, Span

# A process's members, by the ProcessDecl field that holds them.
_MEMBER_FIELDS = ("vars", "transitions", "properties", "finals", "defs")
_UNNAMED = (ast.FairDecl, ast.DepthDecl)


def kind_of(decl: Any) -> str:
    """The keyword that declares `decl`, as a variant's edit names it."""
    if isinstance(decl, ast.Invariant):
        return "lemma" if decl.lemma else "invariant"
    return {
        ast.Transition: "transition", ast.VarDecl: "var", ast.DefDecl: "def", ast.Final: "final",
        ast.Reachable: "reachable", ast.StepProperty: "step", ast.Eventually: "eventually",
        ast.LeadsTo: "leads_to", ast.Temporal: "temporal", ast.ConstDecl: "const", ast.EnumDecl: "enum", ast.MessageDecl: "message",
        ast.TypeAlias: "type", ast.ChannelDecl: "channel", ast.InstanceDecl: "instance",
        ast.ProcessDecl: "process", ast.FairDecl: "fair", ast.DepthDecl: "depth",
    }[type(decl)]


def _member_field(decl: Any) -> str | None:
    """The ProcessDecl field a member of this kind goes in; None: it is never a process member."""
    if isinstance(decl, ast.VarDecl):
        return "vars"
    if isinstance(decl, ast.Transition):
        return "transitions"
    if isinstance(decl, ast.Final):
        return "finals"
    if isinstance(decl, ast.DefDecl):
        return "defs"
    if isinstance(decl, (ast.Invariant, ast.Reachable, ast.StepProperty, ast.Eventually, ast.LeadsTo, ast.Temporal)):
        return "properties"
    return None


def shape(node: Any) -> Any:
    """`node` without its positions: two fair declarations with the same targets have one shape."""
    if isinstance(node, Span):
        return None
    if isinstance(node, (tuple, list)):
        return tuple(shape(x) for x in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node).__name__, tuple((k, shape(v)) for k, v in vars(node).items() if k != "doc"))
    return node


class Resolver:
    """Applies one variant's edits to its base's files, collecting every problem."""

    def __init__(self, base: list[ast.ModelFile], base_name: str, text: str) -> None:
        self.base_name = base_name
        self.text = text  # the variant's own text, to point at the name an edit gives
        self.decls: list[list[Any]] = [list(f.decls) for f in base]
        self.files = base
        self.added: list[Any] = []
        self.diags: list[Diagnostic] = []
        self.changed: dict[tuple[str, str, str], Span] = {}  # (process, kind, name) -> the edit

    # ------------------------------------------------------------ the edits

    def run(self, variant: ast.Variant) -> tuple[list[ast.ModelFile], list[Any]]:
        for item in variant.items:
            if isinstance(item, ast.Replace):
                self._replace(item)
            elif isinstance(item, ast.Drop):
                self._drop(item)
            else:
                self._add(item)
        files = [dataclasses.replace(f, decls=tuple(d)) for f, d in zip(self.files, self.decls)]
        return files, self.added

    def _replace(self, item: ast.Replace) -> None:
        new = item.decl
        if isinstance(new, ast.DepthDecl):
            self._error(item.span, "a variant's own 'depth' declaration overrides the base's: write it without 'replace'")
            return
        if isinstance(new, ast.FairDecl):
            at = self._find_fair(new, item.span)
            if at is not None:
                self.decls[at[0]][at[1]] = new
            return
        found = self._find(kind_of(new), new.name, item.span, "replace")
        if found is None:
            return
        old, put = found
        put(dataclasses.replace(new, name=new.name.rsplit(".", 1)[-1], doc=new.doc or old.doc))

    def _drop(self, item: ast.Drop) -> None:
        if item.fair is not None:
            at = self._find_fair(item.fair, item.span)
            if at is not None:
                self.decls[at[0]][at[1]] = None
            return
        found = self._find(item.kind, item.name, item.span, "drop")
        if found is not None:
            found[1](None)

    def _add(self, decl: Any) -> None:
        name = getattr(decl, "name", None)
        where = _member_field(decl)
        if name is not None and "." in name:
            if where is None:
                self._error(decl.span, f"a {kind_of(decl)} is declared at the top level, not in a process: "
                            f"write '{kind_of(decl)} {name.rsplit('.', 1)[-1]}'")
                return
            proc, member = name.split(".", 1)
            at = self._process(proc, decl.span)
            if at is None:
                return
            fi, di = at
            process = self.decls[fi][di]
            same = next((m for m in getattr(process, where) if m.name == member), None)
            if same is not None:
                self._exists(decl, name, same)
                return
            plain = dataclasses.replace(decl, name=member)
            self.decls[fi][di] = dataclasses.replace(process, **{where: getattr(process, where) + (plain,)})
            return
        if isinstance(decl, (ast.Transition, ast.VarDecl)):
            self._error(decl.span, f"a {kind_of(decl)} belongs to a process: name it 'Process.{name}' "
                        "(the process of the base it is added to)")
            return
        if name is not None:
            same = next((d for d in self._top() if getattr(d, "name", None) == name), None)
            if same is not None:
                self._exists(decl, name, same)
                return
        self.added.append(decl)

    # ------------------------------------------------------------ finding an item of the base

    def _top(self) -> list[Any]:
        return [d for decls in self.decls for d in decls if d is not None]

    def _find(self, kind: str, name: str, span: Span, verb: str) -> tuple[Any, Any] | None:
        """The base's item of this kind and (qualified) name, and a function that puts a new
        item (or None: removes it) in its place; None, with the error given, if there is none."""
        proc, _, member = name.rpartition(".")
        key = (proc, kind, member)
        first = self.changed.get(key)
        where = self._name_span(span, name)
        if first is not None:
            self._error(where, f"a second change of {kind} '{name}' in this variant", f"the first is at {first}")
            return None
        if proc:
            at = self._process(proc, where)
            if at is None:
                return None
            fi, di = at
            process = self.decls[fi][di]
            for field in _MEMBER_FIELDS:
                members = getattr(process, field)
                for k, m in enumerate(members):
                    if m.name == member and kind_of(m) == kind:
                        self.changed[key] = where
                        return m, self._member_setter(fi, di, field, k)
            others = [m for f in _MEMBER_FIELDS for m in getattr(process, f)]
            self._missing(where, kind, name, member, others, f"process '{proc}' of the base {self.base_name}", verb)
            return None
        if kind in ("transition", "var"):
            self._error(where, f"a {kind} belongs to a process: name it 'Process.{name}'")
            return None
        for fi, decls in enumerate(self.decls):
            for di, d in enumerate(decls):
                if d is not None and not isinstance(d, _UNNAMED) and d.name == name and kind_of(d) == kind:
                    self.changed[key] = where
                    return d, self._top_setter(fi, di)
        self._missing(where, kind, name, name, [d for d in self._top() if not isinstance(d, _UNNAMED)],
                      f"the base {self.base_name}", verb)
        return None

    def _member_setter(self, fi: int, di: int, field: str, k: int) -> Any:
        def put(new: Any) -> None:
            process = self.decls[fi][di]
            members = list(getattr(process, field))
            members[k: k + 1] = [] if new is None else [new]
            self.decls[fi][di] = dataclasses.replace(process, **{field: tuple(members)})
        return put

    def _top_setter(self, fi: int, di: int) -> Any:
        def put(new: Any) -> None:
            self.decls[fi][di] = new
        return put

    def _process(self, name: str, span: Span) -> tuple[int, int] | None:
        for fi, decls in enumerate(self.decls):
            for di, d in enumerate(decls):
                if isinstance(d, ast.ProcessDecl) and d.name == name:
                    return fi, di
        procs = [d.name for d in self._top() if isinstance(d, ast.ProcessDecl)]
        instances = {d.name: d.process for d in self._top() if isinstance(d, ast.InstanceDecl)}
        notes = [f"'{name}' is an instance of process '{instances[name]}': a variant changes the process, "
                 f"so '{instances[name]}.<member>'"] if name in instances else []
        notes.append(f"the processes of {self.base_name}: {', '.join(procs) or 'none'}")
        self._error(span, f"no process '{name}' in the base {self.base_name}", *notes)
        return None

    def _find_fair(self, decl: ast.FairDecl, span: Span) -> tuple[int, int] | None:
        want = sorted(map(repr, shape(decl.targets)))
        key = ("", "fair", repr(want))
        if key in self.changed:
            self._error(span, "a second change of this fairness declaration in this variant", f"the first is at {self.changed[key]}")
            return None
        fairs = []
        for fi, decls in enumerate(self.decls):
            for di, d in enumerate(decls):
                if isinstance(d, ast.FairDecl):
                    if sorted(map(repr, shape(d.targets))) == want:
                        self.changed[key] = span
                        return fi, di
                    fairs.append(f"{'strong ' if d.strength == 'strong' else ''}fair "
                                 f"{', '.join(t.text for t in d.targets)}; at {d.span}")
        targets = ", ".join(t.text for t in decl.targets)
        self._error(span, f"no fairness declaration of {targets} in the base {self.base_name} "
                    "(a 'fair' declaration is named by its targets, all of them)",
                    *(fairs[:5] or ["the base has no fairness declaration"]))
        return None

    # ------------------------------------------------------------ errors

    def _missing(self, span: Span, kind: str, name: str, member: str, items: list[Any], where: str, verb: str) -> None:
        same_name = [d for d in items if d.name == member]
        if same_name:
            d = same_name[0]
            self._error(span, f"cannot {verb} {kind} '{name}': in {where} '{member}' is a {kind_of(d)}",
                        f"declared at {d.span}")
            return
        notes = []
        close = difflib.get_close_matches(member, [d.name for d in items if kind_of(d) == kind], n=3)
        if close:
            notes.append("did you mean " + " or ".join(f"'{c}'" for c in close) + "?")
        if "." not in name:  # a process's member named without its process
            members = [f"'{d.name}.{m.name}'" for d in self._top() if isinstance(d, ast.ProcessDecl)
                       for f in _MEMBER_FIELDS for m in getattr(d, f) if m.name == member and kind_of(m) == kind]
            if members:
                notes.append(f"a process's {kind} is named with its process: {' or '.join(members)}")
        self._error(span, f"cannot {verb} {kind} '{name}': there is no {kind} '{member}' in {where}", *notes)

    def _exists(self, decl: Any, name: str, same: Any) -> None:
        self._error(self._name_span(decl.span, name),
                    f"'{name}' is already in the base (a {kind_of(same)}, at {same.span}): "
                    f"'replace {kind_of(decl)} {name} ...' changes it, or give the new {kind_of(decl)} another name")

    def _error(self, span: Span, message: str, *notes: str) -> None:
        self.diags.append(Diagnostic(span, message, tuple(notes)))

    def _name_span(self, span: Span, name: str) -> Span:
        """Where `name` is written in the edit at `span` (for the caret), else the edit itself."""
        lines = self.text.splitlines(keepends=True)
        if not 1 <= span.line <= len(lines):
            return span
        start = sum(map(len, lines[: span.line - 1])) + span.col - 1
        at = self.text.find(name, start)
        if at < 0 or self.text.count("\n", start, at) > 1:
            return span
        line = self.text.count("\n", 0, at) + 1
        col = at - (self.text.rfind("\n", 0, at) + 1) + 1
        return Span(span.file, line, col, line, col + len(name))


def resolve(base: list[ast.ModelFile], base_name: str, variant: ast.Variant, text: str
            ) -> tuple[list[ast.ModelFile], list[Any], list[Diagnostic]]:
    """The base's files with the edits applied, the variant's added top-level declarations, and
    the problems found (each at the edit it is about)."""
    r = Resolver(base, base_name, text)
    files, added = r.run(variant)
    files = [dataclasses.replace(f, decls=tuple(d for d in f.decls if d is not None)) for f in files]
    return files, added, r.diags
