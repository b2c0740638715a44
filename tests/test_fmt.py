"""`tcpspec fmt`: the library's models are already formatted, formatting keeps the model (same AST
without positions, same verdicts), is idempotent, and restores a whitespace-mangled model byte
for byte."""

from __future__ import annotations

import dataclasses
import functools
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcpspec.cli import main
from tcpspec.core.diagnostics import ModelError, Span
from tcpspec.fmt import format_text
from tcpspec.fmt.layout import Layout, Row
from tcpspec.fmt.tokens import Tok, lex
from tcpspec.frontend.parser import parse_text

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted(
    p for pattern in ("models/**/*.tcpspec", "tests/**/*.tcpspec", "examples/**/*.tcpspec",
                      "benchmarks/**/*.tcpspec")
    for p in ROOT.glob(pattern)
)
NOT_PARSING = {"tests/golden/syntax_error.tcpspec"}
PARSING = [p for p in MODELS if p.relative_to(ROOT).as_posix() not in NOT_PARSING]
LIBRARY = sorted((ROOT / "models").glob("*.tcpspec"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def strip_spans(node: object) -> object:
    """The AST as plain values with every position dropped."""
    if isinstance(node, Span):
        return None
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node).__name__,) + tuple(
            (f.name, strip_spans(getattr(node, f.name))) for f in dataclasses.fields(node)
        )
    if isinstance(node, (tuple, list)):
        return tuple(strip_spans(x) for x in node)
    return node


def same_model(a: str, b: str) -> bool:
    first, second = parse_text(a, "m"), parse_text(b, "m")
    return strip_spans((first.imports, first.decls)) == strip_spans((second.imports, second.decls))


# ---------------------------------------------------------------- manglers (whitespace only)


def _min_gap(a: Tok, b: Tok) -> int:
    return _min_gap_texts(a.text, b.text)


@functools.lru_cache(maxsize=None)
def _min_gap_texts(a: str, b: str) -> int:
    """0 if the two tokens stay two tokens when written together, else 1."""
    try:
        return 0 if [t.text for t in lex(a + b)] == [a, b] else 1
    except Exception:
        return 1


def mangle(text: str, rnd: random.Random) -> str:
    """Change indentation, the spaces between code tokens and the length of blank-line runs, add
    blank lines just inside braces, trailing spaces and blank lines at both ends. Line breaks stay, and so do the spaces between
    code and a trailing comment (how far the author put it from the code: fmt keeps that)."""
    by_line: dict[int, list[Tok]] = {}
    for t in lex(text):
        by_line.setdefault(t.line, []).append(t)
    out: list[str] = []
    for n in range(1, text.count("\n") + 2):
        toks = by_line.get(n)
        if not toks:
            out.append(" " * rnd.randint(0, 3))
            out.extend([""] * (rnd.randint(1, 3) if rnd.random() < 0.3 else 0))
            continue
        code = [t for t in toks if not t.is_comment]
        comment = toks[-1] if toks[-1].is_comment else None
        body = _respace(code, rnd)
        if comment is not None:
            gap = comment.col - code[-1].end_col if code else 0
            body += " " * gap + comment.text
        if code and code[0].text == "}" and rnd.random() < 0.3:
            out.append("")  # a blank line just before a closing brace
        out.append(" " * rnd.randint(0, 12) + body + " " * rnd.randint(0, 2))
        if code and code[-1].text == "{" and rnd.random() < 0.3:
            out.append("")  # ... or just after an opening one
    return "\n" * rnd.randint(0, 2) + "\n".join(out) + "\n" * rnd.randint(0, 3)


def _respace(code: list[Tok], rnd: random.Random) -> str:
    body = ""
    for k, tok in enumerate(code):
        if k:
            body += " " * rnd.randint(_min_gap(code[k - 1], tok), 3)
        body += tok.text
    return body


def relayout(text: str, rnd: random.Random) -> str:
    """Move line breaks between tokens at random (join lines, split them): a layout no author
    chose, for idempotency and meaning; comments stay at their lines' ends."""
    toks = lex(text)
    out = ""
    for k, tok in enumerate(toks):
        if k:
            prev = toks[k - 1]
            if prev.is_comment or tok.kind == "DOC":
                out += "\n"
            elif tok.is_comment:
                out += " "
            else:
                choice = rnd.random()
                out += "\n" if choice < 0.2 else " " * max(_min_gap(prev, tok), rnd.randint(0, 2))
        out += tok.text
    return out + "\n"


# ---------------------------------------------------------------- the library is formatted


@pytest.mark.parametrize("path", PARSING, ids=_rel)
def test_every_model_is_a_fixed_point(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_text(text, _rel(path)) == text


def test_fmt_check_passes_on_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", "--check", *map(str, LIBRARY)]) == 0
    assert capsys.readouterr().out == ""


DISTINCT = LIBRARY + sorted((ROOT / "models/broken").glob("*.tcpspec")) + sorted((ROOT / "tests/golden").glob("*.tcpspec"))


@pytest.mark.parametrize("path", [p for p in DISTINCT if _rel(p) not in NOT_PARSING], ids=_rel)
def test_relayout_keeps_the_model_and_is_idempotent(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    weird = relayout(text, random.Random(0))
    once = format_text(weird)
    assert same_model(once, text)
    assert format_text(once) == once


# ---------------------------------------------------------------- mangled models come back


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(LIBRARY + [ROOT / "tests/golden/type_errors.tcpspec"]), rnd=st.randoms())
def test_a_mangled_model_is_restored_byte_for_byte(path: Path, rnd: random.Random) -> None:
    text = path.read_text(encoding="utf-8")
    mangled = mangle(text, rnd)
    assert format_text(mangled) == text


def test_the_mangler_really_mangles() -> None:
    text = (ROOT / "models/tcp.tcpspec").read_text(encoding="utf-8")
    mangled = mangle(text, random.Random(1))
    assert mangled != text
    assert mangled.split() != text.split() or mangled.count("  ") > text.count("  ") + 100


@pytest.mark.parametrize("name", ["counter_violation", "liveness_lasso", "max_cex"])
def test_formatted_models_check_to_the_same_verdicts(name: str, tmp_path: Path) -> None:
    src = ROOT / "tests/golden" / f"{name}.tcpspec"
    cmd = src.read_text(encoding="utf-8").splitlines()[0].removeprefix("// cmd: tcpspec ").split()
    ugly = relayout(mangle(src.read_text(encoding="utf-8"), random.Random(7)), random.Random(7))
    runs = []
    for label, text in (("ugly", ugly), ("formatted", format_text(ugly))):
        model = tmp_path / f"{label}.tcpspec"
        model.write_text(text, encoding="utf-8")
        args = [str(model) if a == "{file}" else a for a in cmd]
        proc = subprocess.run(["tcpspec", *args, "--format", "json"], capture_output=True, text=True,
                              timeout=600)
        runs.append((proc.returncode, _verdicts(proc.stdout)))
    assert runs[0] == runs[1]
    assert runs[0][0] == 1  # each of these models has a violated property: the check is real


def _verdicts(out: str) -> list[tuple[str, str]]:
    import json

    doc = json.loads(out)
    return [(p["property"], p["verdict"]) for p in doc["results"]]


# ---------------------------------------------------------------- the rules on small inputs


@pytest.mark.parametrize(
    "ugly, pretty",
    [
        ("const A=1;", "const A = 1;\n"),
        ("process P(){\nvar x:0..3=0;\n    transition t when x<3{x:=x+1;}\n  }",
         "process P() {\n  var x: 0..3 = 0;\n  transition t when x < 3 { x := x + 1; }\n}\n"),
        ("invariant i: a.b>=-1&&!(c'==d[0]);", "invariant i: a.b >= -1 && !(c' == d[0]);\n"),
        ("enum E {A,\nB}", "enum E { A,\n         B }\n"),
        ("invariant i:\nforall k in 0..N-1: k<N\n==> x;", "invariant i:\n  forall k in 0..N - 1: k < N\n  ==> x;\n"),
        ("\n\n// c\n\n\n\nconst A = 1;   \n\n\n", "// c\n\nconst A = 1;\n"),
        ("process P() {\n\n  var x: bool;\n\n  var y: bool;\n\n}\ninvariant i:\n\n  x\n\n  && y;",
         "process P() {\n  var x: bool;\n\n  var y: bool;\n}\ninvariant i:\n  x\n  && y;\n"),
        # a block is based on the line its declaration starts on, not on the `{` line
        ("process P(a: chan M,\nb: chan M) {\nvar x: bool;\n}",
         "process P(a: chan M,\n          b: chan M) {\n  var x: bool;\n}\n"),
    ],
)
def test_rules(ugly: str, pretty: str) -> None:
    assert format_text(ugly) == pretty


def test_comments_keep_their_place_and_doc_comments_stay() -> None:
    text = "/// doc\nconst A = 1;  // why\n  // lone\nconst B = 2;\n"
    assert format_text(text) == "/// doc\nconst A = 1;  // why\n// lone\nconst B = 2;\n"


def test_trailing_comments_keep_their_distance_and_lined_up_ones_stay_lined_up() -> None:
    text = "const A=1;   // a\nconst LONGER = 2; // b\nconst C=3;  // c\n"
    assert format_text(text) == "const A = 1;   // a\nconst LONGER = 2; // b\nconst C = 3;  // c\n"
    lined_up = "const A=1;   // a\nconst BB=2;  // b\n\nconst C = 3; // c\n"
    assert format_text(lined_up) == "const A = 1;   // a\nconst BB = 2;  // b\n\nconst C = 3; // c\n"
    grows = "const X=1;    // a\nconst YY = 2; // b\n"  # lined up; the first line's code grows
    assert format_text(grows) == "const X = 1;    // a\nconst YY = 2;   // b\n"


def test_a_comment_before_a_closing_brace_stays_inside_the_block() -> None:
    text = "process P() {\n  var x: bool;\n// last\n}\n"
    assert format_text(text) == "process P() {\n  var x: bool;\n  // last\n}\n"


def test_unknown_tokens_are_laid_out_by_the_generic_rules() -> None:
    """Syntax the formatter has never seen (a `->` type arrow, a set literal, an indexed
    instance family) is spaced and indented by the same rules, from the tokens alone."""
    def tok(kind: str, text: str) -> Tok:
        return Tok(kind, text, 1, 1, 0)

    words = "VAR var|NAME m|COLON :|LSQB [|INT 0|DOTDOT ..|NAME N|RSQB ]|ARROW ->|NAME bool|SEMICOLON ;"
    row = Row(code=[tok(*w.split(" ")) for w in words.split("|")])
    assert Layout([row]).run() == ["var m: [0..N] -> bool;"]
    words = "INSTANCE instance|NAME rm|LSQB [|NAME i|NAME in|INT 0|DOTDOT ..|INT 3|RSQB ]|EQUAL =|NAME P|LPAR (|RPAR )|SEMICOLON ;"
    row = Row(code=[tok(*w.split(" ")) for w in words.split("|")])
    assert Layout([row]).run() == ["instance rm[i in 0..3] = P();"]
    words = "NAME x|NAME in|LBRACE {|NAME A|COMMA ,|NAME B|RBRACE }|ANDAND &&|NAME m|EQ ==|NAME M|LBRACE {|NAME a|COLON :|INT 1|RBRACE }"
    row = Row(code=[tok(*w.split(" ")) for w in words.split("|")])
    assert Layout([row]).run() == ["x in {A, B} && m == M { a: 1 }"]  # a set literal is tight


# ---------------------------------------------------------------- the command


def test_check_prints_a_diff_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m.tcpspec"
    model.write_text("const A=1;\n", encoding="utf-8")
    assert main(["fmt", "--check", str(model)]) == 1
    out = capsys.readouterr().out
    assert "-const A=1;" in out and "+const A = 1;" in out
    assert model.read_text(encoding="utf-8") == "const A=1;\n"  # --check writes nothing


def test_in_place_then_check_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m.tcpspec"
    model.write_bytes(b"const A=1;\r\nconst B=2;\r\n")
    assert main(["fmt", str(model)]) == 0
    assert model.read_bytes() == b"const A = 1;\r\nconst B = 2;\r\n"  # CRLF kept
    assert "reformatted" in capsys.readouterr().err
    assert main(["fmt", "--check", str(model)]) == 0


def test_stdin_to_stdout() -> None:
    proc = subprocess.run(["tcpspec", "fmt", "-"], input="const A=1;", capture_output=True, text=True)
    assert (proc.returncode, proc.stdout) == (0, "const A = 1;\n")


def test_a_syntax_error_is_reported_where_the_parser_points(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    bad = ROOT / "tests/golden/syntax_error.tcpspec"
    copy = tmp_path / "bad.tcpspec"
    copy.write_text(bad.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["fmt", str(copy)]) == 2
    err = capsys.readouterr().err
    with pytest.raises(ModelError) as exc:
        parse_text(bad.read_text(encoding="utf-8"), str(copy))
    span = exc.value.diagnostics[0].span
    assert f"{copy}:{span.line}:{span.col}: error: {exc.value.diagnostics[0].message}" in err
    assert copy.read_text(encoding="utf-8") == bad.read_text(encoding="utf-8")


def test_a_missing_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", str(tmp_path / "nope.tcpspec")]) == 2
    assert "cannot read" in capsys.readouterr().err
