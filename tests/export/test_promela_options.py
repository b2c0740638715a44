"""export --to promela: options that name nothing, and what the header says."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize(("extra", "message"), [
    (["--isn-vars", "nope"], "no state variable nope"),
    (["--isn-values", ""], "expected numbers"),
])
def test_export_options_that_name_nothing_are_usage_errors(extra: list[str], message: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from tcpspec.cli import main

    model = str(Path(__file__).resolve().parents[2] / "models/tcp.tcpspec")
    assert main(["export", model, "--to", "promela", "--payload-range", "1..2", *extra]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "message"), [
    (["--to", "promela", "--theory", "bv"], "--theory: only for --to smtlib, not --to promela"),
    (["--to", "smtlib", "--isn-range", "0..3", "--max-steps", "4"],
     "--isn-range, --max-steps: only for --to promela, not --to smtlib"),
])
def test_an_option_of_the_other_target_is_a_usage_error_not_ignored(argv: list[str], message: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from tcpspec.cli import main

    model = str(Path(__file__).resolve().parents[2] / "models/seed_handshake.tcpspec")
    assert main(["export", model, *argv]) == 2
    assert message in capsys.readouterr().err


def test_the_promela_header_says_what_was_chosen(capsys: pytest.CaptureFixture[str]) -> None:
    from tcpspec.cli import main

    model = str(Path(__file__).resolve().parents[2] / "models/seed_handshake.tcpspec")
    assert main(["export", model, "--to", "promela"]) == 0
    header = capsys.readouterr().out.split("*/")[0]
    assert "None" not in header and "runs are not cut" in header


@pytest.mark.parametrize(("args", "message"), [
    (["--isn-vars", ""], "--isn-vars: expected state variable names"),
    (["--isn-range", ""], "--isn-range: expected A..B"),
    (["--payload-range", ""], "--payload-range: expected A..B"),
    (["--isn-values", "1,2", "--isn-range", "0..3"], "argument --isn-range: not allowed with argument --isn-values"),
])
def test_an_empty_or_doubled_promela_option_is_a_usage_error(args: list[str], message: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from tcpspec.cli import main

    seed = str(Path(__file__).resolve().parents[2] / "models/seed_handshake.tcpspec")
    assert main(["export", seed, "--to", "promela", *args]) == 2
    assert message in capsys.readouterr().err
