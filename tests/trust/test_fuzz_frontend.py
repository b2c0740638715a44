"""Fuzzing the front end: any text (random, mutated real models, pathological) gives a checked
model or positioned errors, never a traceback, a hang or a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcpspec.cli import main
from tcpspec.core.diagnostics import ModelError, UsageError, render_diagnostic
from tcpspec.run.pipeline import load_model

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted(p for p in (ROOT / "models").rglob("*.tcpspec"))
LONG = os.environ.get("TCPSPEC_LONG") == "1"
COMMON = dict(deadline=None, derandomize=not LONG, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def front_end(tmp_path: Path, data: bytes | str) -> None:
    """Load `data` as a model: a model or ModelError/UsageError whose diagnostics render."""
    path = tmp_path / "fuzz.tcpspec"
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(data)
    try:
        load_model(str(path))
    except ModelError as err:
        assert err.diagnostics, "a model error without a diagnostic"
        sources = dict(getattr(err, "sources", None) or {})
        for d in err.diagnostics:
            text = render_diagnostic(d, sources)
            assert d.message and text
            if d.span is not None:
                assert d.span.line >= 1 and d.span.col >= 1, d
    except UsageError as err:
        assert str(err)


TOKENS = ["process", "P", "(", ")", "{", "}", "var", "x", ":", "0..3", "=", ";", "transition", "t",
          "when", "x", "<", "3", "x := x + 1;", "invariant", "inv", "reachable", "step", "ensure",
          "x'", "channel", "c", "M[2]", "message", "M", "{ v: bool }", "instance", "p = P();", "enum",
          "E { A, B }", "choose n: 1..2", "receive m from c", "send c M { v: true };", "if", "else",
          "&&", "||", "!", "==>", "seq32", "bv8", "const", "K", "-D", "///", "//", "\n", "len(c)"]


@settings(max_examples=1500 if LONG else 150, **COMMON)  # type: ignore[arg-type]
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join))
def test_token_soup(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    front_end(tmp_path_factory.mktemp("soup"), text)


@st.composite
def mutated_model(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(MODELS)).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = min(len(text), i + draw(st.integers(0, 40)))
        op = draw(st.integers(0, 3))
        if op == 0:  # delete a span
            text = text[:i] + text[j:]
        elif op == 1:  # insert junk
            text = text[:i] + draw(st.text(max_size=12)) + text[i:]
        elif op == 2:  # duplicate a span
            text = text[:j] + text[i:j] + text[j:]
        else:  # swap a span to elsewhere
            k = draw(st.integers(0, len(text)))
            piece, rest = text[i:j], text[:i] + text[j:]
            text = rest[:k] + piece + rest[k:]
    return text


@settings(max_examples=600 if LONG else 60, **COMMON)  # type: ignore[arg-type]
@given(mutated_model())
def test_mutated_real_models(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    front_end(tmp_path_factory.mktemp("mut"), text)


@settings(max_examples=500 if LONG else 60, **COMMON)  # type: ignore[arg-type]
@given(st.text(max_size=300))
def test_random_unicode(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    front_end(tmp_path_factory.mktemp("uni"), text)


PATHOLOGICAL = {
    "empty": "",
    "only_comment": "// nothing here\n",
    "deep_parens": "process P() { var x: bool = " + "(" * 5000 + "true" + ")" * 5000 + "; }\ninstance p = P();\n",
    "deep_not": "process P() { var x: bool = " + "!" * 20000 + "true; }\ninstance p = P();\n",
    "long_sum": "process P() { var x: 0..3 = " + " + ".join(["0"] * 20000) + "; }\ninstance p = P();\n",
    "huge_int": "const K = " + "9" * 5000 + ";\n",
    "huge_range": "process P() { var x: 0.." + "9" * 400 + "; }\ninstance p = P();\n",
    "huge_bv": "process P() { var x: bv" + "9" * 30 + "; }\ninstance p = P();\n",
    "unicode_names": "process Πρόσ() { var ξ: bool; }\ninstance π = Πρόσ();\n",
    "long_line": "// " + "x" * 1_000_000 + "\nprocess P() { var x: bool; }\ninstance p = P();\n",
    "nul_bytes": "process P() {\x00 var x: bool; }\n",
    "crlf": "process P() {\r\n  var x: bool;\r\n}\r\ninstance p = P();\r\n",
    "bom": "\ufeffprocess P() { var x: bool; }\ninstance p = P();\n",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_inputs(tmp_path: Path, name: str) -> None:
    front_end(tmp_path, PATHOLOGICAL[name])


@pytest.mark.parametrize("data", [bytes(range(256)) * 4, b"\xff\xfe\x00p\x00r\x00o", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64],
                         ids=["all_bytes", "utf16", "png"])
def test_binary_files_get_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes) -> None:
    path = tmp_path / "bin.tcpspec"
    path.write_bytes(data)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err and err.strip()
