"""The command-line contract: exit codes, output formats, trace files, error reporting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any
from pathlib import Path

import pytest

from tcpspec.cli import args as cli_args
from tcpspec.cli import commands_check, files

from tcpspec.checker import ir

from tcpspec.run import pipeline
from tcpspec.cli import main
from tcpspec.core.diagnostics import Diagnostic, ModelError, Span, UsageError
from tcpspec.core.results import PropertyResult, Verdict
from tcpspec.core.trace import Trace, TraceStep
from tcpspec.core.types import BOOL

PYTHON = sys.executable
SP = Span("m.tcpspec", 1, 1)


def prop(name: str, kind: ir.PropertyKind = ir.PropertyKind.INVARIANT) -> ir.Property:
    return ir.Property(name, kind, ir.Lit(True, BOOL, SP), SP)


def fake_model(path: str, names: list[str]) -> ir.Model:
    return ir.Model(path, {}, [], [], {}, [], [], [prop(n) for n in names])


def run_trace(n: int = 1) -> Trace:
    steps = [TraceStep(0, {"x": 0})] + [TraceStep(i, {"x": i}, "p.inc", {"d": 1}) for i in range(1, n + 1)]
    return Trace(steps)


class Fake:
    """Stands in for the pipeline: records calls, answers each property with a set verdict."""

    def __init__(self, verdicts: dict[str, Verdict]) -> None:
        self.verdicts = verdicts
        self.loaded: list[tuple[str, dict[str, str]]] = []
        self.options: list[pipeline.CheckOptions] = []
        self.interrupt_on: str | None = None
        self.raise_on_load: BaseException | None = None

    def load_model(self, path: str, defines: dict[str, str] | None = None) -> ir.Model:
        self.loaded.append((path, dict(defines or {})))
        if self.raise_on_load is not None:
            raise self.raise_on_load
        return fake_model(path, list(self.verdicts))

    def check_model(self, model: ir.Model, options: pipeline.CheckOptions, on_progress: Any = None) -> list[PropertyResult]:
        self.options.append(options)
        out = []
        for p in pipeline.select_properties(model, options.properties):
            if p.name == self.interrupt_on:
                raise KeyboardInterrupt
            v = self.verdicts[p.name]
            trace = run_trace(2) if v in (Verdict.VIOLATED, Verdict.REACHED) else None
            kind = "reachable" if v in (Verdict.REACHED, Verdict.UNREACHED) else "invariant"
            out.append(PropertyResult(p.name, kind, v, options.engine, options.depth, 0.01, trace,
                                      doc=f"doc of {p.name}", detail="timeout" if v is Verdict.UNKNOWN else ""))
        return out


@pytest.fixture
def model_file(tmp_path: Path) -> str:
    f = tmp_path / "m.tcpspec"
    f.write_text("// a model\n")
    return str(f)


def use(monkeypatch: pytest.MonkeyPatch, verdicts: dict[str, Verdict]) -> Fake:
    fake = Fake(verdicts)
    monkeypatch.setattr(pipeline, "load_model", fake.load_model)
    monkeypatch.setattr(pipeline, "check_model", fake.check_model)
    return fake


H, V, U, R, N = Verdict.HOLDS, Verdict.VIOLATED, Verdict.UNKNOWN, Verdict.REACHED, Verdict.UNREACHED


@pytest.mark.parametrize(
    ("verdicts", "code"),
    [
        ({"a": H, "b": Verdict.PROVED}, 0),
        ({"a": H, "b": R}, 0),
        ({"a": H, "b": V}, 1),
        ({"a": H, "b": N}, 1),
        ({"a": H, "b": U}, 3),
        ({"a": U, "b": V}, 1),
    ],
)
def test_exit_codes(monkeypatch: pytest.MonkeyPatch, model_file: str, capsys: pytest.CaptureFixture[str],
                    verdicts: dict[str, Verdict], code: int) -> None:
    use(monkeypatch, verdicts)
    assert main(["check", model_file]) == code
    out = capsys.readouterr().out
    assert out.startswith(f"model: {model_file}\n")
    assert out.rstrip().endswith(tuple(v.value for v in verdicts.values()))


def test_text_says_bounded(monkeypatch: pytest.MonkeyPatch, model_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    use(monkeypatch, {"a": H, "b": V})
    main(["check", model_file, "--depth", "7"])
    out = capsys.readouterr().out
    assert "1 holds, no violation within 7 steps (bounded, not proved): 1 invariant" in out
    main(["check", model_file, "--depth", "7", "-v"])
    out = capsys.readouterr().out
    assert "(no violation in 7 steps; bounded)" in out
    assert "    doc of b" in out and "doc of a" not in out
    assert "<-- violates b" in out
    assert out.splitlines()[-1] == "2 properties: 1 holds, 1 violated"


def test_options_pass_through(monkeypatch: pytest.MonkeyPatch, model_file: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    fake = use(monkeypatch, {"a": H, "client.b": H, "server.b": H, "c": H})
    rc = main(["check", model_file, "--prop", "b", "--prop", "a", "--depth", "3", "--timeout", "1.5",
               "--engine", "bmc", "-D", "MSS=536", "-D", "LOSSY = true", "-D", "MSS=4", "--verbose"])
    assert rc == 0
    assert fake.loaded == [(model_file, {"MSS": "4", "LOSSY": "true"})]
    assert fake.options == [pipeline.CheckOptions(properties=("b", "a"), depth=3, timeout=1.5, engine="bmc")]
    out = capsys.readouterr().out  # --prop order, instances expanded
    assert [line.split()[1] for line in out.splitlines()[2:5]] == ["client.b", "server.b", "a"]


def test_the_cli_and_the_library_share_one_definition_of_the_options() -> None:
    from tcpspec.core import options

    assert commands_check.DEFAULT_DEPTH is pipeline.DEFAULT_DEPTH is options.DEFAULT_DEPTH
    assert cli_args.CheckOptions is pipeline.CheckOptions is options.CheckOptions
    assert pipeline.CheckOptions().depth is None  # the model's `depth` declarations, else DEFAULT_DEPTH
    assert commands_check.DEFAULT_ENGINE == pipeline.CheckOptions().engine


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tcpspec: error: ")
    return lines[0]


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "nope.tcpspec")]) == 2
    assert "no such file" in one_error_line(capsys.readouterr().err)


def test_directory_is_not_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path)]) == 2
    assert "directory" in one_error_line(capsys.readouterr().err)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(model_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    os.chmod(model_file, 0)
    assert main(["check", model_file]) == 2
    assert "cannot read" in one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("define", ["MSS", "=3", "1x=2", "MSS=", "a-b=1"])
def test_bad_define(monkeypatch: pytest.MonkeyPatch, model_file: str, capsys: pytest.CaptureFixture[str],
                    define: str) -> None:
    fake = use(monkeypatch, {"a": H})
    assert main(["check", model_file, "-D", define]) == 2
    assert "bad -D" in one_error_line(capsys.readouterr().err)
    assert fake.loaded == []


@pytest.mark.parametrize(
    "argv",
    [
        [], ["frobnicate"], ["check"], ["check", "m", "--bogus"], ["check", "m", "--depth", "-1"],
        ["check", "m", "--depth", "x"], ["check", "m", "--timeout", "0"], ["check", "m", "--format", "xml"],
        ["check", "m", "--engine", "magic"],
    ],
)
def test_argparse_misuse(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith(("tcpspec: error:", "tcpspec check: error:"))


def test_unknown_prop(monkeypatch: pytest.MonkeyPatch, model_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    use(monkeypatch, {"a": H})
    assert main(["check", model_file, "--prop", "zzz"]) == 2
    assert "no property named 'zzz'" in one_error_line(capsys.readouterr().err)


def test_json_format(monkeypatch: pytest.MonkeyPatch, model_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    use(monkeypatch, {"a": H, "b": V, "c": U})
    assert main(["check", model_file, "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] == model_file
    assert [r["verdict"] for r in doc["results"]] == ["holds", "violated", "unknown"]
    for r in doc["results"]:
        assert {"property", "kind", "verdict", "engine", "depth", "seconds", "trace"} <= set(r)
    assert doc["results"][0]["trace"] is None
    itf = doc["results"][1]["trace"]
    assert itf["states"][2]["x"] == {"#bigint": "2"} and itf["states"][2]["mbt::actionTaken"] == "p.inc"
    assert doc["tool"]["name"] == "tcpspec"


def test_trace_out(monkeypatch: pytest.MonkeyPatch, model_file: str, tmp_path: Path,
                   capsys: pytest.CaptureFixture[str]) -> None:
    use(monkeypatch, {"a": V, "client.b": R, "c": H})
    out = tmp_path / "cex.itf.json"
    assert main(["check", model_file, "--trace-out", str(out)]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cex.client.b.itf.json", "cex.itf.json", "m.tcpspec"]
    first = json.loads(out.read_text())
    assert first["#meta"]["property"] == "a" and first["#meta"]["verdict"] == "violated"
    second = json.loads((tmp_path / "cex.client.b.itf.json").read_text())
    assert second["#meta"]["property"] == "client.b"
    assert f"trace of a written to {out}" in capsys.readouterr().out


def test_trace_out_is_atomic(monkeypatch: pytest.MonkeyPatch, model_file: str, tmp_path: Path) -> None:
    use(monkeypatch, {"a": V})
    out = tmp_path / "cex.json"
    out.write_text("old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    assert main(["check", model_file, "--trace-out", str(out)]) == 2
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cex.json", "m.tcpspec"]  # no temp file left


def test_trace_out_bad_directory(monkeypatch: pytest.MonkeyPatch, model_file: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    fake = use(monkeypatch, {"a": V})
    assert main(["check", model_file, "--trace-out", str(tmp_path / "no" / "cex.json")]) == 2
    assert "no such directory" in one_error_line(capsys.readouterr().err)
    assert fake.options == []  # failed before any work


def test_trace_file_names() -> None:
    assert files.trace_file_names("out/cex.json", ["a", "s.b"]) == {"a": "out/cex.json", "s.b": "out/cex.s.b.json"}
    assert files.trace_file_names("t", ["a", "b"]) == {"a": "t", "b": "t.b"}


def test_model_error_rendered(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.tcpspec"
    f.write_text("const A = 1;\nvar x: bool = 3;\n")
    fake = use(monkeypatch, {})
    fake.raise_on_load = ModelError([
        Diagnostic(Span(str(f), 2, 15, 2, 16), "expected bool, found int"),
        Diagnostic(None, "second problem", ("a note",)),
    ])
    assert main(["check", str(f)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{f}:2:15: error: expected bool, found int",
        "     2 | var x: bool = 3;",
        "       |               ^",
        "error: second problem",
        "  note: a note",
    ]


def test_usage_error_from_pipeline(monkeypatch: pytest.MonkeyPatch, model_file: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    use(monkeypatch, {}).raise_on_load = UsageError("-D MSS: expected an int,\n got 'true'")
    assert main(["check", model_file]) == 2
    assert one_error_line(capsys.readouterr().err) == "tcpspec: error: -D MSS: expected an int, got 'true'"


def test_internal_error(monkeypatch: pytest.MonkeyPatch, model_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    use(monkeypatch, {}).raise_on_load = ZeroDivisionError("division by zero")
    monkeypatch.delenv("TCPSPEC_DEBUG", raising=False)
    assert main(["check", model_file]) == 4
    err = capsys.readouterr().err
    assert err == "tcpspec: internal error: ZeroDivisionError: division by zero (please report)\n"


def test_internal_error_debug_reraises(monkeypatch: pytest.MonkeyPatch, model_file: str) -> None:
    use(monkeypatch, {}).raise_on_load = ZeroDivisionError("boom")
    monkeypatch.setenv("TCPSPEC_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["check", model_file])


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_interrupt(monkeypatch: pytest.MonkeyPatch, model_file: str,
                   capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    fake = use(monkeypatch, {"a": H, "b": H, "c": H})
    fake.interrupt_on = "b"
    assert main(["check", model_file, "--format", fmt]) == 130
    cap = capsys.readouterr()
    assert cap.err == "tcpspec: interrupted\n"
    if fmt == "json":
        doc = json.loads(cap.out)
        assert doc["results"] == [] and doc["interrupted"] is True and doc["exit_code"] == 130
    else:
        assert cap.out.startswith(f"model: {model_file}\n")
        assert "interrupted" in cap.out and cap.out.splitlines()[-1] == "0 properties"


def test_interrupt_while_loading(monkeypatch: pytest.MonkeyPatch, model_file: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    use(monkeypatch, {}).raise_on_load = KeyboardInterrupt()
    assert main(["check", model_file]) == 130
    assert capsys.readouterr().err == "tcpspec: interrupted\n"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip().startswith("tcpspec ")


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys, tcpspec.cli.app\n"
        "heavy = [m for m in ('z3', 'lark', 'tcpspec.run.pipeline', 'tcpspec.engines') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "try:\n    tcpspec.cli.app.main(['check', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('z3', 'lark', 'tcpspec.run.pipeline') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_console_script_missing_file(tmp_path: Path) -> None:
    proc = subprocess.run([PYTHON, "-m", "tcpspec", "check", str(tmp_path / "x.tcpspec")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [f"tcpspec: error: no such file: {tmp_path / 'x.tcpspec'}"]



def test_theory_choices_are_the_library_s() -> None:
    """--help must not import z3: the list lives in options.py, which theories.py reads."""
    from tcpspec.encoding import theories

    assert commands_check.THEORIES is theories.THEORIES


def test_kind_filter_selects_only_that_kind(tmp_path: Path) -> None:
    """--kind reachable on a model with invariants checks only the reachability targets."""
    import json
    import subprocess
    import sys

    model = tmp_path / "m.tcpspec"
    model.write_text(
        "process P() { var x: 0..3 = 0; transition inc when x < 3 { x := x + 1; } }\n"
        "instance p = P();\ninvariant small: p.x < 3;\nreachable two: p.x == 2;\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "tcpspec", "check", str(model), "--kind", "reachable", "--format", "json"],
        capture_output=True, text=True,
    )
    assert out.returncode == 0
    assert [r["property"] for r in json.loads(out.stdout)["results"]] == ["two"]


_ROOT = Path(__file__).resolve().parents[1]
_SEED = str(_ROOT / "models/seed_handshake.tcpspec")
_BROKEN = str(_ROOT / "models/broken/seed_ack_plus_two.tcpspec")


@pytest.mark.parametrize("argv", [
    ["graph", _SEED, "-o", "{out}"],
    ["simulate", _SEED, "--svg", "{out}"],
    ["export", _SEED, "--to", "promela", "-o", "{out}"],
    ["export", _SEED, "--to", "smtlib", "-o", "{out}"],
    ["check", _BROKEN, "--engine", "bmc", "--depth", "3", "--trace-out", "{out}"],
    ["check", _BROKEN, "--engine", "bmc", "--depth", "3", "--junit", "{out}"],
    ["diff", _SEED, _BROKEN, "--depth", "3", "--svg", "{out}"],
])
@pytest.mark.parametrize("where", ["a directory", "a missing directory"])
def test_an_unwritable_output_path_is_a_usage_error_before_any_work(
        argv: list[str], where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path) if where == "a directory" else str(tmp_path / "nodir" / "x")
    assert main([a.replace("{out}", out) for a in argv]) == 2  # was 4 (IsADirectoryError) or 2 after the run
    captured = capsys.readouterr()
    assert "is a directory" in captured.err or "no such directory" in captured.err
    assert "violated" not in captured.out  # refused up front


def test_reports_are_readable_by_others(tmp_path: Path) -> None:
    """Written through a temp file (mkstemp: 0600), they now get the umask's mode."""
    old = os.umask(0o022)
    try:
        out = tmp_path / "g.dot"
        assert main(["graph", _SEED, "-o", str(out)]) == 0
        assert out.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


def test_a_certificate_from_bmc_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It wrote nothing and said nothing, exit 0."""
    out = tmp_path / "c.cert"
    assert main(["check", _SEED, "--engine", "bmc", "--depth", "2", "--certificate", str(out)]) == 2
    assert "engine bmc proves nothing" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("raised", [
    "ctypes",  # Ctrl-C while ctypes converted an argument for z3: ArgumentError naming KeyboardInterrupt
    "chained",  # an error raised while a KeyboardInterrupt was being handled
    "other",  # a real bug stays an internal error
])
def test_an_interrupt_in_disguise_exits_130_a_bug_exits_4(monkeypatch: pytest.MonkeyPatch, raised: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import ctypes

    def check_model(*a: object, **k: object) -> None:
        if raised == "ctypes":
            raise ctypes.ArgumentError("argument 2: <class 'KeyboardInterrupt'>: ")
        if raised == "chained":
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt:
                raise RuntimeError("cleanup failed")  # its __context__ is the interrupt
        raise RuntimeError("a bug")

    monkeypatch.setattr(pipeline, "check_model", check_model)
    seed = str(Path(__file__).resolve().parents[1] / "models" / "seed_handshake.tcpspec")
    code = main(["check", seed, "--no-cache"])
    err = capsys.readouterr().err
    if raised == "other":
        assert code == 4 and "internal error: RuntimeError: a bug" in err
    else:
        assert code == 130 and "interrupted" in err and "internal error" not in err
