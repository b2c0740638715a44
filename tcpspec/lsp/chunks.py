"""Parsing an edited file again without parsing all of it: only its changed top-level items.

Parsing models/tcp.tcpspec whole takes most of the time budget of a diagnostic (docs/
performance.md), and an edit touches one declaration. The text is cut at the ends of top-level
items (a `;` or a closing `}` at bracket depth 0, found by a scan that skips comments and
strings); each piece is parsed on its own and its AST kept, keyed by its text. The grammar's
top level is a sequence of items, so the pieces' ASTs put together are the whole file's AST.
A piece that moved (lines added above it) gets its spans shifted instead of a new parse.

Whenever a piece does not parse, the text from that piece on is parsed as `tcpspec check` parses
a file (the pieces before it parsed, so the parser meets it in the state a file starts in), so
the syntax errors are the CLI's, with its recovery; when the cut is doubtful (unbalanced
brackets) the whole text is.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from tcpspec.frontend import ast
from tcpspec.core.diagnostics import ModelError, Span
from tcpspec.frontend.parser import parse_text

_SCAN = re.compile(r'//[^\n]*|"[^"\n]*"?|[{}()\[\];]|\n')
_OPEN, _CLOSE = "{([", "})]"
_COMMENT = re.compile(r"//[^\n]*")
_NOT_NEWLINE = re.compile(r"[^\n]")
_PROCESS = re.compile(r"\s*process\b")


def split_items(text: str, start: int = 0, end: int | None = None, level: int = 0
                ) -> list[tuple[int, int, int, int]] | None:
    """(start, end, line, col) of each piece of text[start:end]: whole items at bracket depth
    `level` (0: top-level declarations; 1: a process body's items) with the comments before
    them. None when the brackets do not balance (the whole text is parsed then)."""
    end = len(text) if end is None else end
    pieces: list[tuple[int, int, int, int]] = []
    line = text.count("\n", 0, start) + 1
    line_start = text.rfind("\n", 0, start) + 1
    depth = level
    piece, piece_line, piece_col = start, line, start - line_start + 1
    pending_close = False  # a `}` closed an item: cut there unless a `;` follows
    closed_at = closed_line = closed_line_start = 0
    for m in _SCAN.finditer(text, start, end):
        tok = m.group()
        if tok == "\n":
            line, line_start = line + 1, m.end()
            continue
        if tok.startswith("//") or tok.startswith('"'):
            continue
        if pending_close:
            pending_close = False
            if tok != ";":
                pieces.append((piece, closed_at, piece_line, piece_col))
                piece, piece_line, piece_col = closed_at, closed_line, closed_at - closed_line_start + 1
        if tok in _OPEN:
            depth += 1
        elif tok in _CLOSE:
            depth -= 1
            if depth < level:
                return None
            if depth == level and tok == "}":
                pending_close = True
                closed_at, closed_line, closed_line_start = m.end(), line, line_start
        elif tok == ";" and depth == level:
            pieces.append((piece, m.end(), piece_line, piece_col))
            piece, piece_line, piece_col = m.end(), line, m.end() - line_start + 1
    if depth != level:
        return None
    if pending_close:
        pieces.append((piece, closed_at, piece_line, piece_col))
        piece = closed_at
    if _has_code(text[piece:end]):
        pieces.append((piece, end, piece_line, piece_col))
    return pieces


def _has_code(rest: str) -> bool:
    """Code, or a doc comment: one that documents nothing is an error the parse must report."""
    return bool(_COMMENT.sub("", rest).strip()) or _TRAILING_DOC.search(rest) is not None


_TRAILING_DOC = re.compile(r"^[ \t]*///", re.MULTILINE)


def _blank(text: str) -> str:
    """Spaces for every character but line breaks: positions after it stay where they were."""
    return _NOT_NEWLINE.sub(" ", text)


class _Fallback(Exception):
    """A piece did not parse: the whole text is parsed instead."""


class ChunkParser:
    """`parse_text` with a memory of the pieces of each file's last two parses (so that an undo
    finds its pieces too). A process is cut again into its items: it is most of a model."""

    def __init__(self) -> None:
        self._seen: dict[str, list[dict[tuple[str, int], tuple[int, ast.ModelFile]]]] = {}
        self._old: list[dict[tuple[str, int], tuple[int, ast.ModelFile]]] = []  # during a parse
        self._new: dict[tuple[str, int], tuple[int, ast.ModelFile]] = {}

    def parse(self, text: str, path: str) -> ast.ModelFile:
        pieces = split_items(text)
        if pieces is None:
            return parse_text(text, path)
        self._old = self._seen.get(path, [])
        self._new = {}
        imports: list[ast.Import] = []
        decls: list[ast.Decl] = []
        variants: list[ast.Variant] = []
        for start, end, line, col in pieces:
            try:
                part = self._piece(text, start, end, line, col, path)
            except _Fallback:
                # Keep what parsed (the undo of this edit finds it). The pieces before this one
                # parsed, so the parser reaches this one in the state it starts a file in: the
                # rest, parsed as `tcpspec check` parses a file (its recovery after the first
                # error included), gives the CLI's diagnostics; the part before is blanked out.
                self._seen[path] = [{**self._new, **(self._old[0] if self._old else {})}]
                rest = parse_text(_blank(text[:start]) + text[start:], path)
                imports.extend(rest.imports)
                decls.extend(rest.decls)
                variants.extend([rest.variant] if rest.variant else [])
                break
            imports.extend(part.imports)
            decls.extend(part.decls)
            variants.extend([part.variant] if part.variant else [])
        else:
            self._seen[path] = [self._new, *self._old[:1]]
        if len(variants) > 1 or (variants and decls):  # pieces parse alone: the whole file says what is wrong
            return parse_text(text, path)
        return ast.ModelFile(path=path, imports=tuple(imports), decls=tuple(decls), variant=(variants or [None])[0])

    def _cached(self, piece: str, line: int, col: int, path: str, text: str | None = None) -> ast.ModelFile:
        """The parse of `piece` standing at (line, col): from the cache (shifted if it moved),
        else of `text` (default: the piece itself, padded to its position)."""
        key = (piece, col)
        hit = self._new.get(key) or next((g[key] for g in self._old if key in g), None)
        if hit is None:
            try:
                hit = (line, parse_text(text or "\n" * (line - 1) + " " * (col - 1) + piece, path))
            except ModelError:
                raise _Fallback from None
        elif hit[0] != line:
            hit = (line, shift(hit[1], line - hit[0]))
        self._new[key] = hit
        return hit[1]

    def _piece(self, text: str, start: int, end: int, line: int, col: int, path: str) -> ast.ModelFile:
        piece = text[start:end]
        if _PROCESS.match(_COMMENT.sub("", piece)):
            merged = self._process(piece, line, col, path)
            if merged is not None:
                return merged
        return self._cached(piece, line, col, path)

    def _process(self, piece: str, line: int, col: int, path: str) -> ast.ModelFile | None:
        """A process parsed item by item: its header with every item blanked out, then each item
        with the others blanked out (positions kept); each item's declarations are added to the
        fields the bare header leaves empty (variables, transitions, properties, ...)."""
        brace = _body_start(piece)
        if brace is None:
            return None
        body_end = piece.rstrip().rfind("}")
        items = split_items(piece, brace + 1, body_end, level=1)
        if not items:
            return None
        spans = [(s, e) for s, e, _, _ in items]
        bare = _blank_ranges(piece, spans)
        base = self._cached(bare, line, col, path)
        if len(base.decls) != 1 or not isinstance(base.decls[0], ast.ProcessDecl):
            return None
        header = base.decls[0]
        extra: dict[str, list[Any]] = {
            name: [] for name, value in vars(header).items() if isinstance(value, tuple) and not value
        }
        pad = "\n" * (line - 1) + " " * (col - 1)
        for s, e, rel_line, rel_col in items:
            # Keyed by the item's own text: an edit elsewhere in the process leaves it cached.
            at_line, at_col = line + rel_line - 1, rel_col + (col - 1 if rel_line == 1 else 0)
            alone = pad + bare[:s] + piece[s:e] + bare[e:]
            part = self._cached("\0item" + piece[s:e], at_line, at_col, path, alone).decls[0]
            for name in extra:
                extra[name].extend(getattr(part, name))
        merged = dataclasses.replace(header, **{name: tuple(v) for name, v in extra.items()})  # type: ignore[arg-type]
        return ast.ModelFile(path=path, imports=(), decls=(merged,))


def _body_start(piece: str) -> int | None:
    """Offset of the `{` that opens a process body (the first `{` outside comments)."""
    depth = 0
    for m in _SCAN.finditer(piece):
        tok = m.group()
        if tok in "([":
            depth += 1
        elif tok in ")]":
            depth -= 1
        elif tok == "{" and depth == 0:
            return m.start()
    return None


def _blank_ranges(text: str, ranges: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for s, e in ranges:
        out.append(text[at:s])
        out.append(_blank(text[s:e]))
        at = e
    out.append(text[at:])
    return "".join(out)


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
