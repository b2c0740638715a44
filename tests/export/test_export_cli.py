"""`tcpspec export`: writes Promela / SMT-LIB, rejects bad ranges with exit 2."""

from __future__ import annotations

from pathlib import Path

import z3

from tcpspec.cli import main

SEED = str(Path(__file__).resolve().parents[2] / "models/seed_handshake.tcpspec")


def test_export_promela_to_file(tmp_path: Path) -> None:
    out = tmp_path / "seed.pml"
    assert main(["export", SEED, "--to", "promela", "--isn-range", "0..2", "--max-steps", "9", "-o", str(out)]) == 0
    text = out.read_text()
    assert "proctype P_client()" in text and "steps < 9" in text
    assert ":: v_client_iss = 2" in text and ":: v_client_iss = 3" not in text


def test_export_smtlib_parses(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["export", SEED, "--to", "smtlib", "--theory", "bv"]) == 0
    z3.parse_smt2_string(capsys.readouterr().out)  # definitions only: parses without error


def test_export_bad_range_is_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["export", SEED, "--to", "promela", "--isn-range", "5..1"]) == 2
    assert "--isn-range" in capsys.readouterr().err
