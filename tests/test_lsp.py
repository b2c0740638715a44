"""The language server as an editor uses it: a real LSP client (pygls's) starts `tcpspec lsp`
over stdio, opens the library's models and asks what an editor asks."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls")

from lsprotocol import types as lsp  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TCP = ROOT / "models/tcp.tcpspec"
LIVENESS = ROOT / "models/tcp_liveness.tcpspec"
TIMEOUT = 120  # seconds for one answer: a guard against a hung server, not a speed test


class Editor:
    """A client session: opened documents, and the diagnostics the server published."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.diagnostics: dict[str, list[lsp.Diagnostic]] = {}
        self.messages: list[str] = []
        self.changed = asyncio.Event()
        self.versions: dict[str, int] = {}

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _diags(params: lsp.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = params.diagnostics
            self.changed.set()

        @client.feature(lsp.WINDOW_SHOW_MESSAGE)
        def _message(params: lsp.ShowMessageParams) -> None:
            self.messages.append(params.message)

    async def open(self, path: Path, text: str | None = None) -> str:
        uri = from_fs_path(str(path))
        assert uri is not None
        self.versions[uri] = 1
        self.changed.clear()
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="tcpspec", version=1,
                             text=text if text is not None else path.read_text("utf-8"))))
        await self.wait_for(uri)
        return uri

    async def change(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.changed.clear()
        self.diagnostics.pop(uri, None)
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))
        await self.wait_for(uri)

    async def wait_for(self, uri: str) -> list[lsp.Diagnostic]:
        while uri not in self.diagnostics:
            await asyncio.wait_for(self.changed.wait(), TIMEOUT)
            self.changed.clear()
        return self.diagnostics[uri]


def run_session(body: Callable[[Editor], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        client = LanguageClient("tcpspec-tests", "1")
        await client.start_io(sys.executable, "-m", "tcpspec", "lsp")
        editor = Editor(client)
        try:
            await asyncio.wait_for(client.initialize_async(lsp.InitializeParams(
                capabilities=lsp.ClientCapabilities(), root_uri=from_fs_path(str(ROOT)))), TIMEOUT)
            client.initialized(lsp.InitializedParams())
            return await body(editor)
        finally:
            await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
            client.exit(None)
            await asyncio.wait_for(client.stop(), TIMEOUT)

    return asyncio.run(main())


def position_of(text: str, needle: str, nth: int = 0, offset: int = 0) -> lsp.Position:
    """The 0-based position of the nth occurrence of `needle` (plus `offset` characters)."""
    starts = [m.start() for m in re.finditer(re.escape(needle), text)]
    pos = starts[nth] + offset
    line = text.count("\n", 0, pos)
    return lsp.Position(line=line, character=pos - (text.rfind("\n", 0, pos) + 1))


def cli_errors(path: Path) -> list[tuple[int, int, str]]:
    """(line, col, message) of each `file:line:col: error: message` that `tcpspec check` prints."""
    proc = subprocess.run([sys.executable, "-m", "tcpspec", "check", str(path)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr
    return [(int(m[0]), int(m[1]), m[2])
            for m in re.findall(r"^.*?:(\d+):(\d+): error: (.*)$", proc.stderr, flags=re.M)]


# ---------------------------------------------------------------- diagnostics


def test_a_type_error_is_underlined_where_the_cli_points(tmp_path: Path) -> None:
    good = TCP.read_text("utf-8")
    bad = good.replace("snd_nxt := snd_nxt + n;", "snd_nxt := snd_nxt + true;", 1)
    assert bad != good
    copy = tmp_path / "tcp.tcpspec"
    copy.write_text(bad, "utf-8")
    expected = cli_errors(copy)
    assert expected

    async def body(editor: Editor) -> tuple[list[lsp.Diagnostic], list[lsp.Diagnostic], list[lsp.Diagnostic]]:
        uri = await editor.open(copy, good)
        clean = await editor.wait_for(uri)
        await editor.change(uri, bad)
        broken = list(editor.diagnostics[uri])
        await editor.change(uri, good)
        return clean, broken, editor.diagnostics[uri]

    clean, broken, fixed = run_session(body)
    assert list(clean) == [] and list(fixed) == []
    got = [(d.range.start.line + 1, d.range.start.character + 1, d.message.split("\n")[0]) for d in broken]
    assert got == expected
    line, col, _ = expected[0]
    assert bad.split("\n")[line - 1][col - 1 :].startswith("true")
    assert broken[0].range.end.character > broken[0].range.start.character


def test_a_syntax_error_and_an_error_in_an_imported_file(tmp_path: Path) -> None:
    base = tmp_path / "base.tcpspec"
    base.write_text("const A = 1;\nconst B = A +;\n", "utf-8")
    top = tmp_path / "top.tcpspec"
    top.write_text('import "base.tcpspec";\nconst C = D;\n', "utf-8")
    base_cli = cli_errors(base)

    async def body(editor: Editor) -> dict[str, list[lsp.Diagnostic]]:
        uri = await editor.open(top)
        await editor.wait_for(from_fs_path(str(base)) or "")
        return {"top": editor.diagnostics[uri], "base": editor.diagnostics[from_fs_path(str(base)) or ""]}

    found = run_session(body)
    assert list(found["top"]) == []  # as the CLI: the import's syntax error stops the run
    assert [(d.range.start.line + 1, d.range.start.character + 1, d.message) for d in found["base"]] == base_cli


# ---------------------------------------------------------------- hover, definition, references


def test_hover_definition_references_completion_outline() -> None:
    text = TCP.read_text("utf-8")
    live = LIVENESS.read_text("utf-8")

    async def body(editor: Editor) -> dict[str, Any]:
        uri = await editor.open(TCP)
        c = editor.client
        doc = lsp.TextDocumentIdentifier(uri=uri)
        out: dict[str, Any] = {}
        use = position_of(text, "snd_nxt := snd_nxt + n", offset=12)  # the use on the right
        out["hover"] = await c.text_document_hover_async(lsp.HoverParams(text_document=doc, position=use))
        out["hover_const"] = await c.text_document_hover_async(
            lsp.HoverParams(text_document=doc, position=position_of(text, "len(outbox) == CAP", offset=16)))
        out["definition"] = await c.text_document_definition_async(lsp.DefinitionParams(text_document=doc, position=use))
        out["references"] = await c.text_document_references_async(lsp.ReferenceParams(
            text_document=doc, position=use, context=lsp.ReferenceContext(include_declaration=True)))
        dot = position_of(text, "client.snd_nxt", offset=7)
        out["members"] = await c.text_document_completion_async(lsp.CompletionParams(text_document=doc, position=dot))
        out["names"] = await c.text_document_completion_async(lsp.CompletionParams(
            text_document=doc, position=position_of(text, "snd_una := iss;")))
        out["outline"] = await c.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=doc))
        out["lenses"] = await c.text_document_code_lens_async(lsp.CodeLensParams(text_document=doc))
        # from a property of tcp_liveness.tcpspec to the transition it names, in the imported file
        luri = await editor.open(LIVENESS)
        fair = position_of(live, "client.time_wait_2msl", offset=9)
        out["jump"] = await c.text_document_definition_async(
            lsp.DefinitionParams(text_document=lsp.TextDocumentIdentifier(uri=luri), position=fair))
        out["import"] = await c.text_document_definition_async(lsp.DefinitionParams(
            text_document=lsp.TextDocumentIdentifier(uri=luri), position=position_of(live, '"tcp.tcpspec"', offset=3)))
        return out

    out = run_session(body)
    hover = out["hover"].contents.value
    assert "snd_nxt" in hover and "seq32" in hover and "Seq = seq32" in hover and "SND.NXT" in hover
    assert "value: `2`" in out["hover_const"].contents.value  # CAP
    decl = position_of(text, "var snd_nxt", offset=4)
    assert out["definition"].uri == from_fs_path(str(TCP))
    assert (out["definition"].range.start.line, out["definition"].range.start.character) == (decl.line, decl.character)
    refs = {(r.range.start.line, r.range.start.character) for r in out["references"]}
    assert (decl.line, decl.character) in refs and len(refs) > 40
    assert all(text.split("\n")[line][ch : ch + 7] == "snd_nxt" for line, ch in refs)
    members = {i.label for i in out["members"].items}
    assert {"snd_nxt", "state", "rcv_nxt", "active_open"} <= members and "CAP" not in members
    names = {i.label for i in out["names"].items}
    assert {"snd_una", "iss", "ESTABLISHED", "CAP", "Segment", "transition", "outbox"} <= names
    endpoint = next(s for s in out["outline"] if s.name == "Endpoint")
    assert {"snd_nxt", "active_open", "una_le_nxt"} <= {ch.name for ch in endpoint.children}
    assert "no_half_open" in {s.name for s in out["outline"]}
    titles = {lens.command.title for lens in out["lenses"]}
    assert {"check una_le_nxt", "check no_half_open", "check both_established"} <= titles
    assert out["import"].uri == from_fs_path(str(TCP)) and out["import"].range.start.line == 0
    jump = out["jump"]
    target = position_of(text, "transition time_wait_2msl", offset=11)
    assert jump.uri == from_fs_path(str(TCP))
    assert (jump.range.start.line, jump.range.start.character) == (target.line, target.character)


# ---------------------------------------------------------------- check this property, format


def test_check_this_property_reports_the_cli_verdict() -> None:
    model = ROOT / "tests/golden/counter_violation.tcpspec"

    async def body(editor: Editor) -> tuple[Any, Any, list[str]]:
        uri = await editor.open(model)
        c = editor.client
        violated = await asyncio.wait_for(c.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="tcpspec.checkProperty", arguments=[uri, "small", 60])), 600)
        reached = await asyncio.wait_for(c.workspace_execute_command_async(lsp.ExecuteCommandParams(
            command="tcpspec.checkProperty", arguments=[uri, "two", 60])), 600)
        return violated, reached, editor.messages

    violated, reached, messages = run_session(body)
    assert violated["exit_code"] == 1 and violated["verdicts"] == [{"property": "small", "verdict": "violated"}]
    assert reached["exit_code"] == 0 and reached["verdicts"] == [{"property": "two", "verdict": "reached"}]
    assert any("small: violated" in m for m in messages)


def test_formatting_request(tmp_path: Path) -> None:
    model = tmp_path / "m.tcpspec"
    model.write_text("const A=1;\n", "utf-8")

    async def body(editor: Editor) -> list[lsp.TextEdit]:
        uri = await editor.open(model)
        return await editor.client.text_document_formatting_async(lsp.DocumentFormattingParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), options=lsp.FormattingOptions(tab_size=2, insert_spaces=True)))

    edits = run_session(body)
    assert [e.new_text for e in edits] == ["const A = 1;\n"]


def test_completion_while_typing_a_member(tmp_path: Path) -> None:
    """Typing `client.` leaves the text unparsable; the names still come (from the last text
    that parsed), and the syntax error is shown meanwhile."""
    text = TCP.read_text("utf-8")
    typing = text + "\nreachable typing: client.\n"

    async def body(editor: Editor) -> tuple[Any, list[lsp.Diagnostic]]:
        uri = await editor.open(TCP)
        await editor.change(uri, typing)
        end = position_of(typing, "client.\n", nth=typing.count("client.\n") - 1, offset=7)
        items = await editor.client.text_document_completion_async(lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=end))
        return items, list(editor.diagnostics[uri])

    items, diags = run_session(body)
    assert {"snd_nxt", "state"} <= {i.label for i in items.items}
    assert len(diags) == 1 and diags[0].range.start.line == typing.count("\n") - 1


def test_an_edit_in_an_imported_file_updates_its_importer(tmp_path: Path) -> None:
    """tcp_liveness.tcpspec imports tcp.tcpspec and names its transition in a `fair`
    declaration: renaming the transition in the open tcp.tcpspec shows the error in
    tcp_liveness.tcpspec at once, where the CLI shows it."""
    text = TCP.read_text("utf-8")
    renamed = text.replace("transition time_wait_2msl", "transition time_wait_timeout")
    (tmp_path / "tcp.tcpspec").write_text(renamed, "utf-8")
    (tmp_path / "tcp_liveness.tcpspec").write_text(LIVENESS.read_text("utf-8"), "utf-8")
    expected = cli_errors(tmp_path / "tcp_liveness.tcpspec")

    async def body(editor: Editor) -> tuple[list[lsp.Diagnostic], list[lsp.Diagnostic]]:
        tcp = await editor.open(tmp_path / "tcp.tcpspec", text)  # the editor has the old name
        live = await editor.open(tmp_path / "tcp_liveness.tcpspec")
        before = list(await editor.wait_for(live))
        editor.diagnostics.pop(live)
        await editor.change(tcp, renamed)
        return before, list(await editor.wait_for(live))

    before, after = run_session(body)
    assert before == []
    assert [(d.range.start.line + 1, d.range.start.character + 1, d.message.split("\n")[0]) for d in after] == expected


# ---------------------------------------------------------------- variants


def test_a_variant_in_the_editor(tmp_path: Path) -> None:
    """A broken model of the library: no diagnostic; its `of "..."` jumps to the base; a name
    inside a replaced transition jumps to the base's declaration; an edit the base cannot take
    is underlined where the CLI points."""
    path = ROOT / "models/broken/tcp_fin_no_consume.tcpspec"
    text = path.read_text("utf-8")
    bad = text.replace("Endpoint.close", "Endpoint.closed")
    copy = tmp_path / "broken" / "v.tcpspec"
    copy.parent.mkdir()
    (tmp_path / "tcp.tcpspec").write_text(TCP.read_text("utf-8"), "utf-8")
    copy.write_text(bad, "utf-8")
    expected = cli_errors(copy)

    async def body(editor: Editor) -> dict[str, Any]:
        uri = await editor.open(path)
        doc = lsp.TextDocumentIdentifier(uri=uri)
        out: dict[str, Any] = {"clean": list(editor.diagnostics[uri])}
        out["base"] = await editor.client.text_document_definition_async(
            lsp.DefinitionParams(text_document=doc, position=position_of(text, '"../tcp.tcpspec"', offset=3)))
        out["var"] = await editor.client.text_document_definition_async(
            lsp.DefinitionParams(text_document=doc, position=position_of(text, "state := if", offset=1)))
        copy_uri = await editor.open(copy)
        out["bad"] = editor.diagnostics[copy_uri]
        return out

    out = run_session(body)
    assert out["clean"] == []
    assert out["base"].uri == from_fs_path(str(TCP))
    assert out["var"].uri == from_fs_path(str(TCP))
    assert TCP.read_text("utf-8").split("\n")[out["var"].range.start.line].lstrip().startswith("var state")
    got = [(d.range.start.line + 1, d.range.start.character + 1, d.message.split("\n")[0]) for d in out["bad"]]
    assert got == expected and "no transition 'closed'" in got[0][2]
