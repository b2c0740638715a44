"""The public API (tcpspec/__init__.py, tcpspec/api.py, tcpspec/testing.py), called as a user
would: from this pytest test, from a plain script without a `__main__` guard, and from a
notebook cell."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tcpspec
from tcpspec.testing import assert_holds, assert_proves, assert_reached, assert_violated

ROOT = Path(__file__).resolve().parents[1]
COUNTERS = ROOT / "tests" / "data" / "counters.tcpspec"
SEED = ROOT / "models" / "seed_handshake.tcpspec"
BROKEN = ROOT / "models" / "broken" / "seed_ack_plus_two.tcpspec"
TEXT = """\
process P() {
  var x: bv4 = 0;
  transition t when x < 3 { x := x + 1; }
}
instance p = P();
invariant small: p.x <= 2;
reachable two: p.x == 2;
"""


def test_import_is_cheap_and_names_load_lazily() -> None:
    code = textwrap.dedent("""\
        import sys, tcpspec
        heavy = lambda: [m for m in ("z3", "lark", "tcpspec.api", "tcpspec.run.pipeline") if m in sys.modules]
        assert heavy() == [], heavy()
        assert tcpspec.check is tcpspec.api.check and tcpspec.Verdict.PROVED.value == "proved"
        assert [m for m in heavy() if m in ("z3", "lark")] == [], heavy()  # the API itself loads neither
        print(sorted(tcpspec.__all__))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "check" in proc.stdout and "load" in proc.stdout
    with pytest.raises(AttributeError):
        tcpspec.no_such_name  # noqa: B018


def test_load_a_path_or_text_and_errors_with_their_diagnostics() -> None:
    m = tcpspec.load(COUNTERS)
    assert m.path == str(COUNTERS)
    assert m.properties == {"p.tick_moves_both": "step", "x_small": "invariant", "three": "reachable"}
    t = tcpspec.load(TEXT, name="inline.tcpspec")
    assert t.path == "inline.tcpspec" and t.properties == {"small": "invariant", "two": "reachable"}
    with pytest.raises(tcpspec.ModelError) as err:
        tcpspec.load(TEXT.replace("x < 3", "y < 3"))
    (d,) = err.value.diagnostics
    assert (d.span.file, d.span.line, d.span.col, d.message) == ("<string>", 3, 21, "unknown name 'y'")
    assert err.value.render().splitlines() == ["<string>:3:21: error: unknown name 'y'",
                                               "     3 |   transition t when y < 3 { x := x + 1; }",
                                               "       |                     ^"]
    with pytest.raises(tcpspec.UsageError, match="no such file"):
        tcpspec.load(ROOT / "no_such.tcpspec")
    with_const = "const N = 3;\n" + TEXT.replace("x < 3", "x < N")
    assert tcpspec.load(with_const, defines={"N": 2}).constants["N"] == 2
    with pytest.raises(tcpspec.UsageError, match="NOPE"):
        tcpspec.load(with_const, defines={"NOPE": 1})


def test_check_gives_typed_results_and_traces_that_render() -> None:
    report = tcpspec.check(BROKEN, engine="auto", timeout=120)
    assert isinstance(report, tcpspec.Report) and report.exit_code == 1 and not report.ok
    bad = report["server.syn_ack_rule"]
    assert isinstance(bad, tcpspec.Result) and bad.failed
    assert (bad.verdict, bad.depth, bad.engine, bad.kind) == (tcpspec.Verdict.VIOLATED, 2, "explicit", "step")
    assert report.failed == [bad]
    trace = bad.trace
    assert isinstance(trace, tcpspec.Trace) and trace.length == 2 and trace.steps[2].transition == "server.accept"
    assert "<-- violates server.syn_ack_rule" in trace.to_text()
    assert [s["mbt::actionTaken"] for s in trace.to_itf()["states"]][1:] == ["client.connect", "server.accept"]
    assert trace.to_mermaid().startswith("sequenceDiagram") and "<svg" in trace.to_svg()
    assert report.to_text().startswith(f"model: {BROKEN}\n\nviolated   server.syn_ack_rule")
    assert report.to_json()["results"][0]["property"] == report.results[0].property
    assert repr(bad) == "<tcpspec.Result server.syn_ack_rule: violated (explicit, depth 2)>"


def test_check_options_as_the_cli_takes_them() -> None:
    report = tcpspec.check(TEXT, ["small", "two"], engine="bmc", depth=5, keep_going=True, cache=False)
    assert [(r.property, r.verdict.value, r.depth) for r in report] == [("small", "violated", 3), ("two", "reached", 2)]
    with pytest.raises(tcpspec.UsageError, match="unknown engine"):
        tcpspec.check(TEXT, engine="nope")
    with pytest.raises(tcpspec.UsageError, match="no property named 'zz'"):
        tcpspec.check(TEXT, "zz")


def test_replay_diff_simulate_export() -> None:
    for module in ("tcpspec.analyses.diff", "tcpspec.interp.simulate", "tcpspec.exporters.smtlib"):
        importlib.import_module(module)  # binds tcpspec.analyses.diff etc. to the submodules: still the API's calls
    tcp = tcpspec.load(ROOT / "models" / "tcp.tcpspec")
    wrong = tcpspec.replay(tcp, ROOT / "traces" / "wrong_ack.txt", timeout=120)
    assert (wrong.verdict, wrong.first_unexplained, wrong.explained) == ("rejected", 2, ["client.active_open"])
    run = tcpspec.simulate(TEXT, steps=5, seed=1)
    assert run.length == 3 and "deadlock after 3 steps" in run.note
    assert tcpspec.replay(run.model, run).accepted
    same = tcpspec.diff(COUNTERS, COUNTERS, depth=2)
    assert same.verdict == "same"
    assert "proctype" in tcpspec.export(SEED, "promela", max_steps=4)
    assert "(define-fun init" in tcpspec.export(SEED, "smtlib")
    with pytest.raises(tcpspec.UsageError):
        tcpspec.export(SEED, "smtlib", max_steps=4)


def test_the_pytest_helpers_pass_and_fail_with_the_report() -> None:
    assert_proves(COUNTERS, kinds=["invariant", "step"])
    assert_holds(TEXT, "two", depth=4)
    assert assert_violated(BROKEN, "server.syn_ack_rule", depth=2).trace is not None
    assert assert_reached(TEXT, "two", depth=2).depth == 2
    with pytest.raises(AssertionError) as err:
        assert_violated(BROKEN, "server.syn_ack_rule", depth=3)
    assert "expected violated at depth 3, got server.syn_ack_rule: violated at depth 2" in str(err.value)
    assert "<-- violates server.syn_ack_rule" in str(err.value)  # the report, with its trace
    with pytest.raises(AssertionError, match="not proved: small"):
        assert_proves(TEXT, "small", engine="bmc", depth=5)


SCRIPT = """\
import tcpspec

model = tcpspec.load({path!r})
report = tcpspec.check(model, timeout=120)
print(report.summary())
for r in report:
    print(r.property, r.verdict.value, r.engine, r.depth)
"""


def test_a_plain_script_without_a_main_guard(tmp_path: Path) -> None:
    """The default engine starts worker processes; a script without `if __name__ ==
    "__main__":` used to re-run itself in each (tracebacks, every verdict unknown)."""
    script = tmp_path / "check_it.py"
    script.write_text(SCRIPT.format(path=str(COUNTERS)))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    # the explicit search sees the whole (finite) model: its proofs, with their certificate
    assert proc.stdout.splitlines() == ["3 properties: 2 proved, 1 reached", "p.tick_moves_both proved explicit 3",
                                        "x_small proved explicit 3", "three reached explicit 3"]  # once, not once per worker


def test_a_notebook_cell(tmp_path: Path) -> None:
    """The same in a Jupyter kernel (the kernel's main module, its threads)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(SCRIPT.format(path=str(COUNTERS))))
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    out = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.get("name") == "stdout")
    assert out.splitlines() == ["3 properties: 2 proved, 1 reached", "p.tick_moves_both proved explicit 3",
                                "x_small proved explicit 3", "three reached explicit 3"], nb.cells[0].outputs


def test_the_json_of_a_report_is_the_cli_s(tmp_path: Path) -> None:
    report = tcpspec.check(TEXT, engine="bmc", depth=4, keep_going=True)
    doc = report.to_json()
    assert doc["model"] == "<string>" and doc["summary"]["verdicts"] == {"violated": 1, "reached": 1}
    assert json.loads(json.dumps(doc)) == doc
    path = tmp_path / "m.tcpspec"
    path.write_text(TEXT)
    proc = subprocess.run([sys.executable, "-m", "tcpspec", "check", str(path), "--engine", "bmc", "--depth", "4",
                           "--keep-going", "--format", "json"], capture_output=True, text=True, timeout=300)
    cli = json.loads(proc.stdout)
    strip = lambda d: [{k: v for k, v in r.items() if k != "seconds"} for r in d["results"]]  # noqa: E731
    assert strip(cli) == [{**r, "trace": {**r["trace"], "#meta": {**r["trace"]["#meta"], "source": str(path)}}}
                          for r in strip(doc)]
