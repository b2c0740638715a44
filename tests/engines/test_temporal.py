"""`temporal` properties (always eventually, eventually always, leads-to and their Boolean
combinations): real verdicts, lassos replayed on the interpreter, stopped runs, every engine,
reports (text, JSON, ITF), properties per instance, positioned errors; and a differential test
against a brute-force search of every run with an evaluator written independently of tcpspec.checker.ltl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcpspec.interp import semantics as interp

from tcpspec.checker import ir
from tcpspec.cli import main
from tcpspec.core.diagnostics import ModelError
from tcpspec.engines.liveness import run_liveness
from tcpspec.interp.search import replay
from tcpspec.interp.live import fairness_problem, lasso_problem, same_state
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict
from tcpspec.core.trace import Trace, TraceStep
from test_liveness import HALTING as HALTING_MODEL
from test_liveness import LIGHTS as LIGHTS_MODEL

ROOT = Path(__file__).resolve().parents[2]

# The pedestrian light of test_liveness.py (`idle` keeps GREEN until someone presses), with
# `change` weakly fair and temporal properties instead of its eventually / leads_to.
LIGHTS = LIGHTS_MODEL.split("FAIRNESS")[0] + """fair l.change;
temporal red_often: always eventually l.c == RED;
temporal press_then_red: always eventually l.pressed ==> always eventually l.c == RED;
temporal settles: eventually always l.c == GREEN;
temporal press_leads: always (l.pressed ==> eventually l.c == RED);
temporal not_idle_forever: !(eventually always l.c == GREEN && eventually always !l.pressed);
"""


def _model(tmp_path: Path, text: str, name: str = "m.tcpspec") -> ir.Model:
    path = tmp_path / name
    path.write_text(text)
    return load_model(str(path))


def _live(model: ir.Model, depth: int, *names: str) -> dict:
    props = [model.property(n) for n in names] if names else list(model.liveness)
    return {r.property: r for r in run_liveness(model, props, depth, 60)}


def test_verdicts_and_lassos_on_the_light(tmp_path: Path) -> None:
    m = _model(tmp_path, LIGHTS)
    res = _live(m, 8)
    assert {k: r.verdict for k, r in res.items()} == {
        "red_often": Verdict.VIOLATED, "press_then_red": Verdict.HOLDS, "settles": Verdict.VIOLATED,
        "press_leads": Verdict.HOLDS, "not_idle_forever": Verdict.VIOLATED}
    for name in ("red_often", "not_idle_forever"):  # idle forever, nobody presses
        t = res[name].trace
        assert t is not None and t.loop == 0 and [s.transition for s in t.steps[1:]] == ["l.idle"]
    t = res["settles"].trace  # press and cycle forever: GREEN is left again and again
    assert t is not None and t.loop is not None and t.length == 4
    assert [s.transition for s in t.steps[1:]] == ["l.press", "l.change", "l.change", "l.change"]
    for name in ("red_often", "settles", "not_idle_forever"):
        r = res[name]
        assert r.kind == "temporal" and r.engine == "bmc" and "violating the formula" in r.detail
        assert same_state(m, r.trace.steps[-1].state, r.trace.steps[r.trace.loop].state)
        assert replay(m, r.trace, m.property(name)).ok
    assert "bounded; not a proof" in res["press_leads"].detail


def test_weak_fairness_of_press_makes_the_light_cycle(tmp_path: Path) -> None:
    m = _model(tmp_path, LIGHTS.replace("fair l.change;", "fair l.change, l.press;"))
    res = _live(m, 8)
    assert res["red_often"].verdict is Verdict.HOLDS and res["not_idle_forever"].verdict is Verdict.HOLDS
    assert res["settles"].verdict is Verdict.VIOLATED


def test_replay_rejects_a_lasso_that_satisfies_the_formula(tmp_path: Path) -> None:
    m = _model(tmp_path, LIGHTS)
    t = _live(m, 8, "settles")["settles"].trace
    assert t is not None
    assert lasso_problem(m, t, m.property("settles")) is None
    why = lasso_problem(m, t, m.property("press_leads"))  # the cycle does reach RED after every press
    assert why is not None and "satisfies the formula of press_leads" in why
    assert lasso_problem(m, Trace(t.steps, loop=2), m.property("settles")) is not None  # does not close


HALTING = HALTING_MODEL.replace("eventually finishes: w.done;\n", "") + """\
temporal finishes_for_good: eventually always w.done;
temporal not_halted_for_good: !(eventually always w.halted);
temporal halts_or_finishes: eventually always (w.done || w.halted);
"""


def test_a_stopped_run_is_its_last_state_forever(tmp_path: Path) -> None:
    m = _model(tmp_path, HALTING)
    res = _live(m, 4)
    for name in ("finishes_for_good", "not_halted_for_good"):
        r = res[name]
        assert r.verdict is Verdict.VIOLATED and r.trace is not None and r.trace.loop is None
        assert [s.transition for s in r.trace.steps[1:]] == ["w.halt"] and "stops" in r.detail
        assert replay(m, r.trace, m.property(name)).ok
    assert res["halts_or_finishes"].verdict is Verdict.HOLDS


@pytest.mark.parametrize("engine", ["bmc", "explicit", "kind", "pdr", "auto"])
def test_every_engine_gives_the_lasso_verdicts(tmp_path: Path, engine: str) -> None:
    m = _model(tmp_path, LIGHTS)
    results = check_model(m, CheckOptions(depth=6, engine=engine, timeout=60, keep_going=True))
    by = {r.property: r for r in results}
    assert {k: r.verdict.value for k, r in by.items()} == {
        "red_often": "violated", "press_then_red": "holds", "settles": "violated", "press_leads": "holds",
        "not_idle_forever": "violated"}
    assert all(r.verdict is not Verdict.PROVED for r in results)  # bounded: never proved
    assert by["settles"].trace is not None and by["settles"].trace.loop is not None


def test_cli_reports_text_json_and_itf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lights.tcpspec"
    path.write_text(LIGHTS)
    assert main(["check", str(path), "--prop", "settles", "--depth", "6"]) == 1
    out = capsys.readouterr().out
    assert "violated   settles  temporal" in out and "(lasso of 4 steps, looping back to step 0)" in out
    assert "(back at step 0: steps 1..4 repeat forever)" in out
    itf = tmp_path / "cex.itf.json"
    assert main(["check", str(path), "--kind", "temporal", "--depth", "6", "--format", "json", "--keep-going",
                 "--trace-out", str(itf)]) == 1
    results = {r["property"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert results["settles"]["kind"] == "temporal" and results["settles"]["trace"]["loop"] == 0
    assert results["press_leads"]["verdict"] == "holds"
    assert json.loads(itf.read_text())["loop"] == 0
    assert main(["check", str(path), "--kind", "temporal", "--prop", "press_leads", "--depth", "4"]) == 0
    assert "1 holds, no violation within 4 steps (bounded, not proved): 1 temporal property" in capsys.readouterr().out


def test_depth_declaration_for_temporal(tmp_path: Path) -> None:
    m = _model(tmp_path, LIGHTS + "depth 3 for temporal;\n")
    assert m.default_depth(ir.PropertyKind.TEMPORAL) == 3
    (r,) = check_model(m, CheckOptions(properties=("press_leads",)))
    assert r.verdict is Verdict.HOLDS and r.depth == 3


def test_temporal_in_a_process_family_is_per_member(tmp_path: Path) -> None:
    text = """
const N = 2;
process Toggler(id: 0..N-1) {
  var lit: bool = false;
  fair transition flip { lit := !lit; }
  temporal flickers: always eventually lit && always eventually !lit;
  temporal stays_off: eventually always !lit;
}
instance t[i in 0..N-1] = Toggler(id: i);
"""
    m = _model(tmp_path, text)
    res = _live(m, 6)
    assert sorted(res) == ["t[0].flickers", "t[0].stays_off", "t[1].flickers", "t[1].stays_off"]
    assert res["t[1].flickers"].verdict is Verdict.HOLDS
    r = res["t[1].stays_off"]
    assert r.verdict is Verdict.VIOLATED and r.trace is not None and r.trace.loop is not None
    assert replay(m, r.trace, m.property("t[1].stays_off")).ok


def test_models_library_abp_weak_fairness_lasso() -> None:
    weak = load_model(str(ROOT / "models/broken/abp_weak_fairness.tcpspec"))
    res = _live(weak, 6, "transfer_ends_for_good", "retransmissions_deliver")
    for name, r in res.items():
        assert r.verdict is Verdict.VIOLATED and r.trace is not None and r.trace.loop == 0
        assert [s.transition for s in r.trace.steps[1:]] == ["sender.transmit", "data.loss"]
        assert replay(weak, r.trace, weak.property(name)).ok
    strong = load_model(str(ROOT / "models/abp.tcpspec"))  # the same lasso is unfair there
    assert fairness_problem(strong, res["retransmissions_deliver"].trace) is not None


# ---------------------------------------------------------------- positioned errors

ERRORS = [
    ("invariant i: always l.c == RED;", 13, 14, "'always' is a temporal operator: it belongs in a `temporal` property"),
    ("temporal t: always l.c == RED;", 13, 13, "is `always P`, a safety property: write `invariant t: P;`"),
    ("temporal t: eventually l.c == RED && l.pressed;", 13, 38, "a state predicate outside `always` / `eventually`"),
    ("temporal t: l.pressed ==> eventually l.c == RED;", 13, 13, "or `always (P ==> eventually Q)`"),
    ("temporal t: always (l.pressed ==> eventually always l.c == RED);", 13, 46,
     "'always' nested here is outside the supported fragment: `always P`, `eventually P`"),
    ("temporal t: eventually (l.pressed && always l.c == RED);", 13, 38, "nested here is outside the supported fragment"),
    ("temporal t: always always l.pressed;", 13, 20, "nested here is outside the supported fragment"),
    ("temporal t: always eventually l.c;", 13, 31, "the state predicate of temporal 't' must be a bool, not Light"),
    ("temporal t: if l.pressed then always l.pressed else true;", 13, 31, "inside an expression of temporal 't'"),
    ("eventually e: always l.pressed;", 13, 15, "'always' is a temporal operator"),
]


@pytest.mark.parametrize("text,line,col,message", ERRORS)
def test_misuse_is_a_positioned_error(tmp_path: Path, text: str, line: int, col: int, message: str) -> None:
    base = LIGHTS.split("fair l.change;")[0].strip() + "\n"
    assert base.count("\n") == 12
    with pytest.raises(ModelError) as e:
        _model(tmp_path, base + text + "\n")
    d = e.value.diagnostics[0]
    assert (d.span.line, d.span.col) == (line, col) and message in d.message, (d.span, d.message)


def test_export_names_the_temporal_properties_it_cannot_export(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lights.tcpspec"
    path.write_text(LIGHTS)
    assert main(["export", str(path), "--to", "promela", "--prop", "settles"]) == 2
    assert "liveness properties are not exported yet: settles" in capsys.readouterr().err


# ---------------------------------------------------------------- differential: brute force

# A counter that wraps, a bit, and a way to stop for good.
COUNTER = """
process P() {
  var x: 0..3 = 0;
  var b: bool = false;
  var stopped: bool = false;
  transition inc when !stopped && x < 3 { x := x + 1; }
  transition wrap when !stopped && x == 3 { x := 0; b := !b; }
  transition flip when !stopped && x != 2 { b := !b; }
  transition stop when !stopped && x == 1 && b { stopped := true; }
}
instance p = P();
FAIRNESS
temporal f1: always eventually p.x == 0;
temporal f2: eventually always p.b;
temporal f3: always eventually p.b ==> always eventually p.x == 3;
temporal f4: eventually always !p.b ==> eventually p.x == 2;
temporal f5: always (p.x == 1 ==> eventually p.x == 2);
temporal f6: !(eventually always p.x == 3 && always eventually p.b);
temporal f7: eventually p.stopped || always eventually p.x == 0;
temporal f8: always eventually p.x == 3 ==> eventually always p.b;
temporal f9: eventually p.x == 3 && !(eventually always p.stopped);
"""


def _reach(i: int, last: int, loop: int) -> set[int]:
    """Positions reachable from i on the lasso graph (i -> i+1, last -> loop)."""
    seen, j = set(), i
    while j not in seen:
        seen.add(j)
        j = j + 1 if j < last else loop
    return seen


def _sat(f: ir.Temporal, val, last: int, loop: int) -> bool:  # type: ignore[no-untyped-def]
    """LTL on the lasso graph by reachability: independent of tcpspec.checker.ltl's index arithmetic."""
    r0 = _reach(0, last, loop)
    op = f.op
    if op is ir.TemporalOp.ALWAYS:
        return all(val(f.expr, j) for j in r0)
    if op is ir.TemporalOp.EVENTUALLY:
        return any(val(f.expr, j) for j in r0)
    if op is ir.TemporalOp.INFINITELY_OFTEN:
        return all(any(val(f.expr, k) for k in _reach(j, last, loop)) for j in r0)
    if op is ir.TemporalOp.PERSISTENT:
        return any(all(val(f.expr, k) for k in _reach(j, last, loop)) for j in r0)
    if op is ir.TemporalOp.LEADS_TO:
        return all(not val(f.when, i) or any(val(f.expr, k) for k in _reach(i, last, loop)) for i in r0)
    a = [_sat(x, val, last, loop) for x in f.args]
    return {ir.TemporalOp.NOT: lambda: not a[0], ir.TemporalOp.AND: lambda: a[0] and a[1],
            ir.TemporalOp.OR: lambda: a[0] or a[1], ir.TemporalOp.IMPLIES: lambda: not a[0] or a[1]}[op]()


def _shortest_violation(m: ir.Model, prop: ir.Property, depth: int) -> int | None:
    """The fewest steps of a fair lasso or stopped run (of up to `depth` steps) violating `prop`."""
    assert prop.formula is not None
    best: int | None = None
    (init,) = interp.initial_states(m)
    todo: list[list[TraceStep]] = [[TraceStep(0, dict(init))]]
    while todo:
        path = todo.pop()
        states = [s.state for s in path]
        n = len(path) - 1
        val = lambda e, j: interp.holds_in(m, ir.Property("p", ir.PropertyKind.INVARIANT, e, prop.span), states[j])  # noqa: E731
        succ = list(interp.successors(m, states[-1]))
        if not succ and not _sat(prop.formula, val, n, n):
            best = n if best is None else min(best, n)
        for loop in range(n):
            if same_state(m, states[n], states[loop]) and not _sat(prop.formula, val, n - 1, loop) \
                    and fairness_problem(m, Trace(path, loop=loop)) is None:
                best = n if best is None else min(best, n)
        if n < depth:
            for s in succ:
                assert s.outcome.state is not None
                todo.append(path + [TraceStep(n + 1, dict(s.outcome.state), s.transition.name, dict(s.params))])
    return best


@pytest.mark.parametrize("fairness", ["", "fair p.inc;", "fair p.inc, p.wrap;", "strong fair p.flip;\nfair p.inc;"])
def test_lasso_search_agrees_with_brute_force(tmp_path: Path, fairness: str) -> None:
    depth = 6
    m = _model(tmp_path, COUNTER.replace("FAIRNESS", fairness))
    res = _live(m, depth)
    for prop in m.liveness:
        want = _shortest_violation(m, prop, depth)
        r = res[prop.name]
        if want is None:
            assert r.verdict is Verdict.HOLDS, (fairness, prop.name, r.detail)
        else:
            assert r.verdict is Verdict.VIOLATED and r.trace is not None, (fairness, prop.name, want)
            assert r.trace.length == want, (fairness, prop.name)
            assert replay(m, r.trace, prop).ok
