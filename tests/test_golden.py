"""Golden tests: each file under tests/golden/ names its command on its first line
(`// cmd: tcpspec check {file} ...`); its output (stdout then stderr, timings masked) and exit
code must equal the `.expect` file beside it. Regenerate with TCPSPEC_REGOLD=1 after review."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*.tcpspec"))
ROOT = Path(__file__).parent.parent


def _run(case: Path) -> str:
    first = case.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("// cmd: tcpspec "), f"{case.name}: first line must be '// cmd: tcpspec ...'"
    rel = case.relative_to(ROOT).as_posix()
    args = [a.replace("{file}", rel) for a in shlex.split(first[len("// cmd: tcpspec ") :])]
    proc = subprocess.run(
        [sys.executable, "-m", "tcpspec", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    out = proc.stdout + proc.stderr + f"[exit {proc.returncode}]\n"
    return re.sub(r"\d+\.\d+( ?)s\b", r"T.TT\1s", out)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path) -> None:
    expect = case.with_suffix(".expect")
    got = _run(case)
    if os.environ.get("TCPSPEC_REGOLD"):
        expect.write_text(got, encoding="utf-8")
    assert expect.exists(), f"missing {expect.name}: run with TCPSPEC_REGOLD=1 and review it"
    assert got == expect.read_text(encoding="utf-8")


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 3
