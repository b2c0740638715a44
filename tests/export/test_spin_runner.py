"""The SPIN runner's subprocesses (tcpspec/exporters/spin.py) do not outlive their timeout."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tcpspec.exporters.spin import _run


def test_a_timeout_kills_the_commands_children_too(tmp_path: Path) -> None:
    # gcc runs cc1 as a child; bash's background sleep stands for it here.
    mark = f"{30 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10**6}"  # a sleep no one else runs
    with pytest.raises(subprocess.TimeoutExpired):
        _run(["bash", "-c", f"sleep {mark} & sleep {mark}; wait"], tmp_path, 0.5)
    time.sleep(0.2)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert f"sleep {mark}" not in ps


def test_a_command_that_ends_in_time_gives_its_output(tmp_path: Path) -> None:
    done = _run(["bash", "-c", "echo out; echo err >&2; exit 3"], tmp_path, 10)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
