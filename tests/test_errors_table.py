"""docs/errors.md, row by row: each class of bad input gets its message and its exit code."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tcpspec.cli import main

ROOT = Path(__file__).resolve().parents[1]
TCP = str(ROOT / "models/tcp.tcpspec")
DOC = (ROOT / "docs/errors.md").read_text(encoding="utf-8")

GOOD = "process P() {\n  var x: 0..3 = 0;\n  transition t when x < 3 { x := x + 1; }\n}\ninstance p = P();\n"

FAM = GOOD.replace("instance p = P();", "instance q[i in 0..1] = P();")

# id -> (model text or None, extra CLI args, expected exit code, fragment of the output)
ROWS: dict[str, tuple[str | bytes | None, list[str], int, str]] = {
    "syntax": ("process P( {\n", [], 2, "error: unexpected '{': expected ')' or a name"),
    "unknown_name": (GOOD + "invariant i: p.nope < 2;\n", [], 2, "instance 'p' has no variable 'nope'"),
    "type_mismatch": (GOOD + "invariant i: p.x + true;\n", [], 2, "operator '+' needs numbers, not bool"),
    "assign_const": ("const K = 1;\nprocess P() {\n  var x: 0..3 = 0;\n  transition t { K := 1; }\n}\ninstance p = P();\n",
                     [], 2, "cannot assign"),
    "huge_literal": ("const K = " + "9" * 50 + ";\n", [], 2, "integer literal too large"),
    "nesting": ("process P() { var b: bool = " + "!" * 20000 + "true; }\ninstance p = P();\n", [], 2, "nesting too deep"),
    "bad_char": ("process P() {\x00 var x: bool; }\n", [], 2, "unexpected character"),
    "binary_file": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), [], 2, "not UTF-8 text"),
    "missing_file": (None, ["check", "nope.tcpspec"], 2, "no such file: nope.tcpspec"),
    "empty_model_name": (None, ["check", ""], 2, "empty file name: expected the path of a model"),
    "directory": (None, ["check", str(ROOT / "models")], 2, "is a directory, not a model"),
    "define_unknown": (GOOD, ["-D", "NOPE=1"], 2, "no constant named 'NOPE'"),
    "define_type": (None, ["check", TCP, "-D", "MSS=abc"], 2, "constant 'MSS' is an int"),
    "define_syntax": (None, ["check", TCP, "-D", "MSS"], 2, "bad -D 'MSS': expected NAME=VALUE"),
    "unknown_prop": (GOOD, ["--prop", "nope"], 2, "no property named 'nope'"),
    "nothing_selected": (GOOD, ["--kind", "eventually"], 2,
                         "nothing to check: no property of"),
    "depth_twice": ("depth 3;\ndepth 4;\n" + GOOD, [], 2, "a second default depth for every property in this file"),
    "bad_depth": (GOOD, ["--depth", "-1"], 2, "--depth: must not be negative"),
    "bad_timeout": (GOOD, ["--timeout", "0"], 2, "--timeout: must be a positive number"),
    "bad_cluster": (GOOD, ["--cluster", ""], 2, "--cluster: expected a scheduler address"),
    "bad_engine": (GOOD, ["--engine", "magic"], 2, "invalid choice: 'magic'"),
    "no_command": (None, ["frob"], 2, "invalid choice: 'frob'"),
    "empty_file_name": (GOOD, ["--junit", ""], 2, "--junit: expected a file name, got ''"),
    "trace_dir": (GOOD, ["--trace-out", "/nonexistent-dir/x.json"], 2, "--trace-out: no such directory"),
    "violated": (GOOD + "invariant small: p.x < 2;\n", ["--engine", "bmc", "--depth", "4"], 1, "violated"),
    'tla_eq': ('invariant i: p.x = 1;' + "\n", [], 2, "'=' is not a comparison: write '==' (TLA+'s '=' is '==' here; ':=' assigns)"),
    'tla_and': ('invariant i: a /\\ b;' + "\n", [], 2, "TLA+'s '/\\' is '&&' here (and)"),
    'tla_or': ('invariant i: a \\/ b;' + "\n", [], 2, "TLA+'s '\\/' is '||' here (or)"),
    'tla_in': ('invariant i: x \\in s;' + "\n", [], 2, "TLA+'s '\\in' is 'in' here: 'x in s', 'forall j in 0..N-1: ...'"),
    'tla_notin': ('invariant i: x \\notin s;' + "\n", [], 2, "TLA+'s '\\notin' is written '!(x in s)' here"),
    'tla_quantifier': ('invariant i: \\A x \\in S: x;' + "\n", [], 2, "TLA+'s '\\A x \\in S: P' is 'forall x in S: P' here (and '\\E' is 'exists')"),
    'tla_not': ('invariant i: ~a;' + "\n", [], 2, "TLA+'s '~' is '!' here (not)"),
    'tla_neq': ('invariant i: a # b;' + "\n", [], 2, "TLA+'s '#' and '/=' are '!=' here (not equal)"),
    'tla_implies': ('invariant i: a => b;' + "\n", [], 2, "'=>' is not an operator: implication is '==>'"),
    'tla_equiv': ('invariant i: a <=> b;' + "\n", [], 2, "TLA+'s '<=>' is '==' on bools here"),
    'tla_prime': ("process P() { transition t { x' = x + 1; } }" + "\n", [], 2, "TLA+'s x' = e is 'x := e;' here: a statement gives a variable its new value with ':='"),
    'tla_unchanged': ('process P() { transition t { UNCHANGED x; } }' + "\n", [], 2, 'there is no UNCHANGED: a transition leaves every variable it does not assign as it was'),
    'tla_definition': ('Inv == x > 1;' + "\n", [], 2, "a TLA+ definition 'Name == e' is 'def name(): T = e;' here (and a property is 'invariant name: e;')"),
    'tla_variables': ('VARIABLES x, y' + "\n", [], 2, "TLA+'s VARIABLES are declared in a process: 'var x: T = init;' (see docs/language.md)"),
    'tla_constants': ('CONSTANT N' + "\n", [], 2, "TLA+'s CONSTANTS are 'const N = 3;' here (the value is the default; -D N=5 changes it)"),
    'tla_extends': ('EXTENDS Naturals' + "\n", [], 2, 'TLA+\'s EXTENDS is \'import "file.tcpspec";\' here'),
    'promela_atomic': ('process P() { transition t { atomic { x := 1; } } }' + "\n", [], 2, "Promela's 'atomic { }' is not needed: a transition is one atomic step"),
    'promela_send': ('process P() { transition t { c ! m; } }' + "\n", [], 2, "Promela's 'c ! m' is 'send c m;' here"),
    'promela_receive': ('process P() { transition t { c ? m; } }' + "\n", [], 2, "Promela's 'c ? m' is 'receive m from c' in the transition's header"),
    'promela_options': ('process P() { transition t { if :: x -> y := 1; fi } }' + "\n", [], 2, "Promela's '::' options are written 'if COND { ... } else { ... }' here, or one transition each"),
    'promela_arrow': ('process P() { transition t { x := 1 -> y; } }' + "\n", [], 2, "Promela's 'guard -> action' is 'when GUARD { ... }' (or 'if GUARD { ... }') here; '->' is for map types and literals ('==>' is implication)"),
    "family_index": (FAM + "invariant i: q[2].x == 0;\n", [], 2, "instance family 'q': index 2 is outside 0..1"),
    "family_dynamic_index": (FAM.replace("x := x + 1;", "x := q[x].x;"), [], 2,
                             "instance family 'q': the index may lie outside 0..1 (it may be 0..3)"),
    "family_member": (FAM + "invariant i: q.x == 0;\n", [], 2, "'q' is a family of instances: name a member"),
    "def_recursion": ("def f(): bool = g();\ndef g(): bool = f();\n" + GOOD, [], 2, "def 'f' calls itself (f -> g -> f)"),
    "assign_count": (GOOD.replace("x := x + 1;", "x := 1, 2;"), [], 2, "1 target but 2 values"),
    "map_key": (GOOD.replace("var x: 0..3 = 0;", "var x: 0..3 = 0;\n  var m: [0..2] -> bool;").replace(
        "x := x + 1;", "m[3] := true;"), [], 2, "a map with keys 0..2: index 3 is outside 0..2"),
    "set_type": (GOOD.replace("var x: 0..3 = 0;", "var x: 0..3 = 0;\n  var s: set of seq32;"), [], 2,
                 "a set's elements: seq32 is not a finite scalar type"),
    "chan_init": ("message M { v: 0..3 }\nchannel c: M[1] = [M { v: 1 }, M { v: 2 }];\n" + GOOD, [], 2,
                  "channel 'c' holds 1 message, not 2"),
    "self_outside_family": (GOOD.replace("x + 1", "self"), [], 2, "'self' is only defined inside a process "
                            "instantiated as a family"),
}


def _row_ids() -> list[str]:
    return [r for r in re.findall(r"^\| (\w+) \|", DOC, flags=re.M) if r != "id"]


def test_every_row_of_the_doc_is_tested() -> None:
    tested = set(ROWS) | {"config_key", "timeout", "memory", "internal", "interrupt"}
    assert set(_row_ids()) == tested


@pytest.mark.parametrize("row", sorted(ROWS))
def test_row(row: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, args, code, fragment = ROWS[row]
    argv = list(args)
    if text is not None:
        path = tmp_path / "m.tcpspec"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        argv = ["check", str(path), *args]
    assert main(argv) == code
    out = capsys.readouterr()
    both = out.out + out.err
    assert fragment in both
    assert "Traceback" not in both
    assert fragment.split("'")[0].strip(" -:") in DOC


def test_config_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.tcpspec]\ndepht = 3\n[[tool.tcpspec.models]]\npath = "m.tcpspec"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["ci"]) == 2
    assert "pyproject.toml: tool.tcpspec: unknown key 'depht'" in capsys.readouterr().err


def test_timeout_gives_unknown_and_exit_3_within_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    t0 = time.monotonic()
    code = main(["check", TCP, "--prop", "no_half_open", "--engine", "bmc", "--depth", "40", "--timeout", "1"])
    took = time.monotonic() - t0
    assert code == 3
    assert "unknown" in capsys.readouterr().out
    assert took < 15, f"a 1-second timeout took {took:.1f} s"


def test_memory_limit_gives_unknown_and_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", TCP, "--prop", "no_half_open", "--engine", "bmc", "--depth", "30", "--memory-limit", "25"])
    assert code == 3
    assert "memory limit reached" in capsys.readouterr().out


def test_internal_error_is_one_line_and_exit_4(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    from tcpspec import pipeline

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(pipeline, "check_model", boom)
    path = tmp_path / "m.tcpspec"
    path.write_text(GOOD)
    assert main(["check", str(path)]) == 4
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: simulated bug (please report)" in err and "Traceback" not in err


def test_interrupt_exits_130_and_leaves_no_partial_report(tmp_path: Path) -> None:
    out = tmp_path / "cex.itf.json"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tcpspec", "check", TCP, "--engine", "bmc", "--depth", "30", "--prop", "no_half_open",
         "--trace-out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the header is printed once the model is loaded
    assert first.startswith("model:"), first
    time.sleep(2)  # into the search
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not out.exists() and not list(tmp_path.glob(".cex*"))  # no partial or temp file left
