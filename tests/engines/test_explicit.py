"""The explicit engine (engines/explicit.py): exhaustive proofs with TLC's figures and a
re-checked certificate, sampled domains that never prove, shortest replayed traces, the search
limits, depth-first and swarm search, deadlocks, data independence of sequence numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.engines.explicit import ExplicitOptions, run_explicit
from tcpspec.interp.search import replay
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import PropertyResult, Verdict

ROOT = Path(__file__).resolve().parents[2]
COUNTERS = (ROOT / "tests" / "data" / "counters.tcpspec").read_text() + "invariant x_tiny: p.x <= 1;\n"


def _model(tmp_path: Path, text: str) -> ir.Model:
    path = tmp_path / "m.tcpspec"
    path.write_text(text)
    return load_model(str(path))


def _run(model: ir.Model, depth: int = 20, **options: object) -> dict[str, PropertyResult]:
    keep_going = bool(options.pop("keep_going", True))
    opts = ExplicitOptions(**options)  # type: ignore[arg-type]
    return {r.property: r for r in run_explicit(model, list(model.properties), depth, 60.0, opts, keep_going)}


def test_a_published_spec_is_proved_with_tlcs_figures() -> None:
    """tlaplus/Examples' MCtcp: TLC finds 1182 distinct states, depth 14 (states, not steps)."""
    m = load_model(str(ROOT / "models" / "tlaplus_tcp.tcpspec"))
    res = _run(m)
    for name in ("Inv", "fits", "range_ok"):
        r = res[name]
        assert r.verdict is Verdict.PROVED, r.detail
        assert r.detail.startswith("exhaustive: 1182 states, diameter 13"), r.detail
        assert "certificate re-checked" in r.detail and r.certificate
    assert res["Inv"].search is not None and res["Inv"].search["exhaustive"] and res["Inv"].search["complete"]


def test_the_certificate_file_is_read_back_by_recheck(tmp_path: Path) -> None:
    cert = tmp_path / "c.cert"
    model = ROOT / "tests" / "data" / "counters.tcpspec"
    run = [sys.executable, "-m", "tcpspec"]
    out = subprocess.run(run + ["check", str(model), "--engine", "explicit", "--certificate", str(cert)],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "invariant explicit_reachable_states:" in cert.read_text()
    again = subprocess.run(run + ["recheck", str(model), str(cert)], capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 0 and "every obligation holds" in again.stdout, again.stdout + again.stderr
    # An edited certificate (one state dropped) is no longer inductive.
    text = cert.read_text()
    cert.write_text(text.replace("(p.x == 1 && p.y == 1)", "(p.x == 2 && p.y == 1)", 1))
    bad = subprocess.run(run + ["recheck", str(model), str(cert)], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode != 0


SAMPLED = """
process P() {
  var v: bv32;
  var done: bool = false;
  transition t when !done { done := true; }
}
instance p = P();
invariant not_seven: p.v != 7;
"""


def test_a_sampled_domain_is_never_a_proof(tmp_path: Path) -> None:
    m = _model(tmp_path, SAMPLED)
    r = _run(m)["not_seven"]
    assert r.verdict is Verdict.HOLDS  # every state reachable with v in {0, 2^32-1}: no proof for the others
    assert "sampled: p.v in {0, 4294967295}" in r.detail
    assert r.search is not None and not r.search["exhaustive"] and r.search["complete"]
    hit = _run(m, values={"v": [6, 7]})["not_seven"]  # --values v=6..7
    assert hit.verdict is Verdict.VIOLATED and hit.depth == 0 and hit.trace is not None
    assert hit.trace.steps[0].state["p.v"] == 7


def test_values_over_the_whole_type_make_the_search_exhaustive(tmp_path: Path) -> None:
    text = SAMPLED.replace("var v: bv32;", "var v: 0..1000;").replace("p.v != 7", "p.v <= 1000")
    m = _model(tmp_path, text)
    assert _run(m)["not_seven"].verdict is Verdict.HOLDS  # 0..1000 is sampled by default: {0, 1000}
    full = _run(m, values={"p.v": list(range(1001))})["not_seven"]
    assert full.verdict is Verdict.PROVED and full.detail.startswith("exhaustive: 2002 states, diameter 1")


def test_bfs_traces_are_shortest_and_replay(tmp_path: Path) -> None:
    m = _model(tmp_path, COUNTERS)
    res = _run(m)
    r = res["x_tiny"]
    assert r.verdict is Verdict.VIOLATED and r.depth == 2 and r.detail == "shortest over all values"
    assert r.trace is not None and replay(m, r.trace, m.property("x_tiny"), require_first=True).ok
    assert res["three"].verdict is Verdict.REACHED and res["three"].depth == 3
    assert res["x_small"].verdict is Verdict.PROVED


def test_the_run_stops_at_the_level_of_its_first_violation(tmp_path: Path) -> None:
    m = _model(tmp_path, COUNTERS)
    res = _run(m, keep_going=False)
    assert res["x_tiny"].verdict is Verdict.VIOLATED
    assert res["x_small"].verdict is Verdict.UNKNOWN and "stopped" in res["x_small"].detail
    assert res["three"].verdict is Verdict.UNKNOWN  # a witness deeper than the violation is not reported


def test_max_states_and_depth_bound(tmp_path: Path) -> None:
    m = _model(tmp_path, COUNTERS)
    cut = _run(m, max_states=2)["x_small"]
    assert cut.verdict is Verdict.UNKNOWN and "--max-states" in cut.detail
    bounded = _run(m, depth=1)
    assert bounded["x_small"].verdict is Verdict.HOLDS and bounded["x_small"].depth == 1
    assert bounded["three"].verdict is Verdict.UNREACHED and "within 1 step" in bounded["three"].detail


@pytest.mark.parametrize("search", ["dfs", "swarm"])
def test_depth_first_searches_find_violations_without_claiming_shortest(tmp_path: Path, search: str) -> None:
    m = _model(tmp_path, COUNTERS)
    r = _run(m, search=search)["x_tiny"]
    assert r.verdict is Verdict.VIOLATED and "not necessarily the shortest" in r.detail
    assert r.trace is not None and replay(m, r.trace, m.property("x_tiny")).ok


def test_deadlock_and_range_violations(tmp_path: Path) -> None:
    text = """
process P() {
  var x: 0..2 = 0;
  transition up when x < 2 { x := x + 1; }
}
instance p = P();
invariant fine: p.x <= 2;
"""
    m = _model(tmp_path, text)
    res = {r.property: r for r in check_model(m, CheckOptions(engine="explicit", deadlock=True, keep_going=True))}
    dead = res["deadlock_free"]
    assert dead.verdict is Verdict.VIOLATED and dead.depth == 2 and dead.engine == "explicit"
    over = _model(tmp_path, text.replace("x < 2", "x < 5"))
    r = _run(over)["range_ok"]
    assert r.verdict is Verdict.VIOLATED and r.depth == 3


def test_data_independence_covers_every_isn_of_tcp() -> None:
    m = load_model(str(ROOT / "models" / "broken" / "tcp_fin_no_consume.tcpspec"))
    props = [p for p in m.properties if p.name.endswith("fin_consumes_one")]
    res = run_explicit(m, props, 20, 60.0, keep_going=False)
    for r in res:
        assert r.verdict is Verdict.VIOLATED and r.depth == 4 and r.detail == "shortest over all values"
        assert r.search is not None and r.search["independent"] == ["client.iss", "server.iss"]
        assert r.search["exhaustive"] and not r.search["sampled"]


def test_a_read_opaque_value_starts_the_search_again_without_that_assumption(tmp_path: Path) -> None:
    """`t` starts at the constant 14 in the space of the free `s`: ISN 0 for `s` would miss
    s == 14 at the start; the constant is opaque, the target reads it, the search starts over
    with every value of `s` (seq4 is small) and finds the witness at depth 0."""
    text = """
process P() {
  var s: seq4;
  var t: seq4 = 14;
  transition inc when true { s := s + 1; }
}
instance p = P();
reachable meet: p.s == p.t;
"""
    r = _run(_model(tmp_path, text), depth=5)["meet"]
    assert r.verdict is Verdict.REACHED and r.depth == 0
    assert r.search is not None and r.search["opaque_reads"] == ["constant 14"] and not r.search["independent"]


def test_the_cli_options(tmp_path: Path) -> None:
    path = tmp_path / "m.tcpspec"
    path.write_text(SAMPLED)
    run = [sys.executable, "-m", "tcpspec", "check", str(path), "--engine", "explicit"]
    ok = subprocess.run(run + ["--values", "v=6..7", "--format", "json"], capture_output=True, text=True)
    assert ok.returncode == 1, ok.stderr
    doc = json.loads(ok.stdout)["results"][0]
    assert doc["verdict"] == "violated" and doc["search"]["sampled"] == {"p.v": [6, 7]}
    for bad, words in ((["--values", "w=1"], "no free value"), (["--values", "v=x"], "expected NAME=A..B"),
                       (["--values", "v=-1"], "not a value"), (["--max-states", "0"], "")):
        out = subprocess.run(run + bad, capture_output=True, text=True)
        assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_a_free_map_of_sequence_numbers_is_sampled_not_enumerated(tmp_path: Path) -> None:
    """`var iss: [0..1] -> seq32;` (no initial value) has 2^64 values: the search samples it
    (and so never proves), where it used to build the list of all of them (a MemoryError)."""
    m = _model(tmp_path, """\
process P() {
  var iss: [0..1] -> seq32;
  var sent: bool = false;
  transition go when !sent { sent := true; }
}
instance p = P();
invariant wrap: p.iss[0] + 1 != 0;
reachable gone: p.sent;
""")
    res = _run(m, depth=3)
    assert res["gone"].verdict is Verdict.REACHED
    wrap = res["wrap"]  # the sample holds 2^32 - 1, the value before the wrap-around
    assert wrap.verdict is Verdict.VIOLATED and wrap.trace is not None
    assert replay(m, wrap.trace, m.property("wrap"), require_first=True).ok
