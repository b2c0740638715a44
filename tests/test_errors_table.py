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

# A channel whose capacity a constant sets, without quantifiers over it (tcp.tcpspec's stop a
# huge CAP by their own limit first).
PRODUCER = """const CAP = 4;
message M { v: 0..7 }
channel c: M[CAP];
process Prod() { var n: 0..7 = 0; transition put when len(c) < CAP { send c M { v: n }; } }
process Cons() { var last: 0..7 = 0; transition get receive m from c { last := m.v; } }
instance p = Prod();
instance q = Cons();
invariant ok: q.last <= 7;
"""
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
    # Hostile inputs (tests/trust/ has more of them)
    "model_too_large": ("//" + "x" * (1 << 20) + "\n" + GOOD, [], 2, "bytes, the limit is 1048576"),
    "input_device": (None, ["check", "/dev/zero"], 2, "cannot read a model '/dev/zero': it is a device, not a regular file"),
    "trace_device": (None, ["replay", TCP, "/dev/zero"], 2, "cannot read a trace '/dev/zero': it is a device"),
    "certificate_device": (None, ["recheck", TCP, "/dev/zero"], 2, "cannot read a certificate '/dev/zero': it is a device"),
    "diff_device": (None, ["diff", TCP, "/dev/zero"], 2, "cannot read a model '/dev/zero': it is a device"),
    "config_device": (None, ["ci", "--config", "/dev/zero"], 2, "cannot read configuration '/dev/zero': it is a device"),
    "import_not_model": ('import "/proc/self/environ";\n' + GOOD, [], 2, "an import names a .tcpspec file"),
    "bad_jobs": (GOOD, ["-j", "99999999999999999999"], 2, "argument -j/--jobs: at most 1024, got 99999999999999999999"),
    "bad_number": (GOOD, ["--depth", "1_0"], 2, "argument --depth: expected a whole number, got '1_0'"),
    "bad_cluster_address": (GOOD, ["--cluster", "garbage"], 2, "expected a scheduler address such as tcp://host:8786, got 'garbage'"),
    "define_number": (None, ["check", TCP, "-D", "CAP=0x1_0"], 2, "constant 'CAP' is an int; give a decimal or 0x hex integer"),
    "channel_too_large": (PRODUCER, ["-D", "CAP=100000"], 2, "channel 'c' holds 100000 messages: at most 2048"),
    "state_too_large": (None, ["check", TCP, "-D", "CAP=300"], 2, "the state has 5440 values, at most 4096 can be encoded"),
    "memory_floor": (GOOD, ["--memory-limit", "16"], 2, "16 MB is below what Z3 needs to start (64 MB at least)"),
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
    "variant_missing": (f'variant of "{TCP}" {{\n  drop transition Endpoint.closee;\n}}\n', [], 2,
                        "cannot drop transition 'Endpoint.closee': there is no transition 'closee' in process 'Endpoint'"),
    "variant_exists": (f'variant of "{TCP}" {{\n  const CAP = 3;\n}}\n', [], 2, "'CAP' is already in the base"),
    "variant_cycle": ('variant of "m.tcpspec" { }\n', [], 2, "m.tcpspec' is a variant of this file"),
    "qualified_name": (GOOD.replace("transition t", "transition P.t"), [], 2,
                       "'P.t': a qualified name (Process.member) is for a 'variant of' block"),
    "self_outside_family": (GOOD.replace("x + 1", "self"), [], 2, "'self' is only defined inside a process "
                            "instantiated as a family"),
    "temporal_outside": (GOOD + "invariant i: always p.x < 3;\n", [], 2,
                         "'always' is a temporal operator: it belongs in a `temporal` property"),
    "temporal_fragment": (GOOD + "temporal t: always (p.x == 1 ==> eventually always p.x == 3);\n", [], 2,
                          "'always' nested here is outside the supported fragment: `always P`, `eventually P`, "
                          "`always eventually P`, `eventually always P` and `always (P ==> eventually Q)`"),
    "temporal_bare": (GOOD + "temporal t: eventually p.x == 3 && p.x > 0;\n", [], 2,
                      "a state predicate outside `always` / `eventually` in temporal 't'"),
    "temporal_safety": (GOOD + "temporal t: always p.x < 4;\n", [], 2,
                        "temporal 't' is `always P`, a safety property: write `invariant t: P;`"),
    "tla_box": ("temporal t: []<>p;\n", [], 2,
                "TLA+'s and SPIN's '[]' and '<>' are 'always' and 'eventually' here: 'temporal NAME: always eventually P;'"),
    "leadsto_in_formula": ("temporal t: p ~> q;\n", [], 2,
                           "'P ~> Q' is a declaration of its own ('leads_to NAME: P ~> Q;'); inside a temporal "
                           "formula write 'always (P ==> eventually Q)'"),
    "spin_ltl": ("ltl p1 { [] (x > 0) }\n", [], 2, "SPIN's 'ltl NAME { F }' is 'temporal NAME: F;' here"),
}


def _row_ids() -> list[str]:
    return [r for r in re.findall(r"^\| (\w+) \|", DOC, flags=re.M) if r != "id"]


SPECIAL = {"config_key", "timeout", "memory", "internal", "interrupt", "input_fifo", "trace_number", "itf_nesting",
           "toml_nesting", "engine_died", "config_report_outside",
           "terminate"}  # terminate, and interrupt in every format: tests/trust/test_signals.py


def test_every_row_of_the_doc_is_tested() -> None:
    tested = set(ROWS) | SPECIAL
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


def test_config_report_outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """tcpspec.toml comes with a checkout: its reports stay in the project (it overwrote a file
    outside it), also through a symlink; the command line may name any path."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "m.tcpspec").write_text(GOOD + "invariant small: p.x <= 3;\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (project / "out").symlink_to(tmp_path)
    monkeypatch.chdir(project)
    for junit in ("../victim.txt", str(victim), "out/victim.txt"):
        (project / "tcpspec.toml").write_text(f'engine = "bmc"\njunit = "{junit}"\n[[models]]\npath = "m.tcpspec"\n')
        assert main(["ci"]) == 2
        assert f"the report '{junit}' is outside the project directory" in capsys.readouterr().err
        assert victim.read_text() == "keep me"
    (project / "tcpspec.toml").write_text('engine = "bmc"\njunit = "reports/ci.xml"\n[[models]]\npath = "m.tcpspec"\n')
    (project / "reports").mkdir()
    assert main(["ci"]) == 0 and (project / "reports/ci.xml").exists()
    assert main(["ci", "--junit", str(tmp_path / "ci.xml")]) == 0
    assert (tmp_path / "ci.xml").read_text().startswith("<?xml")


def test_timeout_gives_unknown_and_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    """(How long a timeout takes is measured in benchmarks/, not asserted here: a busy machine
    made a 15 s cap fail.)"""
    code = main(["check", TCP, "--prop", "no_half_open", "--engine", "bmc", "--depth", "40", "--timeout", "1"])
    assert code == 3
    out = capsys.readouterr().out
    assert "unknown" in out and "timeout" in out


# 64-bit multiplications, bit-blasted: past 64 MB at the first query (tcp.tcpspec needed a
# 30-step unrolling and three minutes on a loaded machine to get there).
MULTIPLIES = """process P() {
  var a: bv64;
  var b: bv64;
  var c: bv64;
  transition t { a := a * b * c + 7; b := b * c * a + 3; c := c * a * b + 1; }
}
instance p = P();
invariant hard: p.a * p.b * p.c != 123456789012345678;
"""


def test_memory_limit_gives_unknown_and_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.tcpspec"
    path.write_text(MULTIPLIES)
    code = main(["check", str(path), "--engine", "bmc", "--theory", "bv", "--depth", "3", "--memory-limit", "64"])
    assert code == 3
    assert "memory limit reached" in capsys.readouterr().out


def test_input_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A FIFO is refused at once: opening it to read would wait for a writer for ever."""
    fifo = tmp_path / "m.tcpspec"
    os.mkfifo(fifo)
    for argv in (["check", str(fifo)], ["replay", TCP, str(fifo)], ["recheck", TCP, str(fifo)], ["ci", "--config", str(fifo)]):
        assert main(argv) == 2
        assert "it is a FIFO, not a regular file" in capsys.readouterr().err


def test_trace_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """More digits than Python converts (4300) are a number that does not fit, not a crash."""
    trace = tmp_path / "t.txt"
    trace.write_text("client -> server SYN seq=" + "9" * 5000 + "\n")
    assert main(["replay", TCP, str(trace)]) == 2
    err = capsys.readouterr().err
    assert "does not fit in 32 bits" in err and "Traceback" not in err


def test_itf_nesting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "t.itf.json"
    trace.write_text('{"states": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert main(["replay", TCP, str(trace)]) == 2
    assert "nested more than 64 levels deep" in capsys.readouterr().err


def test_toml_nesting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tcpspec.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    monkeypatch.chdir(tmp_path)
    assert main(["ci"]) == 2
    assert "tcpspec.toml: nested more than 32 levels deep" in capsys.readouterr().err


def _segfault(*args: object, **kwargs: object) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def test_engine_died(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A dead engine process (here the prover: Z3 crashed) is exit 4 with its cause, not an
    `unknown` (exit 3). Forked, so that the worker runs the patched function."""
    import functools

    from tcpspec.engines import portfolio

    monkeypatch.setattr(portfolio, "_prover_worker", _segfault)
    monkeypatch.setattr(portfolio, "EXPLICIT_FIRST", False)  # else the explicit search proves it first
    monkeypatch.setattr(portfolio, "run_auto", functools.partial(portfolio.run_auto, start_method="fork"))
    path = tmp_path / "m.tcpspec"
    path.write_text(GOOD + "invariant small: p.x <= 3;\n")
    assert main(["check", str(path)]) == 4
    out = capsys.readouterr()
    assert "internal error: the prover process (killed by SIGSEGV) ended without a result" in out.err
    assert "small" not in out.out  # no verdict is made up for it


def test_internal_error_is_one_line_and_exit_4(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    from tcpspec.run import pipeline

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
