"""Hostile inputs beyond docs/errors.md's rows: each gets exit 2 and one line, never a
traceback, a hang or the content of a file that is not a model (tcpspec/core/inputs.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tcpspec.cli import main
from tcpspec.core.inputs import MAX_MODEL_BYTES

ROOT = Path(__file__).resolve().parents[2]
TCP = str(ROOT / "models/tcp.tcpspec")
GOOD = "process P() {\n  var x: 0..3 = 0;\n  transition t when x < 3 { x := x + 1; }\n}\ninstance p = P();\n"
SECRET = "SECRET=hunter2 must never be shown\n"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    out = capsys.readouterr()
    both = out.out + out.err
    assert "Traceback" not in both and "internal error" not in both
    return code, both


def test_an_import_through_a_symlink_to_a_non_model_is_refused(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A planted `key.tcpspec -> secret` would show the secret's first line in a syntax error."""
    (tmp_path / "secret.txt").write_text(SECRET)
    (tmp_path / "key.tcpspec").symlink_to(tmp_path / "secret.txt")
    (tmp_path / "m.tcpspec").write_text('import "key.tcpspec";\n' + GOOD)
    code, both = _run(["check", str(tmp_path / "m.tcpspec")], capsys)
    assert code == 2 and "an import names a .tcpspec file" in both and "hunter2" not in both


def test_an_import_of_a_device_or_fifo_is_refused_not_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "pipe.tcpspec")
    (tmp_path / "zero.tcpspec").symlink_to("/dev/zero")
    for target, what in (("pipe.tcpspec", "a FIFO"), ("zero.tcpspec", "an import names a .tcpspec file")):
        (tmp_path / "m.tcpspec").write_text(f'import "{target}";\n' + GOOD)
        code, both = _run(["check", str(tmp_path / "m.tcpspec")], capsys)
        assert code == 2 and what in both


def test_imports_together_past_the_program_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chunk = "// " + "x" * (MAX_MODEL_BYTES - 100) + "\n"
    names = [f"part{i}.tcpspec" for i in range(5)]
    for n in names:
        (tmp_path / n).write_text(chunk)
    (tmp_path / "m.tcpspec").write_text("".join(f'import "{n}";\n' for n in names) + GOOD)
    code, both = _run(["check", str(tmp_path / "m.tcpspec")], capsys)
    assert code == 2 and "the model and its imports are too large" in both


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_fmt_refuses_special_files(special: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if special == "fifo":
        special = str(tmp_path / "m.tcpspec")
        os.mkfifo(special)
    code, both = _run(["fmt", "--check", special], capsys)
    assert code == 2 and "not a regular file" in both


def test_the_api_replay_reads_traces_bounded(tmp_path: Path) -> None:
    import tcpspec
    from tcpspec.core.diagnostics import UsageError

    model = tcpspec.load(TCP)
    deep = tmp_path / "t.json"
    deep.write_text('{"states": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(UsageError, match="nested more than 64 levels"):
        tcpspec.replay(model, deep)
    fifo = tmp_path / "t.txt"
    os.mkfifo(fifo)
    with pytest.raises(UsageError):
        tcpspec.replay(model, fifo)


def test_a_cluster_address_dask_cannot_parse_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, both = _run(["check", TCP, "--cluster", "tcp://host"], capsys)
    assert code == 2 and "expected a scheduler address" in both


def test_a_huge_seed_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, both = _run(["simulate", TCP, "--seed", "9" * 5000], capsys)
    assert code == 2 and "expected a whole number" in both
