"""One model as the editor sees it: its texts (saved or not), its diagnostics, its checked model
and its name index. No LSP types here; server.py turns these into protocol messages.

Diagnostics are the CLI's own: `load_program` then `check_program` with no `-D`, exactly what
`tcpspec check` runs before any engine starts, so the positions and messages are the same.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tcpspec.frontend import ast

from tcpspec.checker import ir
from tcpspec.core.diagnostics import Diagnostic, ModelError, Span, UsageError
from tcpspec.lsp.chunks import ChunkParser
from tcpspec.lsp.symbols import Index, build_index
from tcpspec.frontend.parser import Source, load_program


class EditorSource(Source):
    """Texts of open editors first, then the disk; parses through a cache of unchanged items."""

    def __init__(self, overlay: dict[str, str], parser: ChunkParser) -> None:
        self.overlay = overlay
        self.parser = parser

    def read(self, path: str) -> bytes:
        text = self.overlay.get(os.path.abspath(path))
        return text.encode("utf-8") if text is not None else super().read(path)

    def parse(self, text: str, path: str) -> ast.ModelFile:
        return self.parser.parse(text, path)


@dataclass
class Analysis:
    """The result for one root file. `program` and `model` are None when parsing or checking
    failed; `diagnostics` maps each file to its problems (files without any map to [])."""

    root: str
    diagnostics: dict[str, list[Diagnostic]]
    program: ast.Program | None = None
    model: ir.Model | None = None
    _index: Index | None = field(default=None, repr=False)

    @property
    def index(self) -> Index | None:
        """Built on first use (hover, go-to-definition): diagnostics need not wait for it."""
        if self._index is None and self.program is not None:
            self._index = build_index(self.program)
        return self._index


class Analyzer:
    """Keeps the open editors' texts and the parse cache between edits."""

    def __init__(self) -> None:
        self.overlay: dict[str, str] = {}
        self.parser = ChunkParser()

    def set_text(self, path: str, text: str | None) -> None:
        key = os.path.abspath(path)
        if text is None:
            self.overlay.pop(key, None)
        else:
            self.overlay[key] = text

    def analyze(self, path: str) -> Analysis:
        from tcpspec.checker.check import check_program

        root = os.path.abspath(path)
        found: dict[str, list[Diagnostic]] = {root: []}
        result = Analysis(root, found)
        try:
            program = load_program(root, EditorSource(self.overlay, self.parser))
        except ModelError as err:
            _collect(found, root, err.diagnostics)
            return result
        result.program = program
        for f in program.sources:
            found.setdefault(f, [])
        try:
            result.model = check_program(program, {})
        except ModelError as err:
            _collect(found, root, err.diagnostics)
        except UsageError as err:
            _collect(found, root, [Diagnostic(None, str(err))])
        return result


def _collect(found: dict[str, list[Diagnostic]], root: str, diags: list[Diagnostic]) -> None:
    for d in diags:
        where = d.span.file if d.span is not None else root
        found.setdefault(where, []).append(d)


def diagnostic_range(d: Diagnostic, lines: list[str]) -> tuple[int, int, int, int]:
    """0-based (line, col, end line, end col) of a diagnostic: its span, or the word at its start
    when it has no end, or the file's first line when it has no position at all."""
    span = d.span or Span("", 1, 1)
    line, col = max(span.line, 1) - 1, max(span.col, 1) - 1
    if span.end_line and (span.end_line, span.end_col) > (span.line, span.col):
        return line, col, span.end_line - 1, span.end_col - 1
    text = lines[line] if line < len(lines) else ""
    end = col
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return line, col, line, max(end, col + 1)
