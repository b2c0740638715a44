""""Check this property" from the editor: `tcpspec check FILE --prop NAME` in a child process,
with a time limit, so the server keeps answering while the solver works and a run that
overstays is killed. The verdicts are the CLI's (its JSON report), nothing recomputed here."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass

GRACE = 15.0  # seconds past --timeout before the child is killed (its own timeout should stop it)
RUNNING: set[int] = set()  # process groups of the checks under way (killed when the server stops)


@dataclass(frozen=True)
class CheckOutcome:
    """`verdicts`: (property, verdict) as `tcpspec check --format json` reports them."""

    exit_code: int
    verdicts: tuple[tuple[str, str], ...]
    message: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


async def check_property(path: str, name: str, timeout: float) -> CheckOutcome:
    cmd = [sys.executable, "-m", "tcpspec", "check", path, "--prop", name, "--format", "json",
           "--timeout", str(timeout), "--keep-going"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
    )
    RUNNING.add(proc.pid)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout + GRACE)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        _kill(proc.pid)
        await proc.wait()
        return CheckOutcome(3, (), f"{name}: no verdict within {timeout:g} s (stopped)")
    finally:
        RUNNING.discard(proc.pid)
    code = proc.returncode if proc.returncode is not None else 4
    return _outcome(name, code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


def stop_all() -> None:
    """Kill every check still running (the editor is closing the server)."""
    for pid in list(RUNNING):
        _kill(pid)


def _kill(pid: int) -> None:
    """The child and what it started (engine workers): its whole process group."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _outcome(name: str, code: int, out: str, err: str) -> CheckOutcome:
    try:
        doc = json.loads(out)
        verdicts = tuple((r["property"], r["verdict"]) for r in doc["results"])
    except (ValueError, KeyError, TypeError):
        first = next((line for line in err.splitlines() if line.strip()), f"exit code {code}")
        return CheckOutcome(code, (), f"{name}: {first}")
    text = "; ".join(f"{p}: {v}" for p, v in verdicts) or f"{name}: nothing checked"
    return CheckOutcome(code, verdicts, text)
