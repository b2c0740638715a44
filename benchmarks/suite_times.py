"""The test suite's own time, per test file: runs pytest with a JUnit report (or reads one) and
sums each file's test times, slowest first.

    python benchmarks/suite_times.py [--junit FILE] [--top N] [--json OUT] [-- PYTEST ARGS...]

Without --junit it runs `python -m pytest -q --junitxml=<temp>` plus the given pytest arguments
(the suite's own addopts apply: every core), and reports the wall time of the whole run beside
the sums. Under pytest-xdist the files run side by side, so the sums add up to more than the
wall time: they say where the time goes, the wall time what CI waits. Figures go to
docs/performance.md ("The suite's time per file").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def per_file(junit: Path) -> dict[str, dict[str, float]]:
    """{file: {"seconds", "tests", "skipped", "failed"}} from a pytest JUnit report."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: {"seconds": 0.0, "tests": 0, "skipped": 0, "failed": 0})
    for case in ET.parse(junit).getroot().iter("testcase"):
        # pytest's classname is the module path with dots (tests.engines.test_bmc) plus any class
        parts = (case.get("classname") or "").split(".")
        while parts and not parts[-1].startswith("test_"):
            parts.pop()
        name = "/".join(parts) + ".py" if parts else case.get("file", "?")
        row = out[name]
        row["seconds"] += float(case.get("time") or 0.0)
        row["tests"] += 1
        row["skipped"] += case.find("skipped") is not None
        row["failed"] += case.find("failure") is not None or case.find("error") is not None
    return dict(out)


def table(rows: dict[str, dict[str, float]], top: int | None) -> list[str]:
    total = sum(r["seconds"] for r in rows.values())
    lines = ["| file | tests (skipped) | seconds | share |", "|---|---|---|---|"]
    ranked = sorted(rows.items(), key=lambda kv: -kv[1]["seconds"])
    for name, r in ranked[:top] if top else ranked:
        share = 100 * r["seconds"] / total if total else 0.0
        lines.append(f"| {name} | {int(r['tests'])} ({int(r['skipped'])}) | {r['seconds']:.1f} | {share:.1f} % |")
    lines.append(f"| all {len(rows)} files | {sum(int(r['tests']) for r in rows.values())} | {total:.1f} | 100 % |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--junit", type=Path, default=None, help="read this pytest JUnit report instead of running pytest")
    ap.add_argument("--top", type=int, default=None, help="only the N slowest files")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("pytest_args", nargs="*", help="after --: arguments for pytest")
    args = ap.parse_args(argv)
    wall = None
    code = 0
    junit = args.junit
    if junit is None:
        junit = Path(tempfile.mkdtemp(prefix="suite_times_")) / "suite.xml"
        t0 = time.perf_counter()
        code = subprocess.run([sys.executable, "-m", "pytest", "-q", f"--junitxml={junit}", *args.pytest_args],
                              cwd=ROOT).returncode
        wall = time.perf_counter() - t0
    rows = per_file(junit)
    print("\n".join(table(rows, args.top)))
    if wall is not None:
        print(f"\nwall time of the run: {wall:.0f} s (pytest exit {code})")
    if args.json is not None:
        args.json.write_text(json.dumps({"wall_seconds": wall, "pytest_exit": code, "files": rows}, indent=2) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
