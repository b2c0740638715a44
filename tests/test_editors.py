"""The editor files: the TextMate grammar tokenises every model without leaving a token unmatched
(by a small TextMate matcher here, and by VS Code's own engine when node and the extension's npm
packages are installed), highlights every keyword of the grammar as one, and the VS Code
extension's manifest points at files that exist."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tcpspec.frontend.grammar import KEYWORDS

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors/vscode"
GRAMMAR = json.loads((VSCODE / "syntaxes/tcpspec.tmLanguage.json").read_text(encoding="utf-8"))
MODELS = sorted(p for pattern in ("models/**/*.tcpspec", "tests/**/*.tcpspec", "examples/**/*.tcpspec")
                for p in ROOT.glob(pattern))


def _rules(patterns: list[dict[str, object]]) -> list[dict[str, object]]:
    """The grammar's match rules in priority order, includes expanded."""
    out: list[dict[str, object]] = []
    for p in patterns:
        if "include" in p:
            out.extend(_rules(GRAMMAR["repository"][str(p["include"]).lstrip("#")]["patterns"]))
        else:
            out.append(p)
    return out


RULES = [(re.compile(str(r["match"])), r) for r in _rules(GRAMMAR["patterns"])]


def tokenize(line: str) -> list[tuple[str, str]]:
    """(text, scope) pieces of one line as TextMate matches it: at each position the rule whose
    match starts first wins (the earlier rule on a tie); text no rule covers gets scope ''."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(line):
        best = None
        for rx, rule in RULES:
            m = rx.search(line, pos)
            if m and m.end() > m.start() and (best is None or m.start() < best[0].start()):
                best = (m, rule)
        if best is None:
            out.append((line[pos:], ""))
            break
        m, rule = best
        if m.start() > pos:
            out.append((line[pos : m.start()], ""))
        out.append((m.group(), _scope(rule)))
        pos = m.end()
    return out


def _scope(rule: dict[str, object]) -> str:
    if "name" in rule:
        return str(rule["name"])
    captures = rule.get("captures", {})
    assert isinstance(captures, dict)
    return " ".join(str(c["name"]) for c in captures.values())


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_model_tokenises_without_an_unmatched_token(path: Path) -> None:
    bad = [
        f"{n}: {text!r}"
        for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1)
        for text, scope in tokenize(line)
        if not scope and text.strip()
    ]
    assert bad == []


def test_every_keyword_is_highlighted_as_a_keyword() -> None:
    for word in sorted(KEYWORDS):
        scopes = [scope for text, scope in tokenize(word) if text.strip()]
        assert scopes and not scopes[0].startswith("variable"), (word, scopes)


def test_scopes_of_a_typical_line() -> None:
    pieces = dict((t, s) for t, s in tokenize("  transition close when state == CLOSE_WAIT { x := 0x1F; } // c"))
    assert pieces["transition close"] == "storage.type.tcpspec entity.name.function.tcpspec"
    assert pieces["when"] == "keyword.control.tcpspec"
    assert pieces["=="].startswith("keyword.operator")
    assert pieces["CLOSE_WAIT"] == "variable.other.constant.tcpspec"
    assert pieces["0x1F"].startswith("constant.numeric")
    assert pieces["// c"] == "comment.line.double-slash.tcpspec"
    assert tokenize("/// doc")[0][1] == "comment.line.documentation.tcpspec"


def test_the_extension_manifest_points_at_its_files() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    contributes = manifest["contributes"]
    assert (VSCODE / manifest["main"]).is_file()
    assert (VSCODE / contributes["grammars"][0]["path"]).is_file()
    config = contributes["languages"][0]["configuration"]
    language = json.loads((VSCODE / config).read_text(encoding="utf-8"))
    assert language["comments"]["lineComment"] == "//"
    assert contributes["languages"][0]["extensions"] == [".tcpspec"]
    assert contributes["grammars"][0]["scopeName"] == GRAMMAR["scopeName"]


def test_vscode_textmate_finds_no_unmatched_token() -> None:
    """VS Code's own TextMate engine on every library model (needs `npm install` in
    editors/vscode: the engine is an npm package, the suite does not download it)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (VSCODE / "node_modules/vscode-textmate").is_dir():
        pytest.skip("vscode-textmate is not installed: run `npm install` in editors/vscode")
    files = [str(p) for p in MODELS]
    proc = subprocess.run([node, "scripts/check-grammar.js", *files], cwd=VSCODE, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(files)} files, 0 unmatched tokens" in proc.stdout
