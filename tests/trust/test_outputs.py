"""Every output option writes into a FIFO, /dev/stdout or a device in place, and through a
symlink to its target, instead of replacing them with a regular file (tcpspec/core/outputs.py)."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tcpspec.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "models/seed_handshake.tcpspec")
BROKEN_SEED = str(ROOT / "models/broken/seed_ack_plus_two.tcpspec")

# One violated invariant and one reached target (two traces), on a counter.
COUNTER = """process P() {
  var x: 0..3 = 0;
  transition t when x < 3 { x := x + 1; }
}
instance p = P();
invariant small: p.x < 2;
reachable one: p.x == 1;
"""
PROVED = COUNTER.replace("p.x < 2", "p.x <= 3").replace("reachable one: p.x == 1;\n", "")


def _model(tmp_path: Path, text: str = COUNTER) -> str:
    path = tmp_path / "m.tcpspec"
    path.write_text(text)
    return str(path)


# option -> (argv with OUT for the output path, exit code, what the output contains)
RUNS: dict[str, tuple[Callable[[Path], list[str]], int, str]] = {
    "graph -o": (lambda d: ["graph", SEED, "-o", "OUT"], 0, "digraph"),
    "export -o promela": (lambda d: ["export", SEED, "--to", "promela", "-o", "OUT"], 0, "proctype"),
    "export -o smtlib": (lambda d: ["export", SEED, "--to", "smtlib", "-o", "OUT"], 0, "(define-fun init"),
    "check --svg": (lambda d: ["check", _model(d), "--engine", "bmc", "--keep-going", "--svg", "OUT"], 1, "<svg"),
    "check --trace-out": (lambda d: ["check", _model(d), "--engine", "bmc", "--keep-going", "--trace-out", "OUT"], 1,
                          '"#meta"'),
    "check --certificate": (lambda d: ["check", _model(d, PROVED), "--engine", "kind", "--certificate", "OUT"], 0,
                            "invariant "),
    "check --junit": (lambda d: ["check", _model(d), "--engine", "bmc", "--junit", "OUT"], 1, "<testsuite"),
    "check --sarif": (lambda d: ["check", _model(d), "--engine", "bmc", "--sarif", "OUT"], 1, '"version": "2.1.0"'),
    "simulate --svg": (lambda d: ["simulate", SEED, "--steps", "3", "--svg", "OUT"], 0, "<svg"),
    "diff --svg": (lambda d: ["diff", SEED, BROKEN_SEED, "--depth", "2", "--direction", "a-not-b", "--svg", "OUT"], 1,
                   "<svg"),
}


def _argv(option: str, tmp_path: Path, out: str) -> tuple[list[str], int, str]:
    build, code, fragment = RUNS[option]
    return [out if a == "OUT" else a for a in build(tmp_path)], code, fragment


@pytest.mark.parametrize("option", sorted(RUNS))
def test_a_fifo_stays_a_fifo_and_its_reader_gets_the_output(option: str, tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    argv, code, fragment = _argv(option, tmp_path, str(fifo))
    assert main(argv) == code
    reader.join(60)
    assert got and fragment in got[0].decode()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    if option == "check --trace-out":  # both traces, one document after the other
        assert got[0].decode().count('"format": "ITF"') == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


@pytest.mark.parametrize("option", sorted(RUNS))
def test_dev_stdout_is_written_in_place(option: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    argv, code, fragment = _argv(option, tmp_path, "/dev/stdout")
    assert main(argv) == code
    assert fragment in capfd.readouterr().out
    assert stat.S_ISLNK(os.lstat("/dev/stdout").st_mode) or stat.S_ISCHR(os.lstat("/dev/stdout").st_mode)


@pytest.mark.parametrize("option", sorted(RUNS))
def test_a_symlink_stays_and_its_target_is_replaced(option: str, tmp_path: Path) -> None:
    real = tmp_path / "real" / "report.out"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.out"
    link.symlink_to(real)
    argv, code, fragment = _argv(option, tmp_path, str(link))
    assert main(argv) == code
    assert os.readlink(link) == str(real)
    assert fragment in real.read_text()


@pytest.mark.parametrize("option", ["graph -o", "check --junit"])
def test_dev_null_stays_a_device(option: str, tmp_path: Path) -> None:
    argv, code, _ = _argv(option, tmp_path, "/dev/null")
    assert main(argv) == code
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_full_device_is_an_error_not_a_replaced_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", SEED, "-o", "/dev/full"]) == 2
    assert "cannot write /dev/full: No space left on device" in capsys.readouterr().err
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_dash_is_stdout_for_o_and_refused_beside_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", SEED, "--to", "smtlib", "-o", "-"]) == 0
    assert "(define-fun init" in capsys.readouterr().out
    assert main(["check", _model(tmp_path), "--junit", "-"]) == 2
    assert "'-' would mix this file into the report" in capsys.readouterr().err
    assert not (Path.cwd() / "-").exists()


def test_a_regular_file_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "g.dot"
    out.write_text("x" * 100_000)  # longer than the graph: a write in place would leave a tail
    assert main(["graph", SEED, "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("digraph") and "x" not in text.splitlines()[-1]


def test_appending_through_dev_stdout_keeps_what_was_there(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "log.txt"
    out.write_text("before\n")
    with open(out, "a") as f:
        subprocess.run([sys.executable, "-m", "tcpspec", "graph", SEED, "-o", "/dev/stdout"], stdout=f, check=True,
                       timeout=120)
    text = out.read_text()
    assert text.startswith("before\ndigraph") and text.rstrip().endswith("written to /dev/stdout")
