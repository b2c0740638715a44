"""k-induction with simple-path constraints (engines/kinduction.py) and its use by `kind`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.engines.prover import prove
from tcpspec.engines.kinduction import k_induction, recheck_k
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict

# Textbook: x only takes 0 and 2, so never 3. Not 1-inductive (x = 1 steps to 3); 2-inductive
# (the state before x = 1 would be x = -1).
TWO = """
process P() {
  var x: 0..10 = 0;
  transition step2 when x < 2 { x := x + 2; }
}
instance p = P();
invariant never_three: p.x != 3;
"""

# x = 1 is unreachable, loops on itself and steps to 2. Without simple-path constraints the
# path 1, 1, ..., 1, 2 defeats every k; with them k = 2 proves x != 2.
LOOP = """
process P() {
  var x: 0..3 = 0;
  transition stay when x == 1 { x := 1; }
  transition go when x == 1 { x := 2; }
  transition idle when x == 0 { x := 0; }
}
instance p = P();
invariant never_two: p.x != 2;
"""

# A step property that needs 2-induction: the step out of x = 1 breaks it, and x = 1 is only
# reachable from x = -1.
STEP = """
process P() {
  var x: 0..10 = 0;
  transition step2 when x < 2 { x := x + 2; }
  step no_jump_to_three: ensure x' != 3;
}
instance p = P();
"""


def _model(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "m.tcpspec"
    path.write_text(text)
    return load_model(str(path))


def test_two_inductive_not_one_inductive(tmp_path: Path) -> None:
    m = _model(tmp_path, TWO)
    p = m.property("never_three")
    assert not k_induction(m, [p], 1, 30)["never_three"].proved
    out = k_induction(m, [p], 4, 30)["never_three"]
    assert out.proved and out.k == 2 and "re-checked" in out.detail
    assert recheck_k(m, p, 2, []) is None
    assert recheck_k(m, p, 1, []) is not None  # a k too small is rejected by the re-check


@pytest.mark.parametrize("simple_path,proved", [(True, True), (False, False)])
def test_simple_path_is_needed(tmp_path: Path, simple_path: bool, proved: bool) -> None:
    m = _model(tmp_path, LOOP)
    out = k_induction(m, [m.property("never_two")], 6, 30, simple_path=simple_path)["never_two"]
    assert out.proved is proved
    if proved:
        assert out.k == 2


def test_step_property(tmp_path: Path) -> None:
    m = _model(tmp_path, STEP)
    out = k_induction(m, [m.property("p.no_jump_to_three")], 4, 30)["p.no_jump_to_three"]
    assert out.proved and out.k == 2


def test_violation_is_not_proved(tmp_path: Path) -> None:
    m = _model(tmp_path, TWO.replace("p.x != 3", "p.x != 2"))
    out = k_induction(m, [m.property("never_three")], 4, 30)["never_three"]
    assert not out.proved and "violated" in out.detail


def test_kind_uses_k_induction_for_what_1_induction_leaves(tmp_path: Path) -> None:
    m = _model(tmp_path, TWO)
    assert not prove(m, [m.property("never_three")], 30, k_max=1)["never_three"].proved
    o = prove(m, [m.property("never_three")], 30)["never_three"]
    assert o.proved and o.certificate is not None and o.certificate.k == 2 and o.cti is None
    r = check_model(m, CheckOptions(engine="kind", properties=("never_three",), depth=4))[0]
    assert r.verdict is Verdict.PROVED and "2-inductive" in r.detail
    assert "2-induction proves" in r.certificate and "simple-path k-induction" in r.certificate
