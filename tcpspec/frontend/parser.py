"""Text -> AST: files read and parsed, their imports followed, variants resolved against their base.

Every problem becomes a positioned `Diagnostic` inside a `ModelError`; nothing here prints. The
parse itself is the LALR parser of grammar.py, its tree turned into `tcpspec.frontend.ast` by
to_ast.py; syntax errors are worded by syntax_errors.py, from the curated table of
syntax_messages.py.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from lark import Token, Tree
from lark.exceptions import UnexpectedInput, VisitError

from tcpspec.frontend import ast
from tcpspec.frontend.grammar import lark_parser
from tcpspec.frontend.syntax_errors import syntax_errors
from tcpspec.frontend.to_ast import ToAst
from tcpspec.frontend.variant import resolve
from tcpspec.core.diagnostics import Diagnostic, ModelError, Span
from tcpspec.core.inputs import MAX_IMPORTS, MAX_MODEL_BYTES, MAX_PROGRAM_BYTES, InputRefused, check_import, read_bytes

MAX_NESTING = 100  # tree levels; later stages recurse over the AST, so keep well under 1000


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
        tree = lark_parser().parse(text)
    except UnexpectedInput as exc:
        raise ModelError(syntax_errors(text, path, exc)) from None
    deep = _too_deep(tree)
    if deep is not None:
        span = Span(path, deep.line, deep.column, deep.end_line, deep.end_column)
        msg = (
            f"nesting too deep: more than {MAX_NESTING} levels of nested expressions or "
            "statements; split it up with constants or variables"
        )
        raise ModelError([Diagnostic(span, msg)])
    builder = ToAst(path)
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
