"""`variant of "BASE" { ... }`: a model written as the items that differ from its base.

On a small counter model: each kind of edit does what it says and nothing else, every edit that
does not fit the base is a positioned error, the variant's file is read like any model file
(bounded, imports relative to it), and a variant goes through the checker, the engines, export,
replay, `tcpspec fmt` and the language server like any model.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tcpspec.cli import main
from tcpspec.core.diagnostics import ModelError
from tcpspec.fmt import format_text
from tcpspec.lsp.analysis import Analyzer
from tcpspec.frontend.parser import parse_text
from tcpspec.run.pipeline import CheckOptions, check_model, load_model

ROOT = Path(__file__).resolve().parents[1]
BASE = """const MAX = 3;
type Small = 0..7;

process Counter() {
  var x: Small = 0;

  /// Count up to MAX.
  transition inc when x < MAX { x := x + 1; }
  transition reset when x == MAX { x := 0; }

  invariant bounded: x <= MAX;
}

instance c = Counter();

reachable at_max: c.x == MAX;
"""


@pytest.fixture
def base(tmp_path: Path) -> Path:
    path = tmp_path / "counter.tcpspec"
    path.write_text(BASE, encoding="utf-8")
    return path


def variant(tmp_path: Path, body: str, name: str = "v.tcpspec", of: str = "counter.tcpspec") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'variant of "{of}" {{\n{body}}}\n', encoding="utf-8")
    return path


def verdicts(path: Path, depth: int = 6, **defines: str) -> dict[str, tuple[str, int | None]]:
    model = load_model(str(path), defines)
    results = check_model(model, CheckOptions(engine="bmc", depth=depth, keep_going=True))
    return {r.property: (r.verdict.value, r.trace.length if r.trace else None) for r in results if r.property != "range_ok"}


def error(path: Path) -> ModelError:
    with pytest.raises(ModelError) as info:
        load_model(str(path))
    return info.value


def test_the_base_holds(base: Path) -> None:
    assert verdicts(base) == {"c.bounded": ("holds", None), "at_max": ("reached", 3)}


def test_a_replaced_transition_breaks_what_the_base_keeps(base: Path, tmp_path: Path) -> None:
    v = variant(tmp_path, "  replace transition Counter.inc when x < 7 { x := x + 1; }  // FAULT\n")
    assert verdicts(v) == {"c.bounded": ("violated", 4), "at_max": ("reached", 3)}
    model = load_model(str(v))
    assert model.path == str(v)
    assert [t.name for t in model.transitions] == ["c.inc", "c.reset"]  # the base's order
    (inc,) = [t for t in model.transitions if t.name == "c.inc"]
    assert inc.doc == "Count up to MAX."  # a replacement without a doc keeps the base's


def test_replace_const_drop_and_add(base: Path, tmp_path: Path) -> None:
    v = variant(tmp_path, "  replace const MAX = 5;\n  drop reachable at_max;\n"
                          "  const LIMIT = 4;\n  reachable past_limit: c.x > LIMIT;\n"
                          "  lemma Counter.small: x <= 7;\n")
    assert verdicts(v) == {"c.bounded": ("holds", None), "c.small": ("holds", None), "past_limit": ("reached", 5)}
    assert load_model(str(v), {"MAX": "3"}).constants["MAX"] == 3  # -D still overrides


def test_every_kind_of_item_can_be_replaced(tmp_path: Path) -> None:
    base = tmp_path / "net.tcpspec"
    base.write_text("""enum Color { RED, GREEN }
message Msg { c: Color }
channel wire: Msg[1];
def first(): Color = RED;
process Src(out: chan Msg) {
  var sent: bool = false;
  def pick(): Color = first();
  transition emit when !sent { send out Msg { c: pick() }; sent := true; }
}
process Dst(inbox: chan Msg) {
  var got: bool = false;
  fair transition take receive m from inbox { got := true; }
  final done: got;
}
instance src = Src(out: wire);
instance dst = Dst(inbox: wire);
invariant red_only: len(wire) == 0 || true;
eventually delivered: dst.got;
""", encoding="utf-8")
    v = variant(tmp_path, """  replace enum Color { RED, GREEN, BLUE }
  replace message Msg { c: Color, n: 0..3 = 0 }
  replace channel wire: Msg[2] with loss;
  replace def first(): Color = BLUE;
  replace var Src.sent: bool = true;
  replace def Src.pick(): Color = GREEN;
  replace final Dst.done: true;
  replace instance dst = Dst(inbox: wire);
  replace invariant red_only: true;
  replace eventually delivered: true;
  replace fair transition Src.emit when sent { skip; }
""", of="net.tcpspec")
    model = load_model(str(v))
    assert model.channel("wire").capacity == 2
    assert [p.name for p in model.properties + model.liveness] == ["red_only", "delivered"]
    assert model.fairness.get("src.emit") == "weak" and "dst.take" in model.fairness


def test_a_variant_of_a_variant_composes(base: Path, tmp_path: Path) -> None:
    variant(tmp_path, "  replace const MAX = 2;\n", "v1.tcpspec")
    v2 = variant(tmp_path, "  replace transition Counter.reset when x == MAX { x := 1; }\n", "v2.tcpspec",
                 of="v1.tcpspec")
    assert verdicts(v2) == {"c.bounded": ("holds", None), "at_max": ("reached", 2)}
    model = load_model(str(v2))
    assert model.constants["MAX"] == 2 and set(model.sources) == {str(base), str(tmp_path / "v1.tcpspec"), str(v2)}


def test_a_missing_item_is_an_error_at_its_name(base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v = variant(tmp_path, "  replace transition Counter.incr when x < 7 { x := x + 1; }\n")
    (d,) = error(v).diagnostics
    assert (d.span.file, d.span.line, d.span.col, d.span.end_col) == (str(v), 2, 22, 34)
    assert "no transition 'incr' in process 'Counter'" in d.message and "did you mean 'inc'?" in d.notes
    assert main(["check", str(v)]) == 2
    err = capsys.readouterr().err
    assert f"{v}:2:22: error:" in err and "^^^^^^^^^^^^" in err


@pytest.mark.parametrize("body,message", [
    ("  replace invariant bounded: c.x < 9;\n", "there is no invariant 'bounded' in the base"),
    ("  replace lemma Counter.bounded: x < 9;\n", "'bounded' is a invariant"),
    ("  replace transition Client.inc { skip; }\n", "no process 'Client' in the base"),
    ("  replace transition c.inc { skip; }\n", "no process 'c'"),
    ("  drop transition inc;\n", "a transition belongs to a process"),
    ("  replace const MAXX = 4;\n", "there is no const 'MAXX'"),
    ("  replace fair Counter.inc;\n", "no fairness declaration of Counter.inc"),
    ("  const MAX = 4;\n", "'MAX' is already in the base"),
    ("  transition Counter.inc { skip; }\n", "'Counter.inc' is already in the base"),
    ("  replace const MAX = 4;\n  replace const MAX = 5;\n", "a second change of const 'MAX'"),
    ("  replace depth 3;\n", "overrides the base's: write it without 'replace'"),
])
def test_edits_that_do_not_fit_the_base(base: Path, tmp_path: Path, body: str, message: str) -> None:
    v = variant(tmp_path, body)
    diags = error(v).diagnostics
    assert any(message in d.message for d in diags), [d.message for d in diags]
    if "invariant bounded" in body:
        assert "a process's invariant is named with its process: 'Counter.bounded'" in diags[0].notes
    assert all(d.span is not None and d.span.file == str(v) for d in diags)


def test_a_replacement_that_does_not_type_check_is_reported_in_the_variant(base: Path, tmp_path: Path) -> None:
    v = variant(tmp_path, "  replace transition Counter.inc when x < MAX {\n    x := true;\n  }\n")
    (d,) = error(v).diagnostics
    assert d.span.file == str(v) and d.span.line == 3, d


def test_the_base_and_imports_are_read_like_imports(base: Path, tmp_path: Path) -> None:
    (tmp_path / "sub" / "lib").mkdir(parents=True)
    (tmp_path / "sub" / "lib" / "extra.tcpspec").write_text("const EXTRA = 6;\n", encoding="utf-8")
    v = tmp_path / "sub" / "v.tcpspec"
    v.write_text('import "lib/extra.tcpspec";\nvariant of "../counter.tcpspec" {\n'
                 "  replace transition Counter.inc when x < EXTRA { x := x + 1; }\n}\n", encoding="utf-8")
    assert verdicts(v, depth=7)["c.bounded"] == ("violated", 4)
    missing = variant(tmp_path, "", of="nowhere.tcpspec")
    (d,) = error(missing).diagnostics
    assert "cannot read base model" in d.message and (d.span.line, d.span.col) == (1, 12)
    os.mkfifo(tmp_path / "fifo.tcpspec")
    (d,) = error(variant(tmp_path, "", of="fifo.tcpspec")).diagnostics
    assert "a FIFO" in d.message and d.span.line == 1
    (d,) = error(variant(tmp_path, "", of="counter.txt")).diagnostics
    assert ".tcpspec file" in d.message


def test_the_base_counts_toward_the_programs_limit(base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tcpspec.frontend import parser

    v = variant(tmp_path, "  replace const MAX = 4;\n")
    monkeypatch.setattr(parser, "MAX_PROGRAM_BYTES", len(BASE) + 10)  # the base fits alone, not with the variant
    (d,) = error(v).diagnostics
    assert "too large" in d.message and d.span is not None and d.span.file == str(v)


def test_a_variant_of_itself_is_an_error(tmp_path: Path) -> None:
    variant(tmp_path, "", "a.tcpspec", of="b.tcpspec")
    b = variant(tmp_path, "", "b.tcpspec", of="a.tcpspec")
    (d,) = error(b).diagnostics
    assert "is a variant of this file" in d.message


def test_the_syntax_is_only_for_variants(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="qualified name"):
        parse_text("process P() { var x: bool; transition P.t { skip; } }\n", "p.tcpspec")
    with pytest.raises(ModelError, match="holds its imports and its 'variant of' block only"):
        parse_text('const A = 1;\nvariant of "b.tcpspec" { }\n', "p.tcpspec")
    with pytest.raises(ModelError, match="expected 'of'"):
        parse_text('variant off "b.tcpspec" { }\n', "p.tcpspec")
    with pytest.raises(ModelError, match="'drop' names the item"):
        parse_text('variant of "b.tcpspec" { drop const A = 1; }\n', "p.tcpspec")


def test_fmt_lays_variants_out_and_is_a_fixed_point() -> None:
    messy = ('variant of "counter.tcpspec"{\nreplace   transition Counter.inc when x<MAX{x:=x+1;}\n'
             "  drop reachable at_max ;\n}\n")
    once = format_text(messy)
    assert once == ('variant of "counter.tcpspec" {\n  replace transition Counter.inc when x < MAX { x := x + 1; }\n'
                    "  drop reachable at_max;\n}\n")
    for path in sorted((ROOT / "models" / "broken").glob("*.tcpspec")):
        text = path.read_text(encoding="utf-8")
        assert format_text(text) == text, path.name


def test_the_language_server_reports_a_bad_edit(base: Path, tmp_path: Path) -> None:
    v = variant(tmp_path, "  replace const MAX = 4;\n")
    analyzer = Analyzer()
    assert analyzer.analyze(str(v)).diagnostics[str(v)] == []
    analyzer.set_text(str(v), 'variant of "counter.tcpspec" {\n  drop transition Counter.nope;\n}\n')
    (d,) = analyzer.analyze(str(v)).diagnostics[str(v)]
    assert (d.span.line, d.span.col) == (2, 19) and "no transition 'nope'" in d.message


def test_engines_export_and_replay_take_a_variant(base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v = variant(tmp_path, "  replace transition Counter.inc when x < 7 { x := x + 1; }\n")
    trace = tmp_path / "cex.itf.json"
    assert main(["check", str(v), "--engine", "explicit", "--depth", "6", "--prop", "bounded"]) == 1
    assert main(["check", str(v), "--engine", "bmc", "--depth", "6", "--prop", "bounded",
                 "--trace-out", str(trace)]) == 1
    assert main(["replay", str(v), str(trace)]) == 0
    assert main(["replay", str(base), str(trace)]) == 1  # the base cannot take the faulty step
    capsys.readouterr()
    assert main(["export", str(v), "--to", "promela"]) == 0
    assert "x < 7" in capsys.readouterr().out
    assert main(["export", str(v), "--to", "smtlib"]) == 0
    assert "(set-logic" in capsys.readouterr().out
