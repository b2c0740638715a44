"""Parsing an edited file again without parsing all of it: only its changed top-level items.

Parsing models/tcp.tcpspec whole takes most of the time budget of a diagnostic (docs/
performance.md), and an edit touches one declaration. The text is cut at the ends of top-level
items (a `;` or a closing `}` at bracket depth 0, found by a scan that skips comments and
strings); each piece is parsed on its own and its AST kept, keyed by its text. The grammar's
top level is a sequence of items, so the pieces' ASTs put together are the whole file's AST.
A piece that moved (lines added above it) gets its spans shifted instead of a new parse.

Whenever a piece does not parse, or the cut is doubtful (unbalanced brackets), the whole text is
parsed as `tcpspec check` parses it, so the syntax errors are the CLI's, with its recovery.
"""

from __future__ import annotations

import re
from typing import Any

from tcpspec import ast
from tcpspec.diagnostics import ModelError, Span
from tcpspec.parser import parse_text

_SCAN = re.compile(r'//[^\n]*|"[^"\n]*"?|[{}()\[\];]|\n')
_OPEN, _CLOSE = "{([", "})]"


def split_items(text: str) -> list[tuple[int, int, int, int]] | None:
    """(start, end, line, col) of each piece: whole top-level items with the comments before
    them. None when the brackets do not balance (the whole text is parsed then)."""
    pieces: list[tuple[int, int, int, int]] = []
    depth, line, line_start = 0, 1, 0
    start, start_line, start_col = 0, 1, 1
    pending_close = False  # a `}` closed an item at depth 0: cut unless a `;` follows
    for m in _SCAN.finditer(text):
        tok = m.group()
        if tok == "\n":
            line, line_start = line + 1, m.end()
            continue
        if tok.startswith("//") or tok.startswith('"'):
            continue
        if pending_close:
            pending_close = False
            if tok != ";":
                cut = closed_at
                pieces.append((start, cut, start_line, start_col))
                start, start_line, start_col = cut, closed_line, cut - closed_line_start + 1
        if tok in _OPEN:
            depth += 1
        elif tok in _CLOSE:
            depth -= 1
            if depth < 0:
                return None
            if depth == 0 and tok == "}":
                pending_close = True
                closed_at, closed_line, closed_line_start = m.end(), line, line_start
        elif tok == ";" and depth == 0:
            pieces.append((start, m.end(), start_line, start_col))
            start, start_line, start_col = m.end(), line, m.end() - line_start + 1
    if depth != 0:
        return None
    if pending_close:
        pieces.append((start, closed_at, start_line, start_col))
        start = closed_at
    if text[start:].strip() and _has_code(text[start:]):
        pieces.append((start, len(text), start_line, start_col))
    return pieces


def _has_code(rest: str) -> bool:
    return any(line.strip() and not line.strip().startswith("//") for line in rest.split("\n"))


class ChunkParser:
    """`parse_text` with a memory of the pieces of each file's previous parse."""

    def __init__(self) -> None:
        self._seen: dict[str, dict[tuple[str, int], tuple[int, ast.ModelFile]]] = {}

    def parse(self, text: str, path: str) -> ast.ModelFile:
        pieces = split_items(text)
        if pieces is None:
            return parse_text(text, path)
        old = self._seen.get(path, {})
        new: dict[tuple[str, int], tuple[int, ast.ModelFile]] = {}
        imports: list[ast.Import] = []
        decls: list[ast.Decl] = []
        for start, end, line, col in pieces:
            key = (text[start:end], col)
            hit = new.get(key) or old.get(key)
            if hit is None:
                try:
                    part = parse_text("\n" * (line - 1) + " " * (col - 1) + key[0], path)
                except ModelError:
                    self._seen.pop(path, None)
                    return parse_text(text, path)  # the CLI's own diagnostics and recovery
                hit = (line, part)
            elif hit[0] != line:
                hit = (line, shift(hit[1], line - hit[0]))
            new[key] = hit
            imports.extend(hit[1].imports)
            decls.extend(hit[1].decls)
        self._seen[path] = new
        return ast.ModelFile(path=path, imports=tuple(imports), decls=tuple(decls))


def shift(node: Any, lines: int) -> Any:
    """A copy of an AST node with every span moved down by `lines` (AST nodes are frozen
    dataclasses: copied field by field, without re-running their constructors)."""
    if isinstance(node, Span):
        return Span(node.file, node.line + lines, node.col,
                    node.end_line + lines if node.end_line else 0, node.end_col)
    if isinstance(node, tuple):
        return tuple([shift(x, lines) for x in node])
    if isinstance(node, list):
        return [shift(x, lines) for x in node]
    if hasattr(node, "__dataclass_fields__") and not isinstance(node, type):
        copy = object.__new__(type(node))
        copy.__dict__.update({k: shift(v, lines) for k, v in node.__dict__.items()})
        return copy
    return node
