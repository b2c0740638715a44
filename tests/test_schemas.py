"""The JSON Schemas published under docs/schemas/: the project configuration agrees with
config.py, and the JSON report validates against real output of `check` and of a gate."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest

from tcpspec.core.diagnostics import UsageError

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "docs" / "schemas"
CONFIG = json.loads((SCHEMAS / "tcpspec.toml.schema.json").read_text())
REPORT = json.loads((SCHEMAS / "report.schema.json").read_text())
BROKEN = str(ROOT / "models/broken/seed_ack_plus_two.tcpspec")
SEED = str(ROOT / "models/seed_handshake.tcpspec")


def _valid(schema: dict, doc: object) -> bool:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema).is_valid(doc)


def test_the_schemas_name_what_the_code_accepts() -> None:
    from tcpspec.run.config import _MODEL, _TOP
    from tcpspec.engines import registry
    from tcpspec.core.options import KINDS, THEORIES

    defs = CONFIG["$defs"]
    assert tuple(defs["engine"]["enum"]) == registry.names()  # a new engine: add it to the schema
    assert tuple(defs["theory"]["enum"]) == THEORIES
    assert tuple(defs["model"]["properties"]["kinds"]["items"]["enum"]) == KINDS
    assert set(CONFIG["properties"]) == _TOP and set(defs["model"]["properties"]) == _MODEL
    from tcpspec.core.results import Verdict

    assert REPORT["$defs"]["verdict"]["enum"] == [v.value for v in Verdict]


def _tool_table(path: Path) -> dict:
    doc = tomllib.loads(path.read_text())
    return doc["tool"]["tcpspec"] if path.name == "pyproject.toml" else doc


@pytest.mark.parametrize("toml", [
    'depth = 6\n[[models]]\npath = "m.tcpspec"\nkinds = ["invariant"]\ndefines = { MSS = 4, LOSSY = true }\n',
    'engine = "bmc"\ntimeout = 1.5\njobs = 2\njunit = "r.xml"\n[[models]]\npath = "m.tcpspec"\nkeep_going = true\n',
    'depht = 3\n[[models]]\npath = "m.tcpspec"\n',
    '[[models]]\npath = "m.tcpspec"\nengine = "magic"\n',
    '[[models]]\ndepth = 3\n',
    'depth = "deep"\n[[models]]\npath = "m.tcpspec"\n',
    'models = []\n',
    'timeout = 0\n[[models]]\npath = "m.tcpspec"\n',
    'depth = -3\n[[models]]\npath = "m.tcpspec"\n',
    'jobs = 0\n[[models]]\npath = "m.tcpspec"\n',
    '[[models]]\npath = "m.tcpspec"\nkinds = ["deadlock"]\n',
])
def test_the_configuration_schema_agrees_with_the_loader(tmp_path: Path, toml: str) -> None:
    from tcpspec.run.config import load_config

    file = tmp_path / "tcpspec.toml"
    file.write_text(toml)
    try:
        load_config(str(file))
        loads = True
    except UsageError:
        loads = False
    assert _valid(CONFIG, tomllib.loads(toml)) == loads


@pytest.mark.parametrize("file", ["examples/ci/pyproject.toml"])
def test_the_shipped_configurations_are_valid(file: str) -> None:
    assert _valid(CONFIG, _tool_table(ROOT / file))


def _json(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tcpspec", *args, "--format", "json"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode in (0, 1, 2, 3), proc.stderr
    return json.loads(proc.stdout)


def test_real_reports_validate(tmp_path: Path) -> None:
    one = _json("check", BROKEN, "--engine", "bmc", "--depth", "4", "--max-cex", "2", "--keep-going")
    assert any(r["trace"] is not None for r in one["results"]) and any(r.get("traces") for r in one["results"])
    assert _valid(REPORT, one)
    bad = tmp_path / "bad.tcpspec"
    bad.write_text("process P() { var x: bv4 = 0 }\n")
    gate = _json("check", BROKEN, SEED, str(bad), "--engine", "bmc", "--depth", "4", "-j", "1")
    assert gate["errors"] and gate["errors"][0]["diagnostics"][0]["line"] == 1
    assert {r["model"] for r in gate["results"]} == {BROKEN, SEED} and _valid(REPORT, gate)
    assert not _valid(REPORT, {**one, "results": [{**one["results"][0], "verdict": "maybe"}]})
    assert not _valid(REPORT, {**one, "results": [{k: v for k, v in one["results"][0].items() if k != "depth"}]})
    assert not _valid(REPORT, {k: v for k, v in gate.items() if k != "errors"})
