"""Liveness under fairness (engines/liveness.py): lassos with the right loop index, replayed
(loop closure and fairness checked on the interpreter); weak vs strong fairness; stopped runs;
bounded `holds`; `auto` routes liveness to BMC and never reports `proved`; ITF `loop`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.cli import main
from tcpspec.engines.liveness import run_liveness
from tcpspec.interp.search import replay
from tcpspec.interp.live import fairness_problem, lasso_problem
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict
from tcpspec.core.trace import Trace

ROOT = Path(__file__).resolve().parents[2]

# A pedestrian light: `idle` keeps GREEN until someone presses; `change` cycles the colours.
LIGHTS = """
enum Light { GREEN, YELLOW, RED }
process Lights() {
  var c: Light = GREEN;
  var pressed: bool = false;
  transition press when !pressed { pressed := true; }
  transition idle when c == GREEN && !pressed { skip; }
  transition change when pressed || c != GREEN {
    c := if c == GREEN then YELLOW else if c == YELLOW then RED else GREEN;
    if c == RED { pressed := false; }
  }
}
instance l = Lights();
FAIRNESS
eventually red: l.c == RED;
leads_to press_gives_red: l.pressed ~> l.c == RED;
"""

# A worker that may stop for good: `halt` leaves nothing enabled, the job never done.
HALTING = """
process W() {
  var done: bool = false;
  var halted: bool = false;
  transition halt when !halted && !done { halted := true; }
  transition work when !halted && !done { done := true; }
}
instance w = W();
eventually finishes: w.done;
"""


def _model(tmp_path: Path, text: str, name: str = "m.tcpspec") -> ir.Model:
    path = tmp_path / name
    path.write_text(text)
    return load_model(str(path))


def _live(model: ir.Model, depth: int, *names: str, theory: str = "auto"):  # type: ignore[no-untyped-def]
    props = [model.property(n) for n in names]
    return {r.property: r for r in run_liveness(model, props, depth, 60, theory)}


def _assert_lasso(model: ir.Model, trace: Trace | None, prop: str) -> Trace:
    assert trace is not None and trace.loop is not None
    assert trace.steps[-1].state == trace.steps[trace.loop].state
    out = replay(model, trace, model.property(prop))
    assert out.ok, out.message
    return trace


@pytest.mark.parametrize("theory", ["int", "bv"])
def test_unfair_press_gives_a_lasso_at_the_initial_state(tmp_path: Path, theory: str) -> None:
    m = _model(tmp_path, LIGHTS.replace("FAIRNESS", "fair l.change;"))
    res = _live(m, 6, "red", "press_gives_red", theory=theory)
    r = res["red"]
    assert r.verdict is Verdict.VIOLATED and r.kind == "eventually" and r.engine == "bmc"
    t = _assert_lasso(m, r.trace, "red")
    assert (t.length, t.loop, t.steps[1].transition) == (1, 0, "l.idle")
    assert res["press_gives_red"].verdict is Verdict.HOLDS
    assert "bounded" in res["press_gives_red"].detail


def test_fairness_matters(tmp_path: Path) -> None:
    fair = _model(tmp_path, LIGHTS.replace("FAIRNESS", "fair l.change, l.press;"), "fair.tcpspec")
    assert _live(fair, 8, "red")["red"].verdict is Verdict.HOLDS
    unfair = _model(tmp_path, LIGHTS.replace("FAIRNESS", ""), "unfair.tcpspec")
    assert _live(unfair, 8, "red")["red"].verdict is Verdict.VIOLATED


def test_weak_vs_strong_fairness_on_abp(tmp_path: Path) -> None:
    good = load_model(str(ROOT / "models/abp.tcpspec"))
    res = _live(good, 10, "every_message_delivered", "transmission_acknowledged")
    assert all(r.verdict is Verdict.HOLDS for r in res.values())
    weak = load_model(str(ROOT / "models/broken/abp_weak_fairness.tcpspec"))
    res = _live(weak, 10, "every_message_delivered", "transmission_acknowledged")
    t = _assert_lasso(weak, res["every_message_delivered"].trace, "every_message_delivered")
    assert [s.transition for s in t.steps[1:]] == ["sender.transmit", "data.loss"] and t.loop == 0
    t = _assert_lasso(weak, res["transmission_acknowledged"].trace, "transmission_acknowledged")
    assert t.length == 5 and t.loop == 3  # after the first message: retransmit, lose, forever
    assert t.steps[3].state["sender.next"] == 1


def test_replay_rejects_broken_lassos(tmp_path: Path) -> None:
    weak = load_model(str(ROOT / "models/broken/abp_weak_fairness.tcpspec"))
    prop = weak.property("every_message_delivered")
    (r,) = run_liveness(weak, [prop], 4, 60)
    assert r.trace is not None
    assert lasso_problem(weak, Trace(r.trace.steps, loop=1), prop) is not None  # does not close
    strong = load_model(str(ROOT / "models/abp.tcpspec"))  # same run, strongly fair delivery
    why = fairness_problem(strong, r.trace)
    assert why is not None and "strongly fair receiver.recv_new" in why
    assert lasso_problem(weak, Trace(r.trace.steps, loop=None), prop) is not None  # it does not stop


def test_stopped_run_is_a_counterexample(tmp_path: Path) -> None:
    m = _model(tmp_path, HALTING)
    r = _live(m, 5, "finishes")["finishes"]
    assert r.verdict is Verdict.VIOLATED and r.trace is not None
    assert r.trace.loop is None and [s.transition for s in r.trace.steps[1:]] == ["w.halt"]
    assert "stops" in r.detail
    assert replay(m, r.trace, m.property("finishes")).ok


def test_auto_routes_liveness_to_bmc_never_proved(tmp_path: Path) -> None:
    m = _model(tmp_path, LIGHTS.replace("FAIRNESS", "fair l.change, l.press;"))
    results = check_model(m, CheckOptions(depth=6, engine="auto", timeout=60))
    by = {r.property: r for r in results}
    assert by["red"].verdict is Verdict.HOLDS and by["red"].engine == "bmc"
    assert by["press_gives_red"].verdict is Verdict.HOLDS
    assert [r.property for r in results] == [p.name for p in m.properties + m.liveness]
    assert [p.name for p in m.liveness] == ["red", "press_gives_red"]  # apart from the safety properties


def test_max_cex_gives_distinct_lassos(tmp_path: Path) -> None:
    weak = load_model(str(ROOT / "models/broken/abp_weak_fairness.tcpspec"))
    prop = weak.property("transmission_acknowledged")
    (r,) = run_liveness(weak, [prop], 8, 60, max_cex=3)
    assert len(r.traces) == 3
    seqs = {tuple(s.transition for s in t.steps[1:]) for t in r.traces}
    assert len(seqs) == 3
    for t in r.traces:
        assert replay(weak, t, prop).ok


def test_cli_json_has_itf_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lights.tcpspec"
    path.write_text(LIGHTS.replace("FAIRNESS", "fair l.change;"))
    out_file = tmp_path / "cex.itf.json"
    code = main(["check", str(path), "--kind", "eventually", "--depth", "4", "--format", "json",
                 "--trace-out", str(out_file)])
    assert code == 1
    (r,) = json.loads(capsys.readouterr().out)["results"]
    assert r["kind"] == "eventually" and r["verdict"] == "violated" and r["trace"]["loop"] == 0
    assert json.loads(out_file.read_text())["loop"] == 0
    assert main(["check", str(path), "--kind", "leads_to", "--depth", "4"]) == 0
    assert "1 holds, no violation within 4 steps (bounded, not proved): 1 leads_to property" in capsys.readouterr().out
    assert main(["check", str(path), "--kind", "leads_to", "--depth", "4", "-v"]) == 0
    assert "(no violation in 4 steps; bounded)" in capsys.readouterr().out


@pytest.mark.parametrize("text,message", [
    ("fair nothing;", "'nothing' is not a transition, channel or instance"),
    ("eventually e: 3;", "eventually 'e' must be a bool, not int"),
    ("leads_to t: l.c ~> true;", "the left side of leads_to 't' must be a bool"),
    ("final f: l.c;", "final 'f' must be a bool"),
])
def test_checker_errors(tmp_path: Path, text: str, message: str) -> None:
    from tcpspec.core.diagnostics import ModelError

    with pytest.raises(ModelError) as e:
        _model(tmp_path, LIGHTS.replace("FAIRNESS", text))
    assert message in str(e.value)


def test_timeout_is_unknown_never_holds() -> None:
    m = load_model(str(ROOT / "models/abp.tcpspec"))
    (r,) = run_liveness(m, [m.property("every_message_delivered")], 12, 1e-6)
    assert r.verdict is Verdict.UNKNOWN and "timeout" in r.detail
