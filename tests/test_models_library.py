"""The model library (models/): every pinned verdict in models/expected.json is what the checker says.

One test per expected.json row. Rows that share a model, its -D defines and a depth are checked in
one BMC run (the engine unrolls once and asks every property at each depth), cached here, so the
file stays fast; each row then asserts its own verdict (and trace length, when pinned).

Two bookkeeping tests keep the library honest: every .tcpspec file under models/ must be pinned in
expected.json, and the `// expect:` header lines of every model in models/broken must agree with
the rows pinned for it.
"""

from __future__ import annotations

import functools
import gc
import json
import re
from pathlib import Path

import pytest

from tcpspec.run.pipeline import CheckOptions, check_model, load_model

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
ROWS: list[dict] = json.loads((MODELS / "expected.json").read_text(encoding="utf-8"))
DEFAULT_DEPTH = 20
FAILING = ("violated", "unreached")


def _defines(row: dict) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in (row.get("defines") or {}).items()))


def _group(row: dict) -> tuple[str, tuple[tuple[str, str], ...], int]:
    return (row["model"], _defines(row), int(row.get("depth", DEFAULT_DEPTH)))


def _row_id(row: dict) -> str:
    defs = ",".join(f"{k}={v}" for k, v in _defines(row))
    depth = f"@{row['depth']}" if "depth" in row else ""
    return f"{row['model'].removeprefix('models/')}{'[' + defs + ']' if defs else ''}{depth}:{row['property']}"


@functools.lru_cache(maxsize=None)
def _results(model_path: str, defines: tuple[tuple[str, str], ...], depth: int) -> dict:
    """Check, in one run, every property pinned for this (model, defines, depth)."""
    props = tuple(
        r["property"] for r in ROWS if _group(r) == (model_path, defines, depth)
    )
    model = load_model(str(ROOT / model_path), dict(defines))
    results = check_model(model, CheckOptions(properties=props, depth=depth, engine="bmc", keep_going=True))
    out = {r.property: r for r in results}
    del model, results
    gc.collect()  # drop the solver and its terms before the next model is encoded
    return out


# A row marked "slow" (BMC to depth 9-10 on a reordering network: a minute per model on a
# loaded machine) runs with TCPSPEC_LONG=1; the copy's default check is in test_broken_models.
@pytest.mark.parametrize("row", [pytest.param(r, marks=pytest.mark.slow) if r.get("slow") else r for r in ROWS],
                         ids=_row_id)
def test_expected_verdict(row: dict) -> None:
    results = _results(*_group(row))
    assert row["property"] in results, f"no result for {row['property']}: {sorted(results)}"
    res = results[row["property"]]
    assert res.verdict.value == row["verdict"], (
        f"{_row_id(row)}: expected {row['verdict']}, got {res.verdict.value} ({res.detail})"
    )
    if row["verdict"] in ("violated", "reached"):
        assert res.trace is not None, "a violation / witness must come with a trace"
        if row["verdict"] == "violated":
            assert res.trace.length > 0 or res.kind == "invariant"
    if "trace_length" in row:
        assert res.trace is not None and res.trace.length == row["trace_length"], (
            f"{_row_id(row)}: trace length {res.trace.length if res.trace else None}, "
            f"pinned {row['trace_length']}"
        )


def test_every_model_is_pinned() -> None:
    pinned = {r["model"] for r in ROWS}
    files = {p.relative_to(ROOT).as_posix() for p in MODELS.rglob("*.tcpspec")}
    missing = sorted(files - pinned)
    assert not missing, f"models without a row in models/expected.json: {missing}"
    stale = sorted(pinned - files)
    assert not stale, f"expected.json rows for models that do not exist: {stale}"


EXPECT_RE = re.compile(r"^//\s*expect:\s*(violated|unreached)\s+(\S+)\s*$")
DEFINES_RE = re.compile(r"^//\s*defines:\s*(.*)$")


def _header(path: Path) -> tuple[set[tuple[str, str]], tuple[tuple[str, str], ...]]:
    expects: set[tuple[str, str]] = set()
    defines: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := EXPECT_RE.match(line.strip()):
            expects.add((m.group(2), m.group(1)))
        elif m := DEFINES_RE.match(line.strip()):
            for item in m.group(1).split():
                name, _, value = item.partition("=")
                defines.append((name, value))
    return expects, tuple(sorted(defines))


BROKEN = sorted((MODELS / "broken").glob("*.tcpspec"))


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_broken_header_agrees_with_expected_json(path: Path) -> None:
    expects, defines = _header(path)
    assert expects, f"{path.name}: no '// expect: violated|unreached <property>' line"
    rel = path.relative_to(ROOT).as_posix()
    rows = [r for r in ROWS if r["model"] == rel and r["verdict"] in FAILING]
    pinned = {(r["property"], r["verdict"]) for r in rows}
    assert pinned == expects, f"{path.name}: header {sorted(expects)} vs expected.json {sorted(pinned)}"
    for r in rows:
        assert _defines(r) == defines, f"{path.name}: header defines {defines} vs row {_defines(r)}"
