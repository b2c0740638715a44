"""`def`, `let`, simultaneous assignment, and the warning on reads after writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lang_support import PATH, assert_positioned, bmc_agrees_with_search, check

from tcpspec.checker import ir
from tcpspec.cli import main
from tcpspec.core.diagnostics import render_diagnostic
from tcpspec.exporters.promela import ExportOptions, export_promela
from tcpspec.exporters.spin import run_spin, spin_available
from tcpspec.interp.search import explore
from tcpspec.core.results import Verdict

MODEL = """\
const N = 2;
enum St { IDLE, READY, DONE }
message M { v: 0..3 }
channel c: M[2];
def all_ready(): bool = forall j in 0..N-1: w[j].st != IDLE;
def sum(x: 0..3, y: 0..3): 0..6 = x + y;
process W() {
  var st: St = IDLE;
  var a: 0..3 = 1;
  var b: 0..3 = 2;
  def mine(k: 0..N-1): bool = w[k].st == st;
  def swapped(): bool = a == 2 && b == 1;
  transition go when st == IDLE { st := READY; }
  transition finish when st == READY && all_ready() && mine(self) { st := DONE; }
  transition swap when st == READY { a, b := b, a; }
  transition keep when st == DONE && a < 3 {
    let old = a;
    a := 3;
    b := old;
  }
  transition tell when st == DONE {
    let m = M { v: a };
    send c m;
  }
  invariant total: sum(a, b) == 3 || st == DONE;
  reachable was_swapped: swapped();
}
instance w[i in 0..N-1] = W();
reachable kept: w[0].a == 3 && w[0].b == 1;
reachable told: len(c) > 0 && c[0].v == 2;
"""


def test_defs_expand_and_lets_become_ir_lets() -> None:
    m = check(MODEL)
    swap = m.transition("w[0].swap")
    assert isinstance(swap, ir.Transition)
    assert [type(s).__name__ for s in swap.body] == ["Let", "Let", "Assign", "Assign"]
    keep = m.transition("w[1].keep")
    assert isinstance(keep, ir.Transition) and isinstance(keep.body[0], ir.Let)
    assert isinstance(keep.body[2], ir.Assign) and isinstance(keep.body[2].value, ir.Local)
    assert m.warnings == []


def test_engines_and_interpreter_agree_on_lets_and_swaps() -> None:
    m = check(MODEL)
    bmc = bmc_agrees_with_search(m, [p for p in m.properties if not p.builtin], 8, "bv")
    assert bmc["w[0].was_swapped"].verdict is Verdict.REACHED  # a, b := b, a swaps
    assert bmc["kept"].verdict is Verdict.REACHED  # b := old reads the value before a := 3
    assert bmc["told"].verdict is Verdict.REACHED


def test_a_def_is_read_where_it_is_written_not_where_it_is_called() -> None:
    text = MODEL.replace("def sum(x: 0..3, y: 0..3): 0..6 = x + y;", "def sum(x: 0..3, y: 0..3): 0..6 = x + k;")
    text = text.replace("transition go when st == IDLE", "transition go choose k: 0..1 when st == IDLE && sum(k, k) > 0")
    assert_positioned(text, "unknown name 'k'")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("def mine(k: 0..N-1): bool = w[k].st == st;", "def mine(k: 0..N-1): bool = mine(k);",
     "def 'mine' calls itself (mine -> mine)"),
    ("mine(self)", "mine(self, 1)", "def 'mine' takes 1 argument, not 2"),
    ("mine(self)", "mine(true)", "type mismatch: cannot assign bool to parameter 'k' of def 'mine' of type 0..1"),
    ("mine(self)", "mine(a)", "argument for parameter 'k' of def 'mine' may lie outside 0..1 (it may be 0..3)"),
    ("def swapped(): bool = a == 2 && b == 1;", "def swapped(): bool = a;",
     "type mismatch: cannot assign 0..3 to the result of def 'swapped' of type bool"),
    ("def swapped(): bool = a == 2 && b == 1;", "def swapped(): bool = a' == 2;",
     "a primed variable is only allowed in step properties"),
    ("reachable kept:", "reachable kept: size(w[0].a) == 0 &&", "unknown function 'size'; did you mean 'card'?"),
    ("a, b := b, a;", "a, b := b;", "2 targets but 1 value: write one value per target, 'a, b := x, y;'"),
    ("a, b := b, a;", "a, a := b, 1;", "'a' is assigned twice in one simultaneous assignment"),
    ("a, b := b, a;", "w[0].a := 1;", "cannot assign to 'w[...].a': a transition assigns its own instance's variables"),
    ("let old = a;", "let a = b;", "'a' already names something here; choose another name for the let"),
    ("b := old;", "old := 1;", "cannot assign to 'old': a let keeps the value it was given"),
])
def test_def_and_let_mistakes_are_positioned(old: str, new: str, message: str) -> None:
    assert old in MODEL
    assert_positioned(MODEL.replace(old, new, 1), message)


WARN = """\
process P() {
  var a: 0..3 = 1;
  var b: 0..3 = 2;
  var c: 0..3 = 0;
  transition bad {
    a := b;
    b := a;
  }
  transition fine {
    a := 1;
    if a == 1 { c := 2; }
  }
}
instance p = P();
reachable same: p.a == p.b;
"""


def test_a_read_after_a_write_is_a_warning_naming_both_lines() -> None:
    m = check(WARN)
    assert len(m.warnings) == 1
    (w,) = m.warnings
    assert w.severity == "warning" and w.span is not None and (w.span.line, w.span.col) == (7, 10)
    text = render_diagnostic(w, {PATH: WARN})
    assert text.startswith("m.tcpspec:7:10: warning: 'a' is read after the assignment on line 6")
    assert 'docs/language.md, "Sequential and simultaneous assignment"' in text


def test_the_warning_goes_to_stderr_and_keeps_the_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.tcpspec"
    path.write_text(WARN)
    assert main(["check", str(path), "--engine", "bmc", "--depth", "3", "--no-cache"]) == 0
    out = capsys.readouterr()
    assert "warning: 'a' is read after the assignment on line 6" in out.err
    assert "warning:" not in out.out


def test_the_warning_paragraph_exists() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "language.md").read_text()
    assert "### Sequential and simultaneous assignment" in doc


@pytest.mark.skipif(not spin_available(), reason="spin/gcc not installed (CI installs them)")
def test_spin_agrees_on_lets_and_swaps(tmp_path: Path) -> None:
    m = check(MODEL)
    res = run_spin(export_promela(m, ExportOptions()), tmp_path, optimize=False, timeout=600)
    assert res.complete, res.output[-2000:]
    props = [p for p in m.properties if not p.builtin]
    search = explore(m, 30, properties=props)
    for p in props:
        if p.kind is ir.PropertyKind.REACHABLE:
            assert (p.name in res.reached) == (search.traces[p.name] is not None), p.name
        else:
            assert (p.name in res.violated) == (search.traces[p.name] is not None), p.name
