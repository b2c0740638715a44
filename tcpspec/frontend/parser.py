"""Text -> AST: the lark grammar, a Transformer to `tcpspec.frontend.ast`, imports, and syntax errors.

Every problem becomes a positioned `Diagnostic` inside a `ModelError`; nothing here prints. Syntax
error messages come from one curated table (`SYNTAX_MESSAGES`, matched with lark's
`match_examples`) with a generic fallback that names tokens as they are written (`';'`), never by
lark's terminal names.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternStr
from lark.parsers.lalr_analysis import Reduce

from tcpspec.frontend import ast
from tcpspec.core.diagnostics import Diagnostic, ModelError, Span
from tcpspec.core.inputs import MAX_IMPORTS, MAX_MODEL_BYTES, MAX_PROGRAM_BYTES, InputRefused, check_import, read_bytes

INT_LIMIT = 2**62
MAX_NESTING = 100  # tree levels; later stages recurse over the AST, so keep well under 1000
MAX_SYNTAX_ERRORS = 10
FAULT_KINDS = ("loss", "duplication", "reordering", "injection")
KEYWORDS = frozenset(
    "import const type enum message channel with process var transition choose receive from when "
    "send to if then else skip instance invariant lemma reachable step on ensure chan true false "
    "forall exists count eventually leads_to temporal always final fair strong depth for def let any variant".split()
)
RESERVED: frozenset[str] = frozenset()  # words kept from names for later use (none at the moment)
_CMP_OPS = frozenset(("==", "!=", "<", "<=", ">", ">="))


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    """The one parser object: building the LALR tables is the slow part, so do it once."""
    return Lark.open_from_package(
        "tcpspec.frontend",
        "grammar.lark",
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=False,
    )


# ---------------------------------------------------------------- public API


def parse_text(text: str, path: str) -> ast.ModelFile:
    """Parse one file's text; `path` is the name used in spans (as the user would see it)."""
    try:
        return _parse_text(text, path)
    except RecursionError:
        raise ModelError(
            [Diagnostic(Span(path, 1, 1), "the model is nested too deeply to be read")]
        ) from None


def load_program(path: str, source: Source | None = None, _via: tuple[str, ...] = (),
                 _base_of: ast.Import | None = None) -> ast.Program:
    """Read the root file and, transitively, its imports: each file once, imports first. A
    variant's file (`variant of "BASE" { ... }`) is its base's program, read the same way, with
    its edits applied (tcpspec/frontend/variant.py), then its own imports and additions.

    `source` lets an editor supply texts not saved yet and a faster parse (the language server);
    by default files are read from disk and parsed with `parse_text`. `_via`: the variants whose
    base this is (a cycle is an error); `_base_of`: their `variant of` clause, for the position
    of an error reading this file."""
    source = source or Source()
    program = ast.Program(root=path)
    diags: list[Diagnostic] = []
    seen: set[str] = {os.path.realpath(path)}
    root = _read_and_parse(path, _base_of, program, diags, source, "base model")
    if root is None:
        raise ModelError(diags)
    base_files: list[ast.ModelFile] = []
    if root.variant is not None:
        base_files = _variant_base(path, root.variant, program, source, _via)
        seen.update(os.path.realpath(f.path) for f in base_files)
    # Depth-first, iteratively: (file, index of its next import to visit).
    stack: list[tuple[ast.ModelFile, int]] = [(root, 0)]
    while stack:
        current, index = stack.pop()
        if index == len(current.imports):
            program.files.append(current)
            continue
        stack.append((current, index + 1))
        imp = current.imports[index]
        shown = _import_path(current.path, imp.path)
        key = os.path.realpath(shown)
        if key in seen:
            continue
        seen.add(key)
        child = _read_and_parse(shown, imp, program, diags, source)
        if child is not None:
            stack.append((child, 0))
    if root.variant is not None:
        from tcpspec.frontend.variant import resolve

        files, added, problems = resolve(base_files, root.variant.base, root.variant, program.sources.get(path, ""))
        diags.extend(problems)
        program.files = files + program.files[:-1] + [dataclasses.replace(root, decls=tuple(added))]
    if diags:
        raise ModelError(diags)
    return program


def _variant_base(path: str, variant: ast.Variant, program: ast.Program, source: Source,
                  via: tuple[str, ...]) -> list[ast.ModelFile]:
    """The base program's files (read within the same limits as imports); their texts go to
    `program.sources`. ModelError when the base cannot be read or is not a valid model."""
    shown = _import_path(path, variant.base)
    clause = ast.Import(variant.base, variant.base_span)
    chain = (*via, os.path.realpath(path))
    if os.path.realpath(shown) in chain:
        raise ModelError([Diagnostic(variant.base_span, f"'{shown}' is a variant of this file: a variant's base "
                                     "cannot be the variant itself or a variant of it")])
    if len(chain) >= MAX_IMPORTS:
        raise ModelError([Diagnostic(variant.base_span, f"more than {MAX_IMPORTS} variants of variants")])
    base = load_program(shown, source, chain, clause)
    sources = {**base.sources, **program.sources}
    if len(sources) > MAX_IMPORTS or sum(map(len, sources.values())) > MAX_PROGRAM_BYTES:
        raise ModelError([Diagnostic(variant.base_span, f"the model and its base and imports are too large: more "
                                     f"than {MAX_IMPORTS} files or {MAX_PROGRAM_BYTES} bytes")])
    program.sources = sources
    return base.files


def _import_path(importer: str, target: str) -> str:
    """The imported file's path relative to the importing file, kept in the user's terms."""
    if os.path.isabs(target):
        return os.path.normpath(target)
    return os.path.normpath(os.path.join(os.path.dirname(importer), target))


class Source:
    """Where `load_program` gets a file's bytes and how it parses a text: from disk and with
    `parse_text` here; the language server overrides both (open editors' texts, a cache)."""

    def read(self, path: str) -> bytes:
        os.stat(path)  # a missing file is an OSError (its own message); the rest: inputs.InputRefused
        return read_bytes(path, MAX_MODEL_BYTES, "model file")

    def parse(self, text: str, path: str) -> ast.ModelFile:
        return parse_text(text, path)


def _read_and_parse(
    shown: str, imp: ast.Import | None, program: ast.Program, diags: list[Diagnostic], source: Source,
    what: str = "imported file",
) -> ast.ModelFile | None:
    """Read, decode and parse one file, adding any problem to `diags` instead of raising. `imp`:
    the clause that names it (an import, or a variant's `of`), where a problem reading it shows."""
    try:
        if imp is not None:
            check_import(shown)
        data = source.read(shown)
        if len(program.sources) >= MAX_IMPORTS or sum(map(len, program.sources.values())) + len(data) > MAX_PROGRAM_BYTES:
            raise InputRefused(f"the model and its imports are too large: more than {MAX_IMPORTS} files or "
                               f"{MAX_PROGRAM_BYTES} bytes")
    except InputRefused as exc:
        diags.append(Diagnostic(None if imp is None else imp.span, str(exc)))
        return None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if imp is None:
            diags.append(Diagnostic(None, f"cannot read model file '{shown}': {reason}"))
        else:
            diags.append(Diagnostic(imp.span, f"cannot read {what} '{shown}': {reason}"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8-sig", errors="replace")
        line = good.count("\n") + 1
        col = len(good) - (good.rfind("\n") + 1) + 1
        program.sources[shown] = good
        bad = data[exc.start : exc.start + 1].hex()
        msg = f"this file is not UTF-8 text (byte 0x{bad} cannot be decoded)"
        diags.append(Diagnostic(Span(shown, line, col, line, col + 1), msg))
        return None
    program.sources[shown] = text
    try:
        return source.parse(text, shown)
    except ModelError as err:
        diags.extend(err.diagnostics)
        return None


def _parse_text(text: str, path: str) -> ast.ModelFile:
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise ModelError(_syntax_errors(text, path, exc)) from None
    deep = _too_deep(tree)
    if deep is not None:
        span = Span(path, deep.line, deep.column, deep.end_line, deep.end_column)
        msg = (
            f"nesting too deep: more than {MAX_NESTING} levels of nested expressions or "
            "statements; split it up with constants or variables"
        )
        raise ModelError([Diagnostic(span, msg)])
    builder = _ToAst(path)
    try:
        items = builder.transform(tree)
    except VisitError as exc:
        raise exc.orig_exc from None
    if builder.errors:
        raise ModelError(builder.errors)
    imports = tuple(i for i in items if isinstance(i, ast.Import))
    variants = [i for i in items if isinstance(i, ast.Variant)]
    decls = tuple(i for i in items if not isinstance(i, (ast.Import, ast.Variant)))
    errors = _qualified_names(decls)
    if variants and decls:
        errors.append(Diagnostic(decls[0].span, "a variant's file holds its imports and its 'variant of' block only: "
                                 "put this declaration inside the block"))
    errors.extend(Diagnostic(v.span, "a file holds one 'variant of' block", (f"the first is at {variants[0].span}",))
                  for v in variants[1:])
    if errors:
        raise ModelError(errors)
    return ast.ModelFile(path=path, imports=imports, decls=decls, variant=variants[0] if variants else None)


def _qualified_names(decls: tuple[ast.Decl, ...]) -> list[Diagnostic]:
    """`Process.member` names an item of a variant's base; anywhere else it is an error."""
    named: list[Any] = list(decls)
    for d in decls:
        if isinstance(d, ast.ProcessDecl):
            named += [*d.vars, *d.transitions, *d.properties, *d.finals, *d.defs]
    return [Diagnostic(d.span, f"'{d.name}': a qualified name (Process.member) is for a 'variant of' block, "
                       "where it names a member of a process of the base; here write the member's own name")
            for d in named if "." in getattr(d, "name", "")]


def _too_deep(tree: Tree[Token]) -> Any:
    """The meta of the first subtree nested deeper than MAX_NESTING, without recursing."""
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            return node.meta
        # Leftmost first, so a long left-associative chain is reported where it starts.
        subtrees = [c for c in node.children if isinstance(c, Tree)]
        stack.extend((c, depth + 1) for c in reversed(subtrees))
    return None


# ---------------------------------------------------------------- tree -> AST


@dataclasses.dataclass(frozen=True)
class _Tagged:
    """An intermediate result whose role is known by `kind` (optional parts of a rule)."""

    kind: str
    value: Any


@dataclasses.dataclass(frozen=True)
class _Target:
    """An assignment's target while it is being read: the variable and the map keys after it."""

    name: str
    span: Span
    path: tuple[Any, ...]


@v_args(meta=True)
class _ToAst(Transformer[Token, Any]):
    """Builds `tcpspec.frontend.ast` nodes; recoverable problems go to `errors`, the walk goes on."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.errors: list[Diagnostic] = []

    def _span(self, meta: Any) -> Span:
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, tok: Token) -> Span:
        return _token_span(self.path, tok)

    def _error(self, span: Span, message: str) -> None:
        self.errors.append(Diagnostic(span, message))

    # ---- files and declarations

    def qname(self, meta: Any, c: list[Any]) -> Token:
        return c[0] if len(c) == 1 else Token.new_borrow_pos("NAME", f"{c[0]}.{c[1]}", c[0])

    def variant_decl(self, meta: Any, c: list[Any]) -> ast.Variant:
        if str(c[0]) != "of":
            self._error(self._tok(c[0]), f"unexpected '{c[0]}': expected 'of', as in 'variant of \"../tcp.tcpspec\" {{ ... }}'")
        return ast.Variant(str(c[1])[1:-1], self._tok(c[1]), tuple(c[2:]), self._span(meta))

    def variant_item(self, meta: Any, c: list[Any]) -> Any:
        docs = "\n".join(str(t)[3:].strip() for t in c[:-1])
        item = c[-1]
        if not docs or isinstance(item, ast.Drop):
            return item
        if isinstance(item, ast.Replace):
            return dataclasses.replace(item, decl=dataclasses.replace(item.decl, doc=docs))
        return dataclasses.replace(item, doc=docs)

    def variant_replace(self, meta: Any, c: list[Any]) -> Any:
        word, decl, span = str(c[0]), c[1], self._span(meta)
        if word == "drop" and isinstance(decl, ast.FairDecl):
            return ast.Drop("fair", ", ".join(t.text for t in decl.targets), span, fair=decl)
        if word == "drop":
            self._error(self._tok(c[0]), "'drop' names the item it removes: 'drop transition Endpoint.close;'")
        elif word != "replace":
            self._error(self._tok(c[0]), f"unexpected '{word}': in a variant an item is a declaration (added to "
                        "the base), 'replace DECLARATION' or 'drop KIND NAME;'")
        return ast.Replace(decl, span)

    def variant_drop(self, meta: Any, c: list[Any]) -> ast.Drop:
        if str(c[0]) != "drop":
            self._error(self._tok(c[0]), f"unexpected '{c[0]}': 'drop {c[1]} {c[2]};' removes an item; "
                        "'replace' is followed by the whole new declaration")
        return ast.Drop(str(c[1]), str(c[2]), self._span(meta))

    def start(self, meta: Any, children: list[Any]) -> list[Any]:
        return children

    def import_decl(self, meta: Any, c: list[Any]) -> ast.Import:
        return ast.Import(str(c[0])[1:-1], self._span(meta))

    def top_decl(self, meta: Any, c: list[Any]) -> Any:
        docs = [str(t)[3:].strip() for t in c[:-1]]
        return dataclasses.replace(c[-1], doc="\n".join(docs)) if docs else c[-1]

    process_item = top_decl

    def const_decl(self, meta: Any, c: list[Any]) -> ast.ConstDecl:
        return ast.ConstDecl(str(c[0]), c[1], self._span(meta))

    def type_alias(self, meta: Any, c: list[Any]) -> ast.TypeAlias:
        return ast.TypeAlias(str(c[0]), c[1], self._span(meta))

    def enum_member(self, meta: Any, c: list[Any]) -> tuple[str, Span]:
        return str(c[0]), self._tok(c[0])

    def enum_decl(self, meta: Any, c: list[Any]) -> ast.EnumDecl:
        members = c[1:]
        return ast.EnumDecl(
            str(c[0]),
            tuple(m[0] for m in members),
            tuple(m[1] for m in members),
            self._span(meta),
        )

    def message_decl(self, meta: Any, c: list[Any]) -> ast.MessageDecl:
        return ast.MessageDecl(str(c[0]), tuple(c[1:]), self._span(meta))

    def field_decl(self, meta: Any, c: list[Any]) -> ast.FieldDecl:
        default = c[2] if len(c) > 2 else None
        return ast.FieldDecl(str(c[0]), c[1], default, self._span(meta))

    def channel_decl(self, meta: Any, c: list[Any]) -> ast.ChannelDecl:
        family = c.pop(1) if isinstance(c[1], (ast.Family, ast.Binder)) else None
        init = next((x.value for x in c if isinstance(x, _Tagged) and x.kind == "init"), None)
        faults = tuple(x for x in c[3:] if isinstance(x, ast.Fault))
        return ast.ChannelDecl(str(c[0]), c[1], c[2], faults, self._span(meta), family=family, init=init)

    def chan_init(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("init", c[0])

    def chan_init_if(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("init", ast.InitChoice(c[0], c[1], c[2], self._span(meta)))

    def msg_list(self, meta: Any, c: list[Any]) -> tuple[Any, ...]:
        return tuple(c)

    def chan_any(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("chan", (str(c[0]), ast.Name(str(c[2]), self._tok(c[2])), self._span(meta), True))

    def family(self, meta: Any, c: list[Any]) -> ast.Family:
        return ast.Family(None, c[0], self._span(meta))

    def family_range(self, meta: Any, c: list[Any]) -> ast.Family:
        return ast.Family(c[0], c[1], self._span(meta))

    def binder(self, meta: Any, c: list[Any]) -> ast.Binder:
        self._expect_in(c[1], str(c[0]))
        return ast.Binder(str(c[0]), c[2], c[3], self._span(meta))

    def _expect_in(self, tok: Token, var: str, what: str = "rm[i in 0..N-1]") -> None:
        if str(tok) != "in":
            self._error(self._tok(tok), f"unexpected '{tok}': expected 'in', as in '{what}'")

    def fault(self, meta: Any, c: list[Any]) -> ast.Fault:
        kind = str(c[0])
        if kind not in FAULT_KINDS:
            self._error(
                self._tok(c[0]),
                f"unknown fault '{kind}': expected loss, duplication, reordering or injection",
            )
        return ast.Fault(kind, c[1] if len(c) > 1 else None, self._span(meta))

    def instance_decl(self, meta: Any, c: list[Any]) -> ast.InstanceDecl:
        family = c.pop(1) if isinstance(c[1], ast.Binder) else None
        return ast.InstanceDecl(
            str(c[0]), str(c[1]), self._tok(c[1]), tuple(c[2:]), self._span(meta), family=family
        )

    def arg(self, meta: Any, c: list[Any]) -> ast.Arg:
        return ast.Arg(str(c[0]), c[1], self._span(meta))

    def process_decl(self, meta: Any, c: list[Any]) -> ast.ProcessDecl:
        rest = c[1:]
        props = (ast.Invariant, ast.Reachable, ast.StepProperty, ast.Eventually, ast.LeadsTo, ast.Temporal)
        return ast.ProcessDecl(
            str(c[0]),
            tuple(x for x in rest if isinstance(x, ast.Param)),
            tuple(x for x in rest if isinstance(x, ast.VarDecl)),
            tuple(x for x in rest if isinstance(x, ast.Transition)),
            tuple(x for x in rest if isinstance(x, props)),
            self._span(meta),
            finals=tuple(x for x in rest if isinstance(x, ast.Final)),
            defs=tuple(x for x in rest if isinstance(x, ast.DefDecl)),
        )

    def param(self, meta: Any, c: list[Any]) -> ast.Param:
        return ast.Param(str(c[0]), c[1], self._span(meta))

    def var_decl(self, meta: Any, c: list[Any]) -> ast.VarDecl:
        return ast.VarDecl(str(c[0]), c[1], c[2] if len(c) > 2 else None, self._span(meta))

    def transition(self, meta: Any, c: list[Any]) -> ast.Transition:
        fair = c.pop(0).value if isinstance(c[0], _Tagged) and c[0].kind == "fair" else ""
        parts = {x.kind: x.value for x in c[1:] if isinstance(x, _Tagged)}
        receive = next((x for x in c if isinstance(x, ast.Receive)), None)
        return ast.Transition(
            str(c[0]),
            parts.get("choose", ()),
            receive,
            parts.get("guard"),
            parts["block"],
            self._span(meta),
            fair=fair,
        )

    def choose(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("choose", tuple(c))

    def receive(self, meta: Any, c: list[Any]) -> ast.Receive:
        name, index, _, *any_ = c[1].value
        if any_:
            assert isinstance(index, ast.Name)
            return ast.Receive(str(c[0]), name, self._span(meta), any_var=index.name)
        return ast.Receive(str(c[0]), name, self._span(meta), index=index)

    def chan_ref(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("chan", (str(c[0]), c[1] if len(c) > 1 else None, self._span(meta)))

    def guard(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("guard", c[0])

    # ---- properties

    def invariant(self, meta: Any, c: list[Any]) -> ast.Invariant:
        return ast.Invariant(str(c[0]), c[1], self._span(meta))

    def lemma(self, meta: Any, c: list[Any]) -> ast.Invariant:
        return ast.Invariant(str(c[0]), c[1], self._span(meta), lemma=True)

    def reachable(self, meta: Any, c: list[Any]) -> ast.Reachable:
        return ast.Reachable(str(c[0]), c[1], self._span(meta))

    def eventually(self, meta: Any, c: list[Any]) -> ast.Eventually:
        return ast.Eventually(str(c[0]), c[1], self._span(meta))

    def leads_to(self, meta: Any, c: list[Any]) -> ast.LeadsTo:
        return ast.LeadsTo(str(c[0]), c[1], c[3], self._span(meta))

    def temporal(self, meta: Any, c: list[Any]) -> ast.Temporal:
        return ast.Temporal(str(c[0]), c[1], self._span(meta))

    def final_decl(self, meta: Any, c: list[Any]) -> ast.Final:
        return ast.Final(str(c[0]), c[1], self._span(meta))

    def fairness(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("fair", "strong" if c else "weak")

    def fair_decl(self, meta: Any, c: list[Any]) -> ast.FairDecl:
        return ast.FairDecl(c[0].value, tuple(c[1:]), self._span(meta))

    def depth_decl(self, meta: Any, c: list[Any]) -> ast.DepthDecl:
        return ast.DepthDecl(c[0], tuple(c[1:]), self._span(meta))

    def depth_kind(self, meta: Any, c: list[Any]) -> str:
        return str(c[0])

    def fair_target(self, meta: Any, c: list[Any]) -> ast.FairTarget:
        index = next((x for x in c[1:] if not isinstance(x, Token)), None)
        member = next((str(x) for x in c[1:] if isinstance(x, Token)), None)
        return ast.FairTarget(str(c[0]), index, member, self._span(meta))

    def step_prop(self, meta: Any, c: list[Any]) -> ast.StepProperty:
        parts = {x.kind: x.value for x in c[1:-1]}
        return ast.StepProperty(
            str(c[0]), parts.get("events", ()), parts.get("when"), c[-1], self._span(meta)
        )

    def events(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("events", tuple(c))

    def send_event(self, meta: Any, c: list[Any]) -> ast.SendEvent:
        name, index, span, *any_ = c[1].value
        if any_:
            self._error(span, "'any' is only for a transition's receive: a send names its channel")
        return ast.SendEvent(str(c[0]), name, self._span(meta), index=index)

    def step_when(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("when", c[0])

    # ---- statements

    def block(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("block", tuple(c))

    def assign(self, meta: Any, c: list[Any]) -> ast.Stmt:
        targets = [x for x in c if isinstance(x, _Target)]
        values = [x for x in c if not isinstance(x, _Target)]
        span = self._span(meta)
        if len(targets) != len(values):
            self._error(span, f"{len(targets)} target{'s' if len(targets) > 1 else ''} but {len(values)} "
                        f"value{'s' if len(values) > 1 else ''}: write one value per target, 'a, b := x, y;'")
        assigns = tuple(ast.Assign(t.name, t.span, v, span, t.path) for t, v in zip(targets, values))
        if len(assigns) == 1:
            return assigns[0]
        return ast.MultiAssign(assigns, span)

    def lvalue_name(self, meta: Any, c: list[Any]) -> _Target:
        return _Target(str(c[0]), self._span(meta), ())

    def lvalue_index(self, meta: Any, c: list[Any]) -> _Target:
        base: _Target = c[0]
        return _Target(base.name, self._span(meta), base.path + (c[1],))

    def lvalue_field(self, meta: Any, c: list[Any]) -> _Target:
        base: _Target = c[0]
        text = f"{base.name}{'[...]' * len(base.path)}.{c[1]}"
        self._error(self._span(meta), f"cannot assign to '{text}': a transition assigns its own instance's "
                    "variables (and map elements, m[k] := e), never another instance's or a message's field")
        return base

    def let_stmt(self, meta: Any, c: list[Any]) -> ast.Let:
        return ast.Let(str(c[0]), c[1], self._span(meta))

    def def_decl(self, meta: Any, c: list[Any]) -> ast.DefDecl:
        params = tuple(x for x in c[1:-2] if isinstance(x, ast.Param))
        return ast.DefDecl(str(c[0]), params, c[-2], c[-1], self._span(meta))

    def send(self, meta: Any, c: list[Any]) -> ast.Send:
        name, index, span, *any_ = c[0].value
        if any_:
            self._error(span, "'any' is only for a transition's receive: a send names its channel")
        return ast.Send(name, span, c[1], self._span(meta), index=index)

    def for_stmt(self, meta: Any, c: list[Any]) -> ast.For:
        self._expect_in(c[1], str(c[0]), f"for {c[0]} in 0..N-1 {{ ... }}")
        hi = c[3] if len(c) > 4 else None
        return ast.For(str(c[0]), c[2], hi, c[-1].value, self._span(meta))

    def skip(self, meta: Any, c: list[Any]) -> ast.Skip:
        return ast.Skip(self._span(meta))

    def if_stmt(self, meta: Any, c: list[Any]) -> ast.If:
        else_: tuple[ast.Stmt, ...] = ()
        if len(c) > 2:
            else_ = c[2].value if isinstance(c[2], _Tagged) else (c[2],)
        return ast.If(c[0], c[1].value, else_, self._span(meta))

    # ---- types

    def type_name(self, meta: Any, c: list[Any]) -> ast.TypeName:
        return ast.TypeName(str(c[0]), self._span(meta))

    def chan_type(self, meta: Any, c: list[Any]) -> ast.ChanType:
        return ast.ChanType(c[0], self._span(meta), c[1] if len(c) > 1 else None)

    def range_type(self, meta: Any, c: list[Any]) -> ast.RangeType:
        return ast.RangeType(c[0], c[1], self._span(meta))

    def map_type(self, meta: Any, c: list[Any]) -> ast.MapTypeExpr:
        return ast.MapTypeExpr(c[0], c[2], self._span(meta))

    def set_type(self, meta: Any, c: list[Any]) -> Any:
        if (str(c[0]), str(c[1])) != ("set", "of"):
            bad = c[0] if str(c[0]) != "set" else c[1]
            self._error(self._tok(bad), f"unexpected '{bad}': a type is a name, LO..HI, [K] -> V or 'set of T'")
        return ast.SetTypeExpr(c[2], self._span(meta))

    # ---- expressions

    def if_expr(self, meta: Any, c: list[Any]) -> ast.IfExpr:
        return ast.IfExpr(c[0], c[1], c[2], self._span(meta))

    def binary(self, meta: Any, c: list[Any]) -> ast.Binary:
        left, op, right = c
        span = self._span(meta)
        if (
            op in _CMP_OPS
            and isinstance(left, ast.Binary)
            and left.op in _CMP_OPS
            and (left.span.line, left.span.col) == (span.line, span.col)
        ):
            self._error(
                self._tok(op),
                f"comparisons cannot be chained: write 'a {left.op} b && b {op} c' "
                "or add parentheses",
            )
        return ast.Binary(str(op), left, right, span)

    def member(self, meta: Any, c: list[Any]) -> ast.Binary:
        if str(c[1]) != "in":
            self._error(self._tok(c[1]), f"unexpected '{c[1]}': expected an operator (or 'in', as in 'x in s')")
        return ast.Binary("in", c[0], c[2], self._span(meta))

    def set_lit(self, meta: Any, c: list[Any]) -> ast.SetLit:
        return ast.SetLit(tuple(c), self._span(meta))

    def map_lit(self, meta: Any, c: list[Any]) -> ast.MapLit:
        self._expect_in(c[1], str(c[0]), f"[{c[0]} in 0..N-1 -> e]")
        hi = c[3] if len(c) == 6 else None
        return ast.MapLit(str(c[0]), c[2], hi, c[-1], self._span(meta))

    def unary(self, meta: Any, c: list[Any]) -> ast.Unary:
        return ast.Unary(str(c[0]), c[1], self._span(meta))

    def field(self, meta: Any, c: list[Any]) -> ast.FieldAccess:
        return ast.FieldAccess(c[0], str(c[1]), self._span(meta))

    def index(self, meta: Any, c: list[Any]) -> ast.Index:
        return ast.Index(c[0], c[1], self._span(meta))

    def quantifier(self, meta: Any, c: list[Any]) -> ast.Quantifier:
        self._expect_in(c[2], str(c[1]), f"{c[0]} {c[1]} in 0..N: ...")
        hi = c[4] if len(c) > 5 else None
        return ast.Quantifier(str(c[0]), str(c[1]), c[3], hi, c[-1], self._span(meta))

    def prime(self, meta: Any, c: list[Any]) -> Any:
        base = c[0]
        if isinstance(base, (ast.Name, ast.FieldAccess)) and not base.primed:
            return dataclasses.replace(base, primed=True, span=self._span(meta))
        what = "twice" if getattr(base, "primed", False) else "after this expression"
        self._error(
            self._tok(c[1]),
            f"a prime (') cannot be written {what}: only a variable can be primed, "
            "e.g. x' or client.state'",
        )
        return base

    def record(self, meta: Any, c: list[Any]) -> ast.RecordLit:
        return ast.RecordLit(str(c[0]), tuple(c[1:]), self._span(meta))

    def field_init(self, meta: Any, c: list[Any]) -> ast.FieldInit:
        return ast.FieldInit(str(c[0]), c[1], self._span(meta))

    def call(self, meta: Any, c: list[Any]) -> ast.Call:
        return ast.Call(str(c[0]), tuple(c[1:]), self._span(meta))

    def name(self, meta: Any, c: list[Any]) -> ast.Name:
        return ast.Name(str(c[0]), self._span(meta))

    def true(self, meta: Any, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(True, self._span(meta))

    def false(self, meta: Any, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(False, self._span(meta))

    def int(self, meta: Any, c: list[Any]) -> ast.IntLit:
        text = str(c[0])
        span = self._span(meta)
        if len(text) > 40:  # far past 2^62; also keeps int() off Python's 4300-digit limit
            self._error(span, "integer literal too large: literals must lie within ±2^62")
            return ast.IntLit(0, span)
        value = int(text[2:], 16) if text[:2] in ("0x", "0X") else int(text, 10)
        if value > INT_LIMIT:
            self._error(span, "integer literal too large: literals must lie within ±2^62")
        return ast.IntLit(value, span)


# ---------------------------------------------------------------- syntax errors

# The curated messages: message -> snippets that fail at the point the message describes. An error
# matches a message when the parser stops in the same state (see `_normalized`); an example whose
# offending token is the same wins over one that only shares the state. `{found}` is the offending
# token as written. tests/test_parser.py checks that every example produces its own message.
SYNTAX_MESSAGES: dict[str, list[str]] = {
    "expected ';' after the assignment": [
        "process P() { transition t { x := 1 } }",
        "process P() { transition t { x := 1 y := 2; } }",
    ],
    "expected ':=' to assign (a variable is assigned with ':=', not '=')": [
        "process P() { transition t { x = 1; } }",
    ],
    "'=' is not a comparison: write '==' (TLA+'s '=' is '==' here; ':=' assigns)": [
        "invariant i: x = 1;",
        "reachable r: x = 1;",
        "invariant i: (x = 1);",
        "invariant i: y && x = 1;",
        "process P() { transition t when x = 1 { } }",
        "process P() { transition t choose n: 0..1 when n = 1 { } }",
        "process P() { transition t receive m from c when m.a = 1 { } }",
        "process P() { transition t { if x = 1 { } } }",
        "process P() { transition t { y := x = 1; } }",
    ],
    "unexpected ':': a record literal in a 'when' or 'if' condition must be in parentheses, "
    "e.g. 'when m == (Segment { syn: true }) {'": [
        "process P() { transition t when m == Segment { syn: true } { } }",
    ],
    "expected ':=' after the variable name": [
        "process P() { transition t { x 1; } }",
    ],
    "unexpected {found}: a transition's 'choose' must come before 'receive' and 'when'": [
        "process P() { transition t receive m from c choose p: bool { } }",
        "process P() { transition t when x choose p: bool { } }",
    ],
    "unexpected {found}: a transition's 'receive' must come before 'when'": [
        "process P() { transition t when x receive m from c { } }",
    ],
    "expected '{' to start the transition's body": [
        "process P() { transition t when x; }",
        "process P() { transition t x := 1; }",
        "process P() { transition t receive m from c; }",
    ],
    "expected ';' after the declaration": [
        "const A = 1 const B = 2;",
        "process P() { var x: bool = true var y: bool; }",
        "instance i = P() instance j = P();",
    ],
    "expected ';' after the property": [
        "invariant i: x invariant j: y;",
        "reachable r: x }",
    ],
    "expected ';' after the statement": [
        "process P() { transition t { send c m } }",
        "process P() { transition t { skip } }",
    ],
    "expected a type (bool, seqN, bvN, LO..HI or a type name)": [
        "process P() { var x: ; }",
        "type T = ;",
    ],
    "a variable needs a type: 'var NAME: TYPE = VALUE;'": [
        "process P() { var x = 1; }",
    ],
    "a property needs a name: 'invariant NAME: EXPR;'": [
        "invariant x == 1;",
        "reachable x == 1;",
        "step x == 1;",
    ],
    "a step property needs 'ensure EXPR;'": [
        "step s: when x;",
        "step s: on receive r from c;",
    ],
    "unexpected {found}: a step property's 'on' list must come before 'when'": [
        "step s: when x on receive r from c ensure y;",
    ],
    "expected an event: 'receive NAME from CHANNEL' or 'send NAME to CHANNEL'": [
        "step s: on x ensure y;",
    ],
    "expected '[CAPACITY]' after the channel's message type": [
        "channel c: M;",
        "channel c: M with loss;",
    ],
    "expected a channel in 'send CHANNEL MESSAGE;'": [
        "process P() { transition t { send Segment { a: 1 }; } }",
    ],
    "expected 'to' in 'send NAME to CHANNEL'": ["step s: on send m c ensure y;"],
    "expected 'from' in 'receive NAME from CHANNEL'": [
        "step s: on receive m c ensure y;",
        "process P() { transition t receive m c { } }",
    ],
    "'else' needs a block or another 'if': 'else { ... }' or 'else if COND { ... }'": [
        "process P() { transition t { if x { } else y := 1; } }",
    ],
    "an 'if' statement's branches are blocks: 'if COND { ... }' ('then' is only for "
    "'if C then A else B' expressions)": [
        "process P() { transition t { if x then y := 1; } }",
    ],
    "an 'if' expression needs an 'else' branch: 'if C then A else B'": [
        "const A = if x then 1;",
    ],
    "expected a field name after '.'": ["const A = x.;", "const A = x.1;"],
    "an import needs a quoted path: 'import \"file.tcpspec\";'": ["import x;"],
    "the arguments of an instance are named: 'instance i = P(param: value);'": [
        "instance i = P(1);",
        "instance i = P(x);",
    ],
    "a doc comment ('///') must be followed by the declaration it documents": [
        "/// d\n}",
        "/// d\nimport \"a.tcpspec\";",
        "/// d",
        "process P() { /// d\n }",
    ],
    "unexpected {found}: variables and transitions belong inside a process": [
        "var x: bool;",
        "transition t { }",
    ],
    "unexpected {found}: expected a declaration (const, type, enum, message, channel, "
    "process, instance, invariant, reachable, step or import)": [
        "x := 1;",
        "}",
    ],
    "unexpected {found}: only variables, transitions and properties can be declared "
    "inside a process": [
        "process P() { const A = 1; }",
        "process P() { instance i = P(); }",
    ],
    "unexpected {found}: expected a variable, transition or property inside a process": [
        "process P() { x := 1; }",
    ],
}

_ONLY_FOR = {
    "'=' is not a comparison: write '==' (TLA+'s '=' is '==' here; ':=' assigns)": {"="},
    "unexpected {found}: a transition's 'choose' must come before 'receive' and 'when'": {"choose"},
    "unexpected {found}: a transition's 'receive' must come before 'when'": {"receive"},
}

# Habits from TLA+ and Promela: message -> (a pattern found on the error's line, spanning the error
# column, and examples that must give the message). Checked before SYNTAX_MESSAGES, for lexical
# and token errors alike: these are what a TLA+ or Promela user writes first, and the fix is a
# spelling. tests/test_parser.py checks every example; docs/errors.md lists them.
HABITS: dict[str, tuple[str, list[str]]] = {
    "TLA+'s '/\\' is '&&' here (and)": (r"/\\", ["invariant i: a /\\ b;"]),
    "TLA+'s '\\/' is '||' here (or)": (r"\\/", ["invariant i: a \\/ b;"]),
    "TLA+'s '\\in' is 'in' here: 'x in s', 'forall j in 0..N-1: ...'": (
        r"\\in\b", ["invariant i: x \\in s;", "invariant i: forall j \\in 0..2: j > 0;"]),
    "TLA+'s '\\notin' is written '!(x in s)' here": (r"\\notin\b", ["invariant i: x \\notin s;"]),
    "TLA+'s '\\A x \\in S: P' is 'forall x in S: P' here (and '\\E' is 'exists')": (
        r"\\[AE]\b", ["invariant i: \\A x \\in S: x;", "invariant i: \\E x \\in S: x;"]),
    "TLA+'s '~' is '!' here (not)": (r"~(?!>)", ["invariant i: ~a;"]),
    "TLA+'s '#' and '/=' are '!=' here (not equal)": (r"#|/=", ["invariant i: a # b;", "invariant i: a /= b;"]),
    "'=>' is not an operator: implication is '==>'": (r"(?<![=<])=>", ["invariant i: a => b;"]),
    "TLA+'s '<=>' is '==' on bools here": (r"<=>", ["invariant i: a <=> b;"]),
    "TLA+'s x' = e is 'x := e;' here: a statement gives a variable its new value with ':='": (
        r"\b\w+'\s*:?=(?!=)", ["process P() { transition t { x' = x + 1; } }",
                               "process P() { transition t { x' := 1; } }"]),
    "there is no UNCHANGED: a transition leaves every variable it does not assign as it was": (
        r"\bUNCHANGED\b.*", ["process P() { transition t { UNCHANGED x; } }",
                              "process P() { transition t { UNCHANGED <<x, y>>; } }"]),
    "a TLA+ definition 'Name == e' is 'def name(): T = e;' here (and a property is 'invariant name: e;')": (
        r"^\s*\w+\s*==", ["Inv == x > 1;", "TypeOK == x \\in 0..3"]),
    "TLA+'s VARIABLES are declared in a process: 'var x: T = init;' (see docs/language.md)": (
        r"^\s*VARIABLES?\b", ["VARIABLES x, y", "VARIABLE x"]),
    "TLA+'s CONSTANTS are 'const N = 3;' here (the value is the default; -D N=5 changes it)": (
        r"^\s*CONSTANTS?\b", ["CONSTANT N", "CONSTANTS N, M"]),
    "TLA+'s EXTENDS is 'import \"file.tcpspec\";' here": (r"^\s*EXTENDS\b", ["EXTENDS Naturals"]),
    "TLA+'s and SPIN's '[]' and '<>' are 'always' and 'eventually' here: 'temporal NAME: always eventually P;'": (
        r"\[\]|<>", ["temporal t: []<>p;", "temporal t: <>[](p);"]),
    "'P ~> Q' is a declaration of its own ('leads_to NAME: P ~> Q;'); inside a temporal formula write "
    "'always (P ==> eventually Q)'": (r"~>", ["temporal t: p ~> q;", "temporal t: always eventually p ==> (p ~> q);"]),
    "SPIN's 'ltl NAME { F }' is 'temporal NAME: F;' here (with 'always', 'eventually', '!', '&&', '||', '==>')": (
        r"^\s*ltl\b", ["ltl p1 { [] (x > 0) }"]),
    "Promela's 'atomic { }' is not needed: a transition is one atomic step": (
        r"\batomic\s*\{", ["process P() { transition t { atomic { x := 1; } } }"]),
    "Promela's 'c ! m' is 'send c m;' here": (r"\b\w+\s*!(?!=)\s*\w", ["process P() { transition t { c ! m; } }"]),
    "Promela's 'c ? m' is 'receive m from c' in the transition's header": (
        r"\b\w+\s*\?", ["process P() { transition t { c ? m; } }"]),
    "Promela's '::' options are written 'if COND { ... } else { ... }' here, or one transition each": (
        r"::", ["process P() { transition t { if :: x -> y := 1; fi } }",
                "process P() { transition t { do :: skip; od } }"]),
    "Promela's 'guard -> action' is 'when GUARD { ... }' (or 'if GUARD { ... }') here; "
    "'->' is for map types and literals ('==>' is implication)": (
        r"->", ["process P() { transition t { x := 1 -> y; } }", "invariant i: a -> b;"]),
}

_TOKEN_WORDS = {
    "NAME": "a name",
    "INT": "an integer",
    "STRING": "a quoted string",
    "DOC": "a doc comment",
    "$END": "the end of the file",
}
_OPERATORS = frozenset(
    "IMPLIES OROR ANDAND EQ NE LE GE LT GT PLUS MINUS STAR BANG PRIME DOT LPAR LBRACE".split()
)
_EXPR_START = frozenset(("INT", "NAME", "LPAR", "BANG", "MINUS", "TRUE", "FALSE"))


@dataclasses.dataclass(frozen=True)
class _StateKey:
    """An LALR state number; equal states mean "the same kind of mistake" for match_examples."""

    state: Any


def _normalized(exc: UnexpectedToken) -> UnexpectedToken:
    """Re-express a parse error in the state reached by finishing every phrase it can.

    LALR states such as "just read an integer" are shared by every context; performing the
    reductions that are the only way forward brings the error to a state that tells where we are
    ("after an assignment's expression"), so examples match by context, not by the last token.
    """
    if exc.interactive_parser is None:
        return exc
    parser_state = exc.interactive_parser.parser_state
    states = parser_state.parse_conf.parse_table.states
    stack = list(parser_state.state_stack)
    while True:
        actions = states[stack[-1]]
        rules = {arg for t, (act, arg) in actions.items() if t.isupper() and act is Reduce}
        if len(rules) != 1:
            break
        rule = rules.pop()
        size = len(rule.expansion)
        if size:
            del stack[-size:]
        goto = states[stack[-1]].get(rule.origin.name) if stack else None
        if goto is None:
            break
        stack.append(goto[1])
    expected = {t for t in states[stack[-1]] if t.isupper()}
    return UnexpectedToken(exc.token, expected, state=_StateKey(stack[-1]))


def _parse_for_matching(text: str) -> None:
    """The parse function given to match_examples: raises errors normalized like ours."""
    try:
        _lark().parse(text)
    except UnexpectedToken as exc:
        raise _normalized(exc) from None


def _describe(name: str) -> str:
    if name in _TOKEN_WORDS:
        return _TOKEN_WORDS[name]
    try:
        pattern = _lark().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"'{pattern.value}'" if isinstance(pattern, PatternStr) else name.lower()


def _found(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "DOC":
        return "doc comment"
    return f"'{token}'"


def _habit(text: str, line: int, col: int) -> str | None:
    """The HABITS message whose pattern, on the error's line, spans the error column."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    src, at = lines[line - 1], col - 1
    for message, (pattern, _) in HABITS.items():
        if any(m.start() <= at < max(m.end(), m.start() + 1) for m in re.finditer(pattern, src)):
            return message
    return None


def _token_message(exc: UnexpectedToken, text: str) -> str:
    """What went wrong at an unexpected token, in the words of the language."""
    token = exc.token
    habit = _habit(text, token.line or 0, token.column or 0) if token.type != "$END" else None
    if habit is not None:
        return habit
    norm = _normalized(exc)
    # A label about one token ('=') is offered only for that token, not for others that stop
    # the parser in the same state.
    examples = {k: v for k, v in SYNTAX_MESSAGES.items() if str(token) in _ONLY_FOR.get(k, {str(token)})}
    label = norm.match_examples(_parse_for_matching, examples, token_type_match_fallback=True)
    if label is not None:
        return label.replace("{found}", _found(token))
    expected: set[str] = set(norm.expected) | set(exc.expected)
    if token.type == "DOC":
        return (
            "a doc comment ('///') must come directly before a declaration; "
            "use '//' for a plain comment"
        )
    if str(token) in KEYWORDS and "NAME" in expected:
        return f"'{token}' is a keyword and cannot be used as a name"
    if token.type == "$END" and "RBRACE" in expected:
        opened = _unclosed_brace(text)
        if opened is not None:
            line, col = opened
            return f"unterminated block: the '{{' at line {line}, column {col} is never closed"
    if _EXPR_START <= expected:
        return f"expected an expression, found {_found(token)}"
    wanted = set(norm.expected) - {"$END"} or expected
    if wanted - _OPERATORS:
        wanted -= _OPERATORS
    words = sorted(_describe(t) for t in wanted)
    if len(words) > 6:
        return f"unexpected {_found(token)}"
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"unexpected {_found(token)}: expected {listed}"


def _char_message(exc: UnexpectedCharacters, text: str) -> str:
    """Lexical errors: strings, numbers, reserved words, stray characters."""
    pos = exc.pos_in_stream
    char = text[pos]
    habit = _habit(text, exc.line, exc.column)
    if habit is not None:
        return habit
    if char == '"':
        return "unterminated string: missing the closing '\"' on this line"
    word = re.match(r"[A-Za-z0-9_]+", text[pos:])
    if word and word.group() in RESERVED:
        return f"'{word.group()}' is a reserved word and cannot be used as a name"
    if word and char.isdigit():
        return f"malformed integer literal '{word.group()}'"
    if text.startswith("0x", pos) or text.startswith("0X", pos):
        return "malformed hexadecimal literal"
    return f"unexpected character {char!r}"


def _diagnose(exc: UnexpectedInput, text: str, path: str) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        span = Span(path, exc.line, exc.column, exc.line, exc.column + 1)
        return Diagnostic(span, _char_message(exc, text))
    token = getattr(exc, "token", None)
    if not isinstance(exc, UnexpectedToken) or token is None or token.type == "$END":
        line, col = _end_position(text)
        span = Span(path, line, col, line, col)
        if not isinstance(exc, UnexpectedToken):
            return Diagnostic(span, "unexpected end of file")
    else:
        span = _token_span(path, token)
    return Diagnostic(span, _token_message(exc, text))


def _token_span(path: str, tok: Token) -> Span:
    return Span(path, tok.line or 1, tok.column or 1, tok.end_line or 0, tok.end_column or 0)


def _end_position(text: str) -> tuple[int, int]:
    """Just after the last non-blank character (the end of the file as a reader sees it)."""
    lines = text.rstrip().splitlines()
    if not lines:
        return 1, 1
    return len(lines), len(lines[-1]) + 1


# ---------------------------------------------------------------- recovery: several errors per file

_SCAN = re.compile(
    r'///(?!/)[^\n]*|//[^\n]*|"[^"\n]*"?|[A-Za-z_][A-Za-z0-9_]*|[{}]|[^\sA-Za-z_{}"/]+|/'
)
_TOP_ONLY = frozenset("import const type enum message channel process instance depth".split())
_PROC_ONLY = frozenset(("var", "transition"))
_EITHER = frozenset(("invariant", "lemma", "reachable", "step", "def"))


@dataclasses.dataclass(frozen=True)
class _Item:
    """Where a declaration starts (its doc comments included), its level (0 top, 1 inside a
    process, by brace depth) and whether its keyword can stand at that level at all."""

    start: int
    level: int
    misplaced: bool = False


def _items_and_braces(text: str) -> tuple[list[_Item], list[int]]:
    """Declaration starts and closing-brace offsets, from a rough scan that never fails."""
    items: list[_Item] = []
    closes: list[int] = []
    depth = 0
    doc_start: int | None = None
    for m in _SCAN.finditer(text):
        word = m.group()
        if word.startswith("///"):
            doc_start = m.start() if doc_start is None else doc_start
            continue
        if word.startswith("//"):
            continue
        if word in _TOP_ONLY or word in _PROC_ONLY or word in _EITHER:
            level = min(depth, 1)
            misplaced = (word in _TOP_ONLY and level == 1) or (word in _PROC_ONLY and level == 0)
            items.append(_Item(m.start() if doc_start is None else doc_start, level, misplaced))
        elif word == "{":
            depth += 1
        elif word == "}":
            depth = max(0, depth - 1)
            closes.append(m.start())
        doc_start = None
    return items, closes


def _unclosed_brace(text: str) -> tuple[int, int] | None:
    """Line and column of the innermost '{' still open at the end of the text."""
    opened: list[int] = []
    for m in _SCAN.finditer(text):
        if m.group() == "{":
            opened.append(m.start())
        elif m.group() == "}" and opened:
            opened.pop()
    if not opened:
        return None
    pos = opened[-1]
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _skip_range(text: str, pos: int) -> tuple[int, int] | None:
    """The text to blank out so that parsing can resume after the broken declaration at `pos`.

    An error at a declaration's first token means the declaration before it is unfinished (or,
    if this one cannot stand here, that this one is the mistake). The range stops at the next
    declaration of the same or an outer level, keeping the '}' that closes a process.
    """
    items, closes = _items_and_braces(text)
    here = next((i for i in items if i.start == pos), None)
    before = [i for i in items if i.start < pos]
    if here is not None and not here.misplaced:
        if not before:
            return None
        item, end = before[-1], pos
        if item.level == 1 and here.level == 0:
            end = max((c for c in closes if item.start < c < pos), default=pos)
        return (item.start, end) if end > item.start else None
    item = here or (before[-1] if before else _Item(0, 0))
    after = [i for i in items if i.start > pos and i.level <= item.level]
    end = after[0].start if after else len(text)
    if item.level == 1 and (not after or after[0].level == 0):  # keep the process's '}'
        end = max((c for c in closes if item.start < c < end), default=end)
    return (item.start, end) if end > pos else None


def _blank(text: str, start: int, end: int) -> str:
    """Replace a range by spaces, keeping newlines, so that every position stays the same."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def _error_offset(exc: UnexpectedInput) -> int | None:
    if isinstance(exc, UnexpectedToken):
        return None if exc.token.type == "$END" else exc.token.start_pos
    return exc.pos_in_stream


def _syntax_errors(text: str, path: str, first: UnexpectedInput) -> list[Diagnostic]:
    """The first error, then those found by re-parsing with each broken declaration blanked out.

    Later errors at the end of the file are dropped: after blanking they are usually echoes.
    """
    diags = [_diagnose(first, text, path)]
    seen = {(diags[0].span.line, diags[0].span.col) if diags[0].span else (0, 0)}
    current, exc = text, first
    while len(diags) < MAX_SYNTAX_ERRORS:
        pos = _error_offset(exc)
        cut = None if pos is None else _skip_range(current, pos)
        if cut is None:
            break
        current = _blank(current, *cut)
        try:
            _lark().parse(current)
            break
        except UnexpectedInput as again:
            exc = again
        new_pos = _error_offset(exc)
        if new_pos is None or pos is None or new_pos <= pos:
            break
        diag = _diagnose(exc, current, path)
        key = (diag.span.line, diag.span.col) if diag.span else (0, 0)
        if key in seen:
            break
        seen.add(key)
        diags.append(diag)
    return diags
