"""The proof cache (tcpspec/proof/cache.py): a second check of an unchanged model re-checks the
earlier certificate instead of searching again; nothing in the cache is trusted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tcpspec.proof import cache as proof_cache
from tcpspec.engines.prover import prove
from tcpspec.run.pipeline import load_model

ROOT = Path(__file__).resolve().parents[1]
COUNTERS = (ROOT / "tests" / "data" / "counters.tcpspec").read_text()
FROM_CACHE = "from the proof cache"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(proof_cache.ENV_OFF, raising=False)
    monkeypatch.setenv(proof_cache.ENV_DIR, str(tmp_path / "cache"))
    return tmp_path / "cache" / "proofs"


@pytest.fixture
def counters(tmp_path: Path) -> str:
    path = tmp_path / "counters.tcpspec"
    path.write_text(COUNTERS)
    return str(path)


def _prove(path: str, defines: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    m = load_model(path, defines or {})
    return m, prove(m, [m.property("x_small"), m.property("p.tick_moves_both")], 60)


def test_a_second_run_rechecks_the_cached_certificate(cache: Path, counters: str) -> None:
    _, first = _prove(counters)
    assert all(o.proved for o in first.values()) and FROM_CACHE not in first["x_small"].detail
    (entry,) = cache.glob("*.cert")
    assert "invariant" in entry.read_text() and "x_small" in entry.read_text()
    _, second = _prove(counters)
    assert all(o.proved for o in second.values())
    assert FROM_CACHE in second["x_small"].detail, second["x_small"].detail


def test_the_key_follows_the_model_text_and_constants(cache: Path, counters: str, tmp_path: Path) -> None:
    m, _ = _prove(counters)
    other = tmp_path / "other.tcpspec"
    other.write_text(COUNTERS.replace("// Two counters", "// Two other counters"))
    assert proof_cache.key(load_model(str(other)), "auto") != proof_cache.key(m, "auto")
    assert proof_cache.key(m, "int") != proof_cache.key(m, "auto")
    _, again = _prove(str(other))  # a changed file is proved afresh, not from the cache
    assert FROM_CACHE not in again["x_small"].detail


@pytest.mark.parametrize("tamper", [
    lambda t: t.replace("p.x == p.y", "p.x == p.y + 1"),  # false initially
    lambda t: "\n".join(ln for ln in t.splitlines() if "p.y" not in ln),  # the lemmas dropped: not inductive
    lambda t: t.replace("invariant", "invariant broken: ;\ninvariant", 1),  # not model text
])
def test_a_tampered_entry_is_not_trusted(cache: Path, counters: str, tamper) -> None:  # type: ignore[no-untyped-def]
    _prove(counters)
    (entry,) = cache.glob("*.cert")
    entry.write_text(tamper(entry.read_text()))
    _, out = _prove(counters)
    assert all(o.proved for o in out.values())  # found again by the search
    assert FROM_CACHE not in out["x_small"].detail


def test_a_false_claim_in_the_cache_cannot_prove_a_violated_property(cache: Path, tmp_path: Path) -> None:
    """An entry planted under the key of a model whose x_small is false (x runs to 5)."""
    path = tmp_path / "runaway.tcpspec"
    path.write_text(COUNTERS.replace("transition tick when y < 3", "transition tick when y < 5"))
    m = load_model(str(path))
    cache.mkdir(parents=True)
    (cache / f"{proof_cache.key(m, 'auto')}.cert").write_text(
        "// tcpspec proof certificate for the model\n"
        "// transition (1-inductive); it implies the proved properties:\n"
        "//   x_small\n"
        "invariant x_small: p.x <= 3;\n"
        "invariant lemma_0: p.x == p.y;\n")
    out = prove(m, [m.property("x_small")], 60)
    assert not out["x_small"].proved


EARLIER = "earlier version of this model file"


def test_an_edited_model_is_proved_by_its_earlier_certificate(cache: Path, counters: str) -> None:
    _prove(counters)
    Path(counters).write_text(COUNTERS.replace("// Two counters", "// Two edited counters") + "invariant y_small: p.y <= 3;\n")
    m = load_model(counters)
    wanted = [m.property("x_small"), m.property("y_small"), m.property("p.tick_moves_both")]
    out = prove(m, wanted, 60)
    assert all(o.proved for o in out.values()), out
    assert EARLIER in out["y_small"].detail, out["y_small"].detail  # a new property, implied by the old proof
    again = prove(m, wanted, 60)  # the new text has its own entry now
    assert FROM_CACHE in again["y_small"].detail and EARLIER not in again["y_small"].detail


@pytest.mark.parametrize("edit, proved", [
    (lambda t: t.replace("when y < 3", "when y < 5").replace("p.x <= 3", "p.x <= 5"), True),  # not inductive: searched
    (lambda t: t.replace("when y < 3", "when y < 5"), False),  # x_small is now false
    (lambda t: t.replace("y", "z"), True),  # every lemma over y no longer checks: searched
])
def test_an_earlier_certificate_that_no_longer_holds_is_not_trusted(cache: Path, counters: str, edit, proved: bool) -> None:  # type: ignore[no-untyped-def]
    _prove(counters)
    Path(counters).write_text(edit(COUNTERS))
    m = load_model(counters)
    out = prove(m, [m.property("x_small")], 60)
    assert out["x_small"].proved is proved, out["x_small"].detail
    assert EARLIER not in out["x_small"].detail


def test_an_earlier_certificate_loses_the_lines_that_no_longer_check(counters: str) -> None:
    from tcpspec.proof.recheck import earlier_certificate_for

    text = ("// tcpspec proof certificate for the model\n"
            "// transition (1-inductive); it implies the proved properties:\n"
            "//   gone\n"
            "//   x_small\n"
            "invariant lemma_0: p.x == p.y;\n"
            "invariant lemma_1: p.nope == 1;\n"
            "invariant lemma_2: p.x <= 3 && NOPE;\n"
            "invariant x_small: p.x <= 3;\n")
    model, cert = earlier_certificate_for(counters, text, {}, {"x_small", "three"})
    assert [c.name for c in cert.invariants] == ["lemma_0", "x_small"]
    assert cert.proved == ["x_small"]
    assert model.property("x_small") is not None
    assert earlier_certificate_for(counters, text.replace("//   x_small\n", ""), {}, {"x_small"}) is None


def test_no_cache_flag_writes_nothing(cache: Path, counters: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "tcpspec", "check", counters, "--engine", "kind", "--no-cache"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not cache.exists() or not list(cache.glob("*.cert"))
    proc = subprocess.run([sys.executable, "-m", "tcpspec", "check", counters, "--engine", "kind"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and list(cache.glob("*.cert"))


# ---------------------------------------------------------------- witnesses

LADDER = """\
message Note { zz: bool, aa: 0..9 }
channel notes: Note[1];
process P(out: chan Note) {
  var x: 0..9 = 0;
  var y: bool = false;
  transition up when x < 9 { x := x + 1; }
  transition flip { y := !y; }
  transition post when x == 2 { send out Note { zz: true, aa: x }; }
}
instance p = P(out: notes);
invariant below_six: p.x < 6;
reachable four: p.x == 4 && p.y && len(notes) == 1;
reachable eight: p.x == 8;
"""


def _check(path: str, **options):  # type: ignore[no-untyped-def]
    from tcpspec.run.pipeline import CheckOptions, check_model

    m = load_model(path)
    return {r.property: r for r in check_model(m, CheckOptions(engine="bmc", **options))}


@pytest.fixture
def ladder(tmp_path: Path) -> str:
    path = tmp_path / "ladder.tcpspec"
    path.write_text(LADDER)
    return str(path)


def test_a_second_run_replays_the_cached_witnesses(cache: Path, ladder: str) -> None:
    from tcpspec.run.pipeline import CACHED_WITNESS

    first = _check(ladder, keep_going=True)
    assert (first["four"].depth, first["eight"].depth) == (6, 8) and first["four"].detail != CACHED_WITNESS
    (entry,) = (cache.parent / "witnesses").glob("*.json")
    second = _check(ladder, keep_going=True)
    for name in ("four", "eight"):
        assert second[name].detail == CACHED_WITNESS
        assert (second[name].verdict, second[name].depth) == (first[name].verdict, first[name].depth)
        assert [s.state for s in second[name].trace.steps] == [s.state for s in first[name].trace.steps]
    assert second["below_six"].verdict is first["below_six"].verdict  # searched again: not a target
    assert entry.exists()


@pytest.mark.parametrize("tamper", [
    lambda t: t.replace('"p.y": true', '"p.y": false'),  # no longer reaches `four` at its end
    lambda t: t.replace('"transition": "p.flip"', '"transition": "p.up"'),  # not a run of the model
    lambda t: t[: len(t) // 2],  # not JSON
])
def test_a_tampered_witness_is_searched_again(cache: Path, ladder: str, tamper) -> None:  # type: ignore[no-untyped-def]
    from tcpspec.run.pipeline import CACHED_WITNESS

    first = _check(ladder, keep_going=True)
    (entry,) = (cache.parent / "witnesses").glob("*.json")
    text = entry.read_text()
    assert tamper(text) != text
    entry.write_text(tamper(text))
    again = _check(ladder, keep_going=True)
    assert again["four"].detail != CACHED_WITNESS
    assert (again["four"].verdict, again["four"].depth) == (first["four"].verdict, first["four"].depth)


def test_a_cached_witness_respects_the_bound_and_the_stop(cache: Path, ladder: str) -> None:
    _check(ladder, keep_going=True)
    shallow = _check(ladder, depth=6, keep_going=True)
    assert shallow["eight"].verdict.value == "unreached" and shallow["four"].depth == 6
    # Without --keep-going the run stops at below_six's violation (6 steps): the 8-step witness
    # is not reported, as BMC itself would not report it.
    stopped = _check(ladder)
    assert stopped["below_six"].verdict.value == "violated" and stopped["below_six"].depth == 6
    assert stopped["four"].verdict.value == "reached"
    assert (stopped["eight"].verdict.value, stopped["eight"].depth) == ("unknown", 6)


def test_witnesses_with_maps_and_sets_are_cached_and_replayed(cache: Path, tmp_path: Path) -> None:
    """A witness whose states hold a map and a set is stored (it used to stop the run with a
    TypeError: a map is not JSON) and read back equal, then replayed."""
    from tcpspec.run.pipeline import CACHED_WITNESS

    path = tmp_path / "maps.tcpspec"
    path.write_text("""\
process P() {
  var m: [0..2] -> bool = [k in 0..2 -> false];
  var s: set of 0..2 = {};
  transition put choose k: 0..2 when !m[k] { m[k] := true; s := s + {k}; }
}
instance p = P();
reachable two: p.m[0] && p.m[2] && card(p.s) == 2;
""")
    first = _check(str(path))
    second = _check(str(path))
    assert first["two"].depth == 2 and second["two"].detail == CACHED_WITNESS
    assert [s.state for s in second["two"].trace.steps] == [s.state for s in first["two"].trace.steps]
