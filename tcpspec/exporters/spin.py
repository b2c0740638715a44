"""Run SPIN on exported Promela: `spin -a`, compile `pan.c`, search, read the verdicts.

Used by the agreement tests and by `benchmarks/vs_spin.py`. Needs `spin` and a C compiler on
PATH (Debian packages `spin`, `gcc`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tcpspec.core.diagnostics import UsageError
from tcpspec.exporters.promela import PAN_CFLAGS, PAN_RUNFLAGS


@dataclass
class SpinResult:
    """What one exhaustive search found. `complete` is False when it stopped early (an error
    with `all_errors` off, the time limit, or memory); then absent names prove nothing."""

    violated: set[str] = field(default_factory=set)
    reached: set[str] = field(default_factory=set)
    complete: bool = False
    states: int = 0
    seconds: float = 0.0  # spin -a + gcc + pan
    search_seconds: float = 0.0  # pan alone
    timed_out: bool = False
    output: str = ""


def spin_available() -> bool:
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def run_spin(promela: str, workdir: Path, all_errors: bool = True, timeout: float | None = None,
             memory_mb: int = 1024, optimize: bool = True) -> SpinResult:
    """Verify `promela` in `workdir`: every error when `all_errors`, else stop at the first.

    `optimize` off compiles pan without -O2: quicker for tiny searches (tests)."""
    if not spin_available():
        raise UsageError("spin and gcc are needed (Debian packages: spin gcc)")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "model.pml").write_text(promela)
    t0 = time.perf_counter()
    cflags = [f for f in PAN_CFLAGS if optimize or f != "-O2"]  # -O0 compiles twice as fast
    try:  # a huge value list makes a huge pan.c: compiling it can take longer than the search
        _call(["spin", "-a", "model.pml"], workdir, timeout)
        _call(["gcc", *cflags, f"-DMEMLIM={memory_mb}", "-o", "pan", "pan.c"], workdir, timeout)
    except subprocess.TimeoutExpired:
        return SpinResult(timed_out=True, seconds=time.perf_counter() - t0, output="timed out building pan")
    t1 = time.perf_counter()
    left = None if timeout is None else max(1.0, timeout - (t1 - t0))
    flags = [*PAN_RUNFLAGS, "-c0" if all_errors else "-c1"]
    res = SpinResult()
    try:
        out = _run(["./pan", *flags], workdir, left).stdout
    except subprocess.TimeoutExpired:
        res.timed_out = True
        out = ""
    t2 = time.perf_counter()
    res.seconds, res.search_seconds, res.output = t2 - t0, t2 - t1, out
    res.violated = set(re.findall(r"^VIOLATED (\S+)$", out, re.M))
    res.reached = set(re.findall(r"^REACHED (\S+)$", out, re.M))
    m = re.search(r"^\s*(\d+) states, stored", out, re.M)
    res.states = int(m.group(1)) if m else 0
    stopped = "error: max search depth too small" in out or "out of memory" in out
    res.complete = not res.timed_out and not stopped and "Full statespace search" in out and (
        all_errors or not (res.violated or res.reached))
    return res


def _run(cmd: list[str], cwd: Path, timeout: float | None) -> subprocess.CompletedProcess[str]:
    """`subprocess.run`, but a timeout kills the command's whole process group: `gcc` leaves
    its compiler proper (`cc1`) behind otherwise, which went on compiling a huge pan.c for
    half an hour after `benchmarks/vs_spin.py` had moved on."""
    with subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _call(cmd: list[str], cwd: Path, timeout: float | None) -> None:
    proc = _run(cmd, cwd, timeout)
    if proc.returncode != 0:
        raise UsageError(f"{cmd[0]} failed: {(proc.stdout + proc.stderr).strip()[:500]}")
