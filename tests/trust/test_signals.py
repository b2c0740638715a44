"""SIGINT and SIGTERM end every process a run started, and the results that had finished are
reported in every format (text, JSON, JUnit, SARIF).

The run under test is a real `tcpspec check` whose processes all load signal_harness/
sitecustomize.py: the prover never answers, and BMC, once it has found the model's violation and
witness, creates a marker file and waits. The test interrupts the run then
(no sleeping and hoping), and looks for what is left in the run's process group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent / "signal_harness"
ROOT = Path(__file__).resolve().parents[2]

# `small` fails in 2 steps, `one` is reached in 1; `range_ok` (bounded) and `fine` wait for the prover.
MODEL = """process P() {
  var x: 0..3 = 0;
  transition t when x < 3 { x := x + 1; }
}
instance p = P();
invariant small: p.x < 2;
invariant fine: p.x <= 3;
reachable one: p.x == 1;
"""


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    model = tmp_path / "m.tcpspec"
    model.write_text(MODEL)
    mark = tmp_path / "bmc_has_found_them"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HARNESS), str(ROOT)]), TCPSPEC_TEST_MARK=str(mark),
               TCPSPEC_TEST_FOUND="small,one",
               TCPSPEC_NO_CACHE="1", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "tcpspec", "check", str(model), "--keep-going", "--depth", "30", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
                            start_new_session=True)  # its own process group: what it leaves is ours to find
    return proc, mark


def _wait_for(mark: Path, proc: subprocess.Popen[str]) -> None:
    for _ in range(1200):  # a guard against a hang, not a speed limit
        if mark.exists():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.25)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("BMC never found the violation and the witness")


def _group(pgid: int) -> list[str]:
    """The live (not zombie) processes of the process group `pgid`."""
    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            left.append(pid)
    return left


def _nothing_left(pgid: int) -> None:
    for _ in range(40):  # they are gone within 2 s; this only waits for the kernel to reap them
        if not _group(pgid):
            return
        time.sleep(0.25)
    left = _group(pgid)
    for pid in left:
        os.kill(int(pid), signal.SIGKILL)
    raise AssertionError(f"processes left running: {left}")


def _interrupt(tmp_path: Path, sig: int, whole_group: bool, *args: str) -> tuple[int, str, str]:
    proc, mark = _start(tmp_path, *args)
    _wait_for(mark, proc)
    if whole_group:  # a terminal's Ctrl-C
        os.killpg(proc.pid, sig)
    else:  # `kill -INT PID`, `timeout`, a CI runner: the parent alone
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    _nothing_left(proc.pid)
    assert "Traceback" not in err, err
    return proc.returncode, out, err


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("whole_group", [False, True])
def test_the_text_report_keeps_what_bmc_had_found(tmp_path: Path, sig: int, code: int, whole_group: bool) -> None:
    returncode, out, err = _interrupt(tmp_path, sig, whole_group)
    assert returncode == code, err
    assert "violated   small" in out and "witness at depth 1: one" in out  # found before the interrupt
    assert "interrupted: only the results above are complete" in out
    assert "2 properties: 1 violated, 1 reached" in out


def test_json(tmp_path: Path) -> None:
    returncode, out, _ = _interrupt(tmp_path, signal.SIGINT, False, "--format", "json")
    assert returncode == 130
    doc = json.loads(out)
    verdicts = {r["property"]: r["verdict"] for r in doc["results"]}
    assert verdicts == {"small": "violated", "one": "reached"} and doc["interrupted"] is True


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_junit_and_sarif_of_a_gate(tmp_path: Path, sig: int) -> None:
    """A gate (-j 2: a pool of workers, each with its own engine processes) keeps its jobs'
    finished results: it used to wait ~55 s for the running jobs and write an empty JUnit file."""
    import junitparser

    returncode, _, err = _interrupt(tmp_path, sig, False, "-j", "2", "--junit", "j.xml", "--sarif", "s.sarif")
    assert returncode == (130 if sig == signal.SIGINT else 143), err
    suites = junitparser.JUnitXml.fromfile(str(tmp_path / "j.xml"))
    cases = {case.name: case for suite in suites for case in suite}
    assert set(cases) == {"small", "one"} and suites.failures == 1
    sarif = json.loads((tmp_path / "s.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["invariant/small"]
