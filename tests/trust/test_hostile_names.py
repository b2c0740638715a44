"""A model's file name is text from outside: in an export it stays inside its comment, whatever
it holds (a newline, `*/`, `c_code { }`), so it cannot add C to SPIN's pan or commands to an
SMT-LIB file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import z3

from tcpspec.cli import main
from tcpspec.exporters import comment_text

ROOT = Path(__file__).resolve().parents[2]
MODEL = """process P() {
  var x: 0..3 = 0;
  transition t when x < 3 { x := x + 1; }
}
instance p = P();
invariant small: p.x <= 3;
"""

# Directory and file names, each a path component (no `/` inside one).
HOSTILE = {
    "c_code": ["x*", " c_code { exit(42); } ", "*", "m.tcpspec"],  # .../x*/ c_code {...} /*/m.tcpspec
    "newline": ["a\n(assert false)\n(check-sat)\n; b", "m.tcpspec"],
    "comment_end": ["*/ init { printf(\"PWNED\") } /*", "m\r\n.tcpspec"],
    "escape": ["\x1b[2J\\", "\u202em.tcpspec"],
}


def _hostile_model(tmp_path: Path, parts: list[str]) -> str:
    path = tmp_path.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MODEL)
    return str(path)


def _export(path: str, to: str, tmp_path: Path) -> str:
    out = tmp_path / f"out.{to}"
    assert main(["export", path, "--to", to, "-o", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def _without_c_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_promela_keeps_the_file_name_in_its_comment(name: str, tmp_path: Path) -> None:
    path = _hostile_model(tmp_path, HOSTILE[name])
    text = _export(path, "promela", tmp_path)
    code = _without_c_comments(text)
    assert "c_code" not in code and "exit(42)" not in code and "PWNED" not in code
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert text.startswith("/* ") and text.index("*/") > text.index("as Promela")  # one header comment


@pytest.mark.skipif(shutil.which("spin") is None, reason="needs spin")
def test_spin_builds_no_injected_code(tmp_path: Path) -> None:
    import subprocess

    path = _hostile_model(tmp_path, HOSTILE["c_code"])
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "model.pml").write_text(_export(path, "promela", tmp_path))
    subprocess.run(["spin", "-a", "model.pml"], cwd=tmp_path / "w", check=True, capture_output=True, timeout=120)
    assert "exit(42)" not in (tmp_path / "w" / "pan.c").read_text(errors="replace")


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_smtlib_keeps_the_file_name_in_its_comment(name: str, tmp_path: Path) -> None:
    path = _hostile_model(tmp_path, HOSTILE[name])
    text = _export(path, "smtlib", tmp_path)
    assert text.startswith("; ") and "\r" not in text and "\x1b" not in text
    assert not any(line.startswith(("(assert", "(check-sat")) for line in text.splitlines())
    assert len(z3.parse_smt2_string(text)) == 0  # definitions only, no assertion came in
    header = text.splitlines()[0]
    assert "transition system exported by" in header and comment_text(path) in header


def test_comment_text_escapes_only_what_could_end_a_comment() -> None:
    assert comment_text("models/tcp.tcpspec") == "models/tcp.tcpspec"
    assert comment_text("a*/b\nc\\d") == "a\\x2a/b\\x0ac\\x5cd"
    assert comment_text("é\U0001f600") == "\\xe9\\U0001f600"
