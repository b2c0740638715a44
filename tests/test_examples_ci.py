"""examples/ci works as shipped: its configuration passes (`tcpspec ci` exits 0, as the
workflow runs it), the workflow installs tcpspec from the repository, and the pre-commit hook is
where pre-commit looks for it (the repository root)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "examples" / "ci"
WORKFLOW = yaml.safe_load((CI / ".github" / "workflows" / "tcpspec.yml").read_text())
STEPS = WORKFLOW["jobs"]["models"]["steps"]
WORKDIR = WORKFLOW["jobs"]["models"]["defaults"]["run"]["working-directory"]


def _runs() -> list[str]:
    return [s["run"] for s in STEPS if "run" in s]


def test_the_workflow_installs_tcpspec_from_the_repository() -> None:
    installs = [r for r in _runs() if r.startswith("pip install")]
    assert installs == ["pip install ../.."], installs  # never `pip install tcpspec`: no registry has it
    assert (ROOT / WORKDIR / "../.." / "pyproject.toml").resolve() == ROOT / "pyproject.toml"
    assert (ROOT / WORKDIR).resolve() == CI


@pytest.mark.slow  # the whole example gate, about a minute on a busy CI machine
def test_the_configuration_passes_as_the_workflow_runs_it(tmp_path: Path) -> None:
    """The workflow's own commands after the install, in a copy of the tree (models/ and
    examples/ci/ at the same relative places), with an empty proof cache."""
    shutil.copytree(ROOT / "models", tmp_path / "models")
    shutil.copytree(CI, tmp_path / "examples" / "ci")
    work = tmp_path / WORKDIR
    env = {"TCPSPEC_CACHE_DIR": str(tmp_path / "cache"), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "HOME": str(tmp_path)}
    for run in _runs():
        if run.startswith("pip install"):
            continue  # this checkout is installed already
        argv = shlex.split(run)
        if argv[0] == "tcpspec":
            argv = [sys.executable, "-m", "tcpspec", *argv[1:]]
        proc = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=1800, env=env)
        assert proc.returncode == 0, f"{run}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    sarif = json.loads((work / "reports" / "tcpspec.sarif").read_text())
    assert sarif["runs"][0]["results"] == []  # nothing to annotate
    junit = (work / "reports" / "tcpspec.xml").read_text()
    assert 'failures="0"' in junit and "<testcase" in junit
    uploads = [s["with"] for s in STEPS if s.get("uses", "").startswith(("github/codeql-action", "actions/upload"))]
    for upload in uploads:  # `uses:` steps are not in `working-directory`: their paths are from the root
        path = upload.get("sarif_file") or upload.get("path")
        assert (tmp_path / path).is_file(), path


def test_the_pre_commit_hook_is_at_the_repository_root() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "tcpspec" and hook["language"] == "python" and hook["pass_filenames"] is False
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert shlex.split(hook["entry"])[:2] == ["tcpspec", "ci"] and "tcpspec" in scripts
    local = yaml.safe_load((CI / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"][0]
    assert (local["id"], local["entry"], local["files"]) == (hook["id"], hook["entry"], hook["files"])
    assert not (CI / ".pre-commit-hooks.yaml").exists()
