"""Options that are off: the variables they alone change are constants to the prover's
candidates (engines/frozen.py), and the encoder runs no body whose guard is constantly false.
Both must leave every verdict as it was: the broken option below is caught once switched on."""

from __future__ import annotations

from pathlib import Path

from tcpspec.cli import main
from tcpspec.checker.const import const_value
from tcpspec.engines import lemmas as lm
from tcpspec.engines.frozen import frozen
from tcpspec.run.pipeline import load_model

ROOT = Path(__file__).resolve().parents[2]

MODEL = """
const OPT = false;
process P() {
  var w: seq32 = 3;
  var x: seq32 = 0;
  var y: seq32 = 0;
  var k: 0..7 = 0;
  transition grow when OPT && k < 7 { w := w + 1; k := k + 1; }
  transition tick when k < 7 {
    x := x + 1;
    y := x;
    w := if OPT then x else w;
    if OPT { k := 0; } else { k := k + 1; }
  }
  invariant w_fixed: w == 3;
}
instance p = P();
"""


def _path(tmp_path: Path) -> Path:
    path = tmp_path / "m.tcpspec"
    path.write_text(MODEL)
    return path


def test_a_variable_only_an_option_changes_is_frozen_while_it_is_off(tmp_path: Path) -> None:
    path = _path(tmp_path)
    off = frozen(load_model(str(path)))
    assert {k: const_value(v) for k, v in off.items()} == {"p.w": 3}  # x, y and k are written
    assert frozen(load_model(str(path), {"OPT": "true"})) == {}


def test_a_frozen_variable_has_one_candidate_and_no_relations(tmp_path: Path) -> None:
    model = load_model(str(_path(tmp_path)))
    cands = lm.generate(model)
    assert [(c.family, c.text) for c in cands if "p.w" in c.text] == [("frozen", "p.w == 3")]
    assert any(c.family == "rel" and "p.x" in c.text and "p.y" in c.text for c in cands)
    on = lm.generate(load_model(str(_path(tmp_path)), {"OPT": "true"}))
    assert any(c.family == "rel" and "p.w" in c.text for c in on)


def test_the_option_off_is_proved_and_on_is_caught(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = str(_path(tmp_path))
    assert main(["check", path, "--engine", "kind", "--no-cache"]) == 0
    assert "proved" in capsys.readouterr().out
    assert main(["check", path, "--engine", "kind", "--no-cache", "-D", "OPT=true"]) == 1
    assert main(["check", path, "--engine", "bmc", "--no-cache", "-D", "OPT=true"]) == 1
    assert "violated" in capsys.readouterr().out

