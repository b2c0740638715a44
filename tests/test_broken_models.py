"""models/broken/*.tcpspec are variants (`variant of "../MODEL.tcpspec" { ... }`): each is its base
model with one fault, written as the items that differ, so a change to the model reaches every
broken copy. Each one's verdicts are pinned in models/expected.json (tests/test_models_library.py);
here: that each is a small variant whose resolved model is its base but for the items it names,
and that the default check fails as pinned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tcpspec.frontend import ast
from tcpspec.frontend.parser import load_program, parse_text
from tcpspec.frontend.variant import kind_of, shape

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "models" / "broken").glob("*.tcpspec"))


def _items(program: ast.Program) -> dict[tuple[str, str, str], object]:
    """Every named item of a program, by (process or "", kind, name), without positions; fairness
    declarations by their targets."""
    out: dict[tuple[str, str, str], object] = {}
    for f in program.files:
        for d in f.decls:
            if isinstance(d, ast.ProcessDecl):
                for field in ("vars", "transitions", "properties", "finals", "defs"):
                    for m in getattr(d, field):
                        out[(d.name, kind_of(m), m.name)] = shape(m)
                out[("", "process", d.name)] = shape(d.params)
            elif isinstance(d, ast.FairDecl):
                out[("", "fair", repr(sorted(map(repr, shape(d.targets)))))] = shape(d)
            else:
                out[("", kind_of(d), getattr(d, "name", repr(shape(d))))] = shape(d)
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_broken_model_is_its_base_but_for_the_items_it_names(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    variant = parse_text(text, str(path)).variant
    assert variant is not None, f"{path.name}: not a variant (write it as 'variant of \"../MODEL.tcpspec\" {{ ... }}')"
    assert len(text.splitlines()) < 80, f"{path.name}: a variant holds the items that differ, not a copy"
    assert "FAULT" in text
    base = _items(load_program(str((path.parent / variant.base).resolve())))
    broken = _items(load_program(str(path)))
    named = {k for k, v in broken.items() if base.get(k) != v} | {k for k in base if k not in broken}
    assert named, f"{path.name}: resolves to its base unchanged"
    edits = set()
    for item in variant.items:
        decl = item.decl if isinstance(item, ast.Replace) else item
        if isinstance(item, ast.Drop) or isinstance(decl, ast.FairDecl):
            continue  # dropped items and fairness: compared below by count
        proc, _, name = decl.name.rpartition(".")
        edits.add((proc, kind_of(decl), name))
    other = {k for k in named if k[1] != "fair"} - edits
    assert not other, f"{path.name}: items changed that the variant does not name: {sorted(other)}"


def test_a_full_copy_converts_to_a_variant_of_the_same_model(tmp_path: Path) -> None:
    """models/broken/from_copy.py, for copies written the old way (a whole model, a line changed)."""
    tcp = (ROOT / "models" / "tcp.tcpspec").read_text(encoding="utf-8")
    copy_text = "// Broken copy of models/tcp.tcpspec (one fault).\n// expect: violated x\n\n" + tcp.replace(
        "    snd_nxt := snd_nxt + 1;\n    ack_pending := false;", "    ack_pending := false;   // FAULT\n", 1).replace(
        "const ATTACK = false;", "const ATTACK = true;").replace("  lemma ", "  lemma x_", 1)
    (tmp_path / "tcp.tcpspec").write_text(tcp, encoding="utf-8")
    (tmp_path / "broken").mkdir()
    copy = tmp_path / "broken" / "copy.tcpspec"
    copy.write_text(copy_text, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "models" / "broken" / "from_copy.py"), str(tmp_path / "tcp.tcpspec"),
                           str(copy)], capture_output=True, text=True, timeout=300, check=True)
    out = proc.stdout
    assert out.startswith("// Broken variant of tcp.tcpspec") and 'variant of "../tcp.tcpspec" {' in out
    assert "replace transition Endpoint.close" in out and "replace const ATTACK = true;" in out
    assert len(out.splitlines()) < 40
    variant = tmp_path / "broken" / "variant.tcpspec"
    variant.write_text(out, encoding="utf-8")
    assert _items(load_program(str(variant))) == _items(load_program(str(copy)))


# The default check (engine auto, depth 20) on every broken model: exit 1, and the pinned
# violations of the shortest length are reported at that length with their traces (the run stops
# at its first violation, after finishing that depth). These take 25-134 s each idle, minutes
# on a busy machine (BMC to depth 9-11 over every property; the WINDOW copies: every property
# with the windows' values to depth 4-6): run with TCPSPEC_LONG=1. Their verdicts are pinned
# and checked on every run by tests/test_models_library.py.
LONG = os.environ.get("TCPSPEC_LONG") == "1"
SLOW = {"tcp_last_ack_no_wait", "tcp_no_time_wait", "tcp_passive_time_wait",
        "tcp_window_ignored", "tcp_window_update_stale", "tcp_window_probe_open", "tcp_window_shrinks"}
ROWS = json.loads((ROOT / "models" / "expected.json").read_text(encoding="utf-8"))
BROKEN = [p.stem for p in FILES]


@pytest.mark.parametrize("variant", BROKEN)
def test_the_default_check_fails_at_the_shortest_depth(variant: str) -> None:
    if variant in SLOW and not LONG:
        pytest.skip("48-134 s: TCPSPEC_LONG=1")
    rows = [r for r in ROWS if r["model"] == f"models/broken/{variant}.tcpspec" and r["verdict"] == "violated"]
    shortest = min(r["trace_length"] for r in rows)
    proc = subprocess.run([sys.executable, "-m", "tcpspec", "check", str(ROOT / "models" / "broken" / f"{variant}.tcpspec"),
                           "--format", "json"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 1, proc.stderr
    by = {r["property"]: r for r in json.loads(proc.stdout)["results"]}
    for row in rows:
        got = by[row["property"]]
        if row["trace_length"] == shortest and got["kind"] != "lemma":
            assert got["verdict"] == "violated" and got["depth"] == shortest and got["trace"] is not None, got
        elif row["trace_length"] == shortest:  # a lemma: the explicit search's stop need not have looked at it
            assert got["verdict"] in ("violated", "unknown"), got
            assert got["verdict"] == "unknown" or got["depth"] == shortest, got
        else:  # longer: the run stopped before it, and says so (never `holds`)
            assert got["verdict"] in ("violated", "unknown"), got
    # Other properties may break in the same run (an off-by-one ack also acknowledges unsent
    # data), but only at the depth where the run stopped.
    assert {r["depth"] for r in by.values() if r["verdict"] == "violated"} == {shortest}
