"""The language server's piecewise parse gives exactly the AST (spans included) and the
diagnostics of a whole parse, whatever the edit: cached pieces, moved pieces and a process
parsed item by item included."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcpspec.core.diagnostics import ModelError
from tcpspec.lsp.chunks import ChunkParser, split_items
from tcpspec.frontend.parser import parse_text

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "models").glob("*.tcpspec")) + sorted((ROOT / "tests/golden").glob("*.tcpspec"))


def whole(text: str) -> object:
    try:
        return parse_text(text, "m.tcpspec")
    except ModelError as err:
        return [(d.span, d.message) for d in err.diagnostics]


def pieces(parser: ChunkParser, text: str) -> object:
    try:
        return parser.parse(text, "m.tcpspec")
    except ModelError as err:
        return [(d.span, d.message) for d in err.diagnostics]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_same_as_a_whole_parse(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert pieces(ChunkParser(), text) == whole(text)


def test_a_model_is_cut_into_its_items() -> None:
    text = "const A = 1; // one\nenum E { X }\nprocess P() {\n  var x: bool;\n}\n// end\n"
    cut = [text[s:e] for s, e, _, _ in split_items(text) or []]
    assert cut == ["const A = 1;", " // one\nenum E { X }", "\nprocess P() {\n  var x: bool;\n}"]
    assert split_items("process P() {") is None and split_items("}") is None


EDITS = st.lists(
    st.tuples(st.sampled_from(["insert line", "delete line", "add char", "delete char"]),
              st.floats(0, 1), st.sampled_from([" ", "x", ";", "}", "{", "\n", "// c", "1"])),
    min_size=1, max_size=4,
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=st.sampled_from([ROOT / "models/tcp.tcpspec", ROOT / "models/seed_handshake.tcpspec",
                              ROOT / "models/abp.tcpspec"]), edits=EDITS)
def test_a_run_of_edits_parses_as_a_whole_parse(model: Path, edits: list[tuple[str, float, str]]) -> None:
    text = model.read_text(encoding="utf-8")
    parser = ChunkParser()
    assert pieces(parser, text) == whole(text)
    for kind, where, what in edits:
        lines = text.split("\n")
        k = int(where * (len(lines) - 1))
        if kind == "insert line":
            lines.insert(k, what)
        elif kind == "delete line":
            del lines[k]
        else:
            col = int(where * len(lines[k]))
            line = lines[k]
            lines[k] = line[:col] + what + line[col:] if kind == "add char" else line[:col] + line[col + 1 :]
        text = "\n".join(lines)
        assert pieces(parser, text) == whole(text)


@pytest.mark.parametrize("edit", [
    ("snd_nxt := snd_nxt + n;", "snd_nxt := snd_nxt + n"),  # a missing ';' in a process
    ("const MSS = 2;", "const MSS = ;"),  # at the top
    ("invariant una_le_nxt: snd_una <= snd_nxt;", "invariant una_le_nxt: snd_una <= ;"),
    ("reachable both_established:", "reachable both_established"),  # near the end
])
def test_syntax_errors_are_the_whole_parse_s(edit: tuple[str, str]) -> None:
    text = (ROOT / "models/tcp.tcpspec").read_text(encoding="utf-8")
    parser = ChunkParser()
    parser.parse(text, "m.tcpspec")
    broken = text.replace(*edit)
    twice = broken.replace("skip;", "skip", 1)  # and a second error further down
    for variant in (broken, twice):
        got = pieces(parser, variant)
        assert isinstance(got, list) and got == whole(variant)
    assert len(pieces(parser, twice)) >= 2  # type: ignore[arg-type]
