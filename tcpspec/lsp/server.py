"""`tcpspec lsp`: the language server (pygls, over stdio).

Every open document is analysed as the root of a model (its imports read from open editors
first, then from disk) on open and on each change; diagnostics go out for the document and for
the imported files it found problems in. Hover, go-to-definition, references, completion and
the outline read the analysis's name index; the "check" code lens runs the CLI's checker in a
child process with a time limit (check_runner.py).
"""

from __future__ import annotations

import asyncio
import gc
import os
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from tcpspec.core.version import __version__
from tcpspec.lsp import features
from tcpspec.lsp.analysis import Analysis, Analyzer, diagnostic_range
from tcpspec.lsp.check_runner import check_property, stop_all
from tcpspec.lsp.symbols import Symbol

CHECK_COMMAND = "tcpspec.checkProperty"
DEFAULT_CHECK_TIMEOUT = 60.0
IDLE_GC_DELAY = 1.0  # seconds after the last analysis before the full garbage collection runs
# A symbol's kind (symbols.py) as the outline and the completion list show it.
_S, _C = lsp.SymbolKind, lsp.CompletionItemKind
KINDS: dict[str, tuple[lsp.SymbolKind, lsp.CompletionItemKind]] = {
    "constant": (_S.Constant, _C.Constant), "enum type": (_S.Enum, _C.Enum),
    "enum member": (_S.EnumMember, _C.EnumMember), "message type": (_S.Struct, _C.Struct),
    "field": (_S.Field, _C.Field), "type alias": (_S.TypeParameter, _C.TypeParameter),
    "channel": (_S.Event, _C.Event), "process": (_S.Class, _C.Class),
    "instance": (_S.Object, _C.Module), "parameter": (_S.Variable, _C.Variable),
    "variable": (_S.Variable, _C.Variable), "transition": (_S.Method, _C.Method),
    "keyword": (_S.Key, _C.Keyword), "type": (_S.TypeParameter, _C.TypeParameter),
    "function": (_S.Function, _C.Function),
}


class TcpspecServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("tcpspec", __version__)
        self.analyzer = Analyzer()
        self.analyses: dict[str, Analysis] = {}  # by the root's absolute path
        self.published: dict[str, set[str]] = {}  # root -> files it published diagnostics for
        self.versions: dict[str, int] = {}
        # The last analysis that parsed, per root: names are still found while the text has a
        # syntax error (typing `client.` for a completion is one).
        self.last_parsed: dict[str, Analysis] = {}
        self.check_timeout = DEFAULT_CHECK_TIMEOUT
        self._idle_gc: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------ analysis and diagnostics

    def refresh(self, uri: str) -> None:
        """Analyse the document, then every other open model that imports it."""
        path = _path(uri)
        doc = self.workspace.get_text_document(uri)
        self.analyzer.set_text(path, doc.source)
        self._analyze(path)
        for root, other in list(self.analyses.items()):
            if root != path and other.program is not None and path in other.program.sources:
                self._analyze(root)

    def _analyze(self, path: str) -> None:
        analysis = self.analyzer.analyze(path)
        self.analyses[analysis.root] = analysis
        if analysis.program is not None:
            self.last_parsed[analysis.root] = analysis
        self._publish(analysis)
        self._collect_when_idle()

    def _collect_when_idle(self) -> None:
        """Python's full collection scans every object (~70 ms with tcp.tcpspec's ASTs and
        model): run_stdio turns the automatic one off and it runs here, after a pause in the
        edits, instead of in the middle of a diagnostic."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._idle_gc is not None:
            self._idle_gc.cancel()
        self._idle_gc = loop.call_later(IDLE_GC_DELAY, gc.collect)

    def _publish(self, analysis: Analysis) -> None:
        roots = set(self.analyses)
        now = {f for f in analysis.diagnostics if f == analysis.root or f not in roots}
        for stale in self.published.get(analysis.root, set()) - now:
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=from_fs_path(stale) or stale, diagnostics=[]))
        for file in now:
            uri = from_fs_path(file) or file
            lines = self._lines(file, analysis)
            diags = [self._diagnostic(d, lines) for d in analysis.diagnostics[file]]
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diags))
        self.published[analysis.root] = now

    def _lines(self, file: str, analysis: Analysis) -> list[str]:
        text = self.analyzer.overlay.get(file)
        if text is None and analysis.program is not None:
            text = analysis.program.sources.get(file)
        if text is None:
            try:
                with open(file, encoding="utf-8") as handle:
                    text = handle.read()
            except (OSError, UnicodeDecodeError):
                text = ""
        return text.split("\n")

    def _diagnostic(self, d: Any, lines: list[str]) -> lsp.Diagnostic:
        line, col, end_line, end_col = diagnostic_range(d, lines)
        rng = _client_range(lines, line, col, end_line, end_col)
        message = "\n".join([d.message, *(f"note: {n}" for n in d.notes)])
        return lsp.Diagnostic(range=rng, message=message, severity=lsp.DiagnosticSeverity.Error,
                              source="tcpspec")

    def analysis_for(self, uri: str) -> Analysis | None:
        """The document's analysis for navigation: the current one, or while the text does not
        parse, the last one that did."""
        path = _path(uri)
        if path not in self.analyses and uri in self.workspace.text_documents:
            self.refresh(uri)
        found = self.analyses.get(path)
        if found is None or found.program is None:
            return self.last_parsed.get(path, found)
        return found

    def symbol_at(self, uri: str, pos: lsp.Position) -> tuple[Analysis, Symbol] | None:
        analysis = self.analysis_for(uri)
        if analysis is None or analysis.index is None:
            return None
        path = _path(uri)
        line, col = self._server_position(uri, pos)
        sym = analysis.index.at(path, line + 1, col + 1)
        return (analysis, sym) if sym is not None else None

    def import_at(self, uri: str, pos: lsp.Position) -> str | None:
        """The file an `import "..."` (or a variant's `of "..."`) at this position names (resolved
        as the parser does)."""
        analysis = self.analysis_for(uri)
        if analysis is None or analysis.program is None:
            return None
        path = _path(uri)
        line, col = self._server_position(uri, pos)
        for f in analysis.program.files:
            if f.path != path:
                continue
            named = [(i.span, i.path) for i in f.imports] + ([(f.variant.base_span, f.variant.base)] if f.variant else [])
            for span, target in named:
                if span.line <= line + 1 <= (span.end_line or span.line):
                    return os.path.normpath(os.path.join(os.path.dirname(path), target))
        return None

    def _server_position(self, uri: str, pos: lsp.Position) -> tuple[int, int]:
        doc = self.workspace.get_text_document(uri)
        p = doc.position_codec.position_from_client_units(doc.lines, pos)
        return p.line, p.character

    def location(self, span: Any) -> lsp.Location:
        uri = from_fs_path(span.file) or span.file
        lines = self._lines(span.file, self.analyses.get(span.file) or Analysis(span.file, {}))
        end = span.end_col if span.end_line == span.line else span.col + 1
        return lsp.Location(uri=uri, range=_client_range(lines, span.line - 1, span.col - 1, span.line - 1, end - 1))


server = TcpspecServer()


def _path(uri: str) -> str:
    return os.path.abspath(to_fs_path(uri) or uri)


def _client_range(lines: list[str], line: int, col: int, end_line: int, end_col: int) -> lsp.Range:
    """A range in the client's units (UTF-16 code units by default) from 0-based characters."""
    def units(ln: int, ch: int) -> lsp.Position:
        text = lines[ln] if 0 <= ln < len(lines) else ""
        return lsp.Position(line=ln, character=len(text[:ch].encode("utf-16-le")) // 2 + max(0, ch - len(text)))

    return lsp.Range(start=units(line, col), end=units(end_line, end_col))


# ---------------------------------------------------------------- document sync


@server.feature(lsp.INITIALIZE)
def _initialize(ls: TcpspecServer, params: lsp.InitializeParams) -> None:
    """`initializationOptions: {"checkTimeout": SECONDS}` bounds the "check" command."""
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("checkTimeout"), (int, float)):
        ls.check_timeout = float(options["checkTimeout"])


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: TcpspecServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
async def _did_change(ls: TcpspecServer, params: lsp.DidChangeTextDocumentParams) -> None:
    uri, version = params.text_document.uri, params.text_document.version
    ls.versions[uri] = version
    await asyncio.sleep(0)  # let queued edits arrive: only the latest version is analysed
    if ls.versions.get(uri) == version:
        ls.refresh(uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def _did_save(ls: TcpspecServer, params: lsp.DidSaveTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: TcpspecServer, params: lsp.DidCloseTextDocumentParams) -> None:
    path = _path(params.text_document.uri)
    ls.analyzer.set_text(path, None)
    ls.analyses.pop(path, None)
    ls.last_parsed.pop(path, None)
    for file in ls.published.pop(path, set()):
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=from_fs_path(file) or file, diagnostics=[]))


# ---------------------------------------------------------------- navigation


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def _hover(ls: TcpspecServer, params: lsp.HoverParams) -> lsp.Hover | None:
    found = ls.symbol_at(params.text_document.uri, params.position)
    if found is None:
        return None
    analysis, sym = found
    text = features.hover_markdown(analysis, sym)
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def _definition(ls: TcpspecServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    found = ls.symbol_at(params.text_document.uri, params.position)
    if found is not None:
        return ls.location(found[1].span)
    imported = ls.import_at(params.text_document.uri, params.position)
    if imported is None:
        return None
    start = lsp.Position(line=0, character=0)
    return lsp.Location(uri=from_fs_path(imported) or imported, range=lsp.Range(start=start, end=start))


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def _references(ls: TcpspecServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    found = ls.symbol_at(params.text_document.uri, params.position)
    if found is None or found[0].index is None:
        return []
    analysis, sym = found
    spans = analysis.index.uses(sym)  # type: ignore[union-attr]
    if params.context.include_declaration:
        spans = [sym.span, *spans]
    return [ls.location(s) for s in spans]


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["."]))
def _completion(ls: TcpspecServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    uri = params.text_document.uri
    analysis = ls.analysis_for(uri)
    if analysis is None:
        return lsp.CompletionList(is_incomplete=False, items=[])
    line, col = ls._server_position(uri, params.position)
    doc = ls.workspace.get_text_document(uri)
    prefix = doc.lines[line][:col] if line < len(doc.lines) else ""
    items = [
        lsp.CompletionItem(label=c.label, kind=KINDS[c.kind][1] if c.kind in KINDS else _C.Property, detail=c.detail or c.kind)
        for c in features.completions(analysis, _path(uri), line + 1, prefix)
    ]
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def _symbols(ls: TcpspecServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    uri = params.text_document.uri
    analysis = ls.analysis_for(uri)
    if analysis is None:
        return []

    def convert(o: features.Outline) -> lsp.DocumentSymbol:
        decl, name = o.symbol.decl, ls.location(o.symbol.span).range
        whole = ls.location(decl).range
        if decl.end_line:
            whole = lsp.Range(start=whole.start, end=lsp.Position(line=decl.end_line - 1, character=max(decl.end_col - 1, 0)))
        return lsp.DocumentSymbol(name=o.name, kind=KINDS[o.kind][0] if o.kind in KINDS else _S.Property,
                                  range=whole, selection_range=name, detail=o.kind,
                                  children=[convert(c) for c in o.children])

    return [convert(o) for o in features.outline(analysis, _path(uri))]


# ---------------------------------------------------------------- checking a property


@server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
def _code_lens(ls: TcpspecServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    uri = params.text_document.uri
    analysis = ls.analysis_for(uri)
    if analysis is None or analysis.index is None:
        return []
    path = _path(uri)
    return [
        lsp.CodeLens(range=ls.location(s.span).range,
                     command=lsp.Command(title=f"check {s.name}", command=CHECK_COMMAND, arguments=[uri, s.name]))
        for s in analysis.index.symbols if s.span.file == path and features.checkable(s)
    ]


@server.command(CHECK_COMMAND)
async def _check(ls: TcpspecServer, *args: Any) -> dict[str, Any]:
    """Arguments: the document's URI, the property's name, optionally a timeout in seconds.
    The saved file is checked; the verdicts are shown and returned."""
    if len(args) < 2 or not all(isinstance(a, str) for a in args[:2]):
        return {"exit_code": 2, "message": "expected arguments: URI, property name", "verdicts": []}
    uri, name = args[0], args[1]
    timeout = float(args[2]) if len(args) > 2 and isinstance(args[2], (int, float)) else ls.check_timeout
    outcome = await check_property(_path(uri), name, timeout)
    kind = lsp.MessageType.Info if outcome.ok else lsp.MessageType.Warning
    ls.window_show_message(lsp.ShowMessageParams(type=kind, message=f"tcpspec check: {outcome.message}"))
    return {"exit_code": outcome.exit_code, "message": outcome.message,
            "verdicts": [{"property": p, "verdict": v} for p, v in outcome.verdicts]}


@server.feature(lsp.SHUTDOWN)
def _shutdown(ls: TcpspecServer, params: None) -> None:
    stop_all()


# ---------------------------------------------------------------- formatting


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def _format(ls: TcpspecServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
    from tcpspec.core.diagnostics import ModelError
    from tcpspec.fmt import FormatterBug, format_text

    doc = ls.workspace.get_text_document(params.text_document.uri)
    try:
        new = format_text(doc.source, _path(params.text_document.uri))
    except (ModelError, FormatterBug):
        return []  # the diagnostics already show why
    if new == doc.source:
        return []
    lines = doc.source.split("\n")
    whole = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=len(lines), character=0))
    return [lsp.TextEdit(range=whole, new_text=new)]


def run_stdio() -> None:
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000)  # full collections: when idle (_collect_when_idle)
    server.start_io()
