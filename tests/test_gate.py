"""The CI gate: several models, JUnit and SARIF reports, worker processes, `tcpspec ci`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml

from tcpspec.cli import main
from tcpspec.run.gate import ModelSpec, run
from tcpspec.core.options import CheckOptions
from tcpspec.run.pipeline import load_model

ROOT = Path(__file__).resolve().parents[1]
GOOD = str(ROOT / "models/seed_handshake.tcpspec")
BROKEN = str(ROOT / "models/broken/seed_ack_plus_two.tcpspec")
SCHEMA = ROOT / "tests/data/sarif-schema-2.1.0.json"
FAST = ["--engine", "bmc", "--depth", "4"]


def test_check_good_and_broken_writes_junit_and_sarif(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit, sarif = tmp_path / "j.xml", tmp_path / "s.sarif"
    rc = main(["check", GOOD, BROKEN, *FAST, "--junit", str(junit), "--sarif", str(sarif), "-j", "2"])
    assert rc == 1
    out = capsys.readouterr().out
    assert out.index(f"model: {GOOD}") < out.index(f"model: {BROKEN}")  # stable order
    # JUnit: a parser reads it back; one case per model/property, the violation is a failure
    xml = JUnitXml.fromfile(str(junit))
    suites = {s.name: s for s in xml}
    assert set(suites) == {GOOD, BROKEN}
    cases = {c.name: c for c in suites[BROKEN]}
    failure = [r for r in cases["server.syn_ack_rule"].result if isinstance(r, Failure)]
    assert failure and "counterexample (2 steps)" in (failure[0].text or "")
    assert not any(isinstance(r, (Failure, Error)) for r in cases["client.syn_ack_rule"].result)
    # SARIF: valid against the published 2.1.0 schema, at the property's line, with a code flow
    doc = json.loads(sarif.read_text())
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(doc)
    res = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "step/server.syn_ack_rule"]
    assert len(res) == 1
    span = load_model(BROKEN).property("server.syn_ack_rule").span  # the server process's rule, in the base
    assert span.file == GOOD and "step syn_ack_rule" in Path(GOOD).read_text().splitlines()[span.line - 1]
    region = res[0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == span.line
    assert res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == Path(GOOD).as_uri()
    flow = res[0]["codeFlows"][0]["threadFlows"][0]["locations"]
    assert len(flow) == 3 and flow[-1]["location"]["message"]["text"].startswith("step 2:")  # init + 2 steps


def _digest(specs: list[ModelSpec], workers: int) -> list[tuple[str, str, str, int | None, list[str] | None]]:
    out = []
    for spec, r in run(specs, workers=workers).results:
        steps = None if r.trace is None else [s.transition or "init" for s in r.trace.steps]
        out.append((spec.path, r.property, r.verdict.value, r.depth, steps))
    return out


def test_parallel_run_equals_serial_run() -> None:
    specs = [ModelSpec(GOOD, options=CheckOptions(depth=4, engine="bmc")), ModelSpec(BROKEN, options=CheckOptions(depth=4, engine="bmc"))]
    assert _digest(specs, 1) == _digest(specs, 2)


def test_several_models_json_has_model_in_every_result(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", GOOD, BROKEN, *FAST, "--format", "json", "-j", "1"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1 and doc["exit_code"] == 1
    assert {r["model"] for r in doc["results"]} == {GOOD, BROKEN}
    assert all({"property", "kind", "verdict", "engine", "depth", "seconds", "trace"} <= set(r) for r in doc["results"])


def test_a_model_error_makes_the_run_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.tcpspec"
    bad.write_text("process P( {\n")
    junit = tmp_path / "j.xml"
    rc = main(["check", BROKEN, str(bad), *FAST, "--junit", str(junit), "-j", "1"])
    assert rc == 2  # the error wins over the violation
    out = capsys.readouterr().out
    assert f"{bad}:1:" in out
    suites = {s.name: s for s in JUnitXml.fromfile(str(junit))}
    assert any(isinstance(r, Error) for c in suites[str(bad)] for r in c.result)


def test_a_model_error_in_the_json_report_has_its_position(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.tcpspec"
    bad.write_text("process P() {\n  invariant x: ")
    assert main(["check", GOOD, str(bad), *FAST, "--format", "json", "-j", "1"]) == 2
    (err,) = json.loads(capsys.readouterr().out)["errors"]
    assert err["messages"] == ["expected an expression, found end of file"]
    assert err["diagnostics"] == [{"message": err["messages"][0], "file": str(bad), "line": 2, "col": 15}]


def _project(tmp_path: Path, models: list[str], extra: str = "") -> Path:
    if not (tmp_path / "models").exists():  # the library's layout: a broken model names its base by a relative path
        shutil.copytree(ROOT / "models", tmp_path / "models")
    lines = ['[tool.tcpspec]', 'engine = "bmc"', 'depth = 4', 'jobs = 1', extra]
    for m in models:
        rel = Path(m).relative_to(ROOT).as_posix()
        lines += ["[[tool.tcpspec.models]]", f'path = "{rel}"', 'kinds = ["invariant", "step"]']
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_ci_with_config_passes_then_fails_when_a_broken_model_is_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(_project(tmp_path, [GOOD], 'junit = "reports/j.xml"'))
    (tmp_path / "reports").mkdir()
    assert main(["ci"]) == 0
    assert (tmp_path / "reports/j.xml").exists()
    _project(tmp_path, [GOOD, BROKEN], 'junit = "reports/j.xml"')
    assert main(["ci", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-2].startswith("2 models; ")  # --quiet: the summary only
    assert "model: " not in out.split("2 models; ")[-1]


@pytest.mark.parametrize(("toml", "message"), [
    ('[tool.tcpspec]\ndepht = 3\n[[tool.tcpspec.models]]\npath = "m.tcpspec"\n', "unknown key 'depht'"),
    ('[tool.tcpspec]\n[[tool.tcpspec.models]]\npath = "m.tcpspec"\nengine = "magic"\n', "'magic' is not one of"),
    ('[tool.tcpspec]\n[[tool.tcpspec.models]]\ndepth = 3\n', "missing `path`"),
    ('[tool.tcpspec]\ndepth = "deep"\n[[tool.tcpspec.models]]\npath = "m.tcpspec"\n', "expected int"),
    ('[tool.tcpspec]\n', "no models"),
    ('[tool.tcpspec\n', "not valid TOML"),
    ('[tool.tcpspec]\ntimeout = 1e400\n[[tool.tcpspec.models]]\npath = "m.tcpspec"\n', "tool.tcpspec.timeout: must be"),
    ('[tool.tcpspec]\n[[tool.tcpspec.models]]\npath = "m.tcpspec"\ntimeout = 0\n', "models[0].timeout: must be"),
    ('[tool.tcpspec]\ndepth = -3\n[[tool.tcpspec.models]]\npath = "m.tcpspec"\n', "tool.tcpspec.depth: must be >= 0"),
    ('[tool.tcpspec]\n\xff\xfe\n', "not valid TOML"),
])
def test_config_errors_name_the_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], toml: str, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_bytes(toml.encode("latin-1"))  # \xff: not UTF-8
    monkeypatch.chdir(tmp_path)
    assert main(["ci"]) == 2
    err = capsys.readouterr().err
    assert message in err and "pyproject.toml" in err and "Traceback" not in err


def test_a_gate_that_selects_no_property_is_a_usage_error_not_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(  # the seed model has no liveness property
        f'[tool.tcpspec]\n[[tool.tcpspec.models]]\npath = "{GOOD}"\nkinds = ["eventually"]\n')
    monkeypatch.chdir(tmp_path)
    assert main(["ci"]) == 2
    assert "nothing to check: no property of" in capsys.readouterr().err
    # Several models: one without a selected property is fine while another has one.
    assert main(["check", GOOD, str(ROOT / "models/tcp_liveness.tcpspec"), "--kind", "leads_to", "--engine", "bmc",
                 "--depth", "2", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["check", GOOD, GOOD, "--kind", "leads_to", "--quiet"]) == 2
    assert "no property of any of the 2 models is selected by --kind leads_to" in capsys.readouterr().err


def test_ci_without_config_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["ci"]) == 2
    assert "no tcpspec.toml" in capsys.readouterr().err


def test_cluster_gives_the_same_results_as_a_local_run() -> None:
    distributed = pytest.importorskip("distributed")
    specs = [ModelSpec(GOOD, options=CheckOptions(depth=3, engine="bmc", properties=("client.syn_ack_rule",))),
             ModelSpec(BROKEN, options=CheckOptions(depth=3, engine="bmc", properties=("server.syn_ack_rule",)))]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = run(specs, cluster=cluster.scheduler_address)
    local = run(specs, workers=1)
    digest = lambda r: [(s.path, x.property, x.verdict, x.depth) for s, x in r.results]  # noqa: E731
    assert digest(remote) == digest(local)
    assert [x.verdict.value for _, x in remote.results] == ["holds", "violated"]


def test_the_ci_example_config_loads_and_names_real_models() -> None:
    from tcpspec.run.config import load_config

    config = load_config(str(ROOT / "examples/ci/pyproject.toml"))
    assert [Path(m.path).name for m in config.models] == ["seed_handshake.tcpspec", "tcp.tcpspec", "abp.tcpspec"]
    assert all(Path(m.path).is_file() for m in config.models)


def test_progress_reports_depths_and_stays_off_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from tcpspec.run.pipeline import CheckOptions, check_model

    seen: list[str] = []
    check_model(load_model(GOOD), CheckOptions(engine="bmc", depth=3, properties=("client.syn_ack_rule",)),
                on_progress=seen.append)
    assert seen == [f"BMC depth {k}, 1 open" for k in range(4)]
    assert main(["check", GOOD, "--engine", "bmc", "--depth", "2", "--prop", "client.syn_ack_rule"]) == 0
    assert capsys.readouterr().err == ""  # stderr is not a terminal here: no live display, no noise


def test_a_config_without_depth_leaves_the_bound_to_the_model(tmp_path: Path) -> None:
    from tcpspec.run.config import load_config

    (tmp_path / "tcpspec.toml").write_text('[[models]]\npath = "a.tcpspec"\n[[models]]\npath = "b.tcpspec"\ndepth = 6\n')
    specs = load_config(str(tmp_path / "tcpspec.toml")).models
    assert [s.options.depth for s in specs] == [None, 6]  # None: the model's `depth` declarations, else 20


def test_each_job_gets_a_fresh_z3_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serial jobs must not share Z3's context (its search depends on what the context has seen)."""
    import z3

    from tcpspec.run import gate, pipeline

    seen: list[object] = []

    def fake_check(model, options):  # type: ignore[no-untyped-def]
        seen.append(z3.main_ctx())
        return []

    monkeypatch.setattr(pipeline, "check_model", fake_check)
    jobs, _ = gate.plan([ModelSpec(GOOD), ModelSpec(GOOD)])
    list(gate._serial(jobs))
    assert len(seen) == 2 and seen[0] is not seen[1]


@pytest.mark.parametrize("gate", [["-q"], ["--junit", "j.xml"], ["-j", "2"]])
def test_one_model_trace_options_name_the_gate_option(gate: list[str], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # One model with --quiet (or a report, or workers) runs as a gate, which writes no
    # certificate: the message must say why, not only "take one model".
    rc = main(["check", GOOD, *FAST, "--certificate", str(tmp_path / "c.cert"), *gate])
    assert rc == 2
    err = capsys.readouterr().err
    assert "take one model" in err and "--quiet" in err and "--junit" in err
    assert not (tmp_path / "c.cert").exists()
