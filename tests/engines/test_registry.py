"""The engine registry (engines/registry.py): one contract, a lookup instead of an if/elif."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.core.diagnostics import UsageError
from tcpspec.engines import registry
from tcpspec.engines.contract import EngineCall
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import PropertyResult, Verdict

ROOT = Path(__file__).resolve().parents[2]
COUNTERS = str(ROOT / "tests" / "data" / "counters.tcpspec")


@pytest.fixture
def scratch() -> Iterator[list[str]]:
    """Names registered by a test, removed after it (the registry is process-wide)."""
    added: list[str] = []
    yield added
    for name in added:
        registry._ENGINES.pop(name, None)


def test_a_registered_engine_is_called_with_the_run_s_options_and_budget(scratch: list[str]) -> None:
    calls: list[tuple[list[str], EngineCall]] = []

    def toy(model: ir.Model, props: list[ir.Property], call: EngineCall) -> list[PropertyResult]:
        calls.append(([p.name for p in props], call))
        return [PropertyResult(p.name, p.kind.value, Verdict.HOLDS, "toy", call.depth, 0.0) for p in reversed(props)]

    registry.register("toy", toy, help="a test engine")
    scratch.append("toy")
    model = load_model(COUNTERS)
    out = check_model(model, CheckOptions(engine="toy", depth=5, timeout=7.0, keep_going=True))
    assert [r.property for r in out] == [p.name for p in model.properties]  # the model's order again
    assert {r.engine for r in out} == {"toy"} and {r.depth for r in out} == {5}
    (names, call), = calls
    assert names == [p.name for p in model.properties]
    assert call.options.engine == "toy" and call.timeout == 7.0 and call.options.keep_going
    left = call.budget.seconds_left()
    assert left is not None and 0 < left <= 7.0


def test_an_engine_named_by_module_path_is_imported_when_it_runs(scratch: list[str]) -> None:
    registry.register("bmc_by_path", "tcpspec.engines.registry:_bmc", help="BMC, named by its path")
    scratch.append("bmc_by_path")
    model = load_model(COUNTERS)
    by_path = check_model(model, CheckOptions(engine="bmc_by_path", depth=4, keep_going=True))
    direct = check_model(model, CheckOptions(engine="bmc", depth=4, keep_going=True))
    assert [(r.property, r.verdict, r.depth) for r in by_path] == [(r.property, r.verdict, r.depth) for r in direct]
    assert {r.verdict for r in direct} == {Verdict.HOLDS, Verdict.REACHED}


def test_unknown_and_duplicate_names() -> None:
    with pytest.raises(UsageError, match=r"unknown engine 'nope' \(engines: bmc, kind, pdr, auto"):
        registry.engine("nope")
    with pytest.raises(UsageError, match="unknown engine 'nope'"):
        check_model(load_model(COUNTERS), CheckOptions(engine="nope"))
    with pytest.raises(ValueError, match="registered already"):
        registry.register("bmc", "x:y", help="a second bmc")
    with pytest.raises(ValueError, match="lowercase word"):
        registry.register("Two Words", "x:y", help="")


def test_the_cli_and_the_configuration_read_the_registry(scratch: list[str], tmp_path: Path) -> None:
    from tcpspec.cli import app as cli
    from tcpspec.run.config import load_config

    registry.register("toy2", "tcpspec.engines.registry:_bmc", help="registered late")
    scratch.append("toy2")
    assert cli.build_parser().parse_args(["check", COUNTERS, "--engine", "toy2"]).engine == "toy2"
    (tmp_path / "tcpspec.toml").write_text(f'engine = "toy2"\n[[models]]\npath = "{COUNTERS}"\n')
    assert load_config(str(tmp_path / "tcpspec.toml")).models[0].options.engine == "toy2"


def test_which_engines_prove_and_which_split_into_jobs() -> None:
    assert [n for n in registry.names() if registry.engine(n).certificate] == ["kind", "pdr", "auto", "explicit"]
    assert [n for n in registry.names() if registry.engine(n).independent] == ["bmc"]


def test_the_registry_imports_no_solver() -> None:
    code = ("import sys, tcpspec.engines.registry as r\n"
            "assert r.names()[:4] == ('bmc', 'kind', 'pdr', 'auto')\n"
            "heavy = [m for m in ('z3', 'lark', 'tcpspec.engines.bmc') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
