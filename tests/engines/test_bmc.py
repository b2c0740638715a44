"""Bounded model checking (engines/bmc.py): exact depths, shortest runs, replay, unknown,
agreement of the two number theories, and a differential check against the explicit-state BFS."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import z3

from tcpspec.checker import ir
from tcpspec.core.diagnostics import ModelError
from tcpspec.engines.bmc import run_bmc
from tcpspec.solving.query import QueryCut
from tcpspec.interp.search import explore, replay
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import PropertyResult, Verdict

ROOT = Path(__file__).resolve().parents[2]
THEORIES = ("int", "bv")


def _model(tmp_path: Path, text: str) -> ir.Model:
    path = tmp_path / "m.tcpspec"
    path.write_text(text)
    return load_model(str(path))


def _bmc(model: ir.Model, depth: int, theory: str, *names: str, timeout: float | None = 30) -> dict[str, PropertyResult]:
    props = [model.property(n) for n in names] if names else list(model.properties)
    return {r.property: r for r in run_bmc(model, props, depth, timeout, theory)}


def assert_replays(model: ir.Model, res: PropertyResult) -> None:
    """The run is a run of the model, ends in the violation / target, and not earlier (shortest)."""
    assert res.trace is not None
    out = replay(model, res.trace, model.property(res.property), require_first=True)
    assert out.ok, out.message
    assert res.depth == res.trace.length


# ---------------------------------------------------------------- depth k = k transitions

COUNTER = """
process P() {
  var x: 0..7 = 0;
  transition inc when x < 7 { x := x + 1; }
}
instance p = P();
invariant x_lt_3: p.x < 3;
"""

# x == 3 has no successor: the only violation is in a deadlocked state, 3 steps away. An
# unrolling that demands a step out of the last state (k + 1 transitions) would never see it.
DEADLOCK = """
process P() {
  var x: 0..3 = 0;
  var done: bool = false;
  transition inc when x < 2 { x := x + 1; }
  transition finish when x == 2 && !done { x := 3; done := true; }
}
instance p = P();
invariant not_finished: !p.done;
reachable finished: p.done;
"""


@pytest.mark.parametrize("theory", THEORIES)
def test_depth_is_the_number_of_transitions(tmp_path: Path, theory: str) -> None:
    m = _model(tmp_path, COUNTER)
    assert _bmc(m, 2, theory)["x_lt_3"].verdict is Verdict.HOLDS
    res = _bmc(m, 3, theory)["x_lt_3"]
    assert res.verdict is Verdict.VIOLATED
    assert res.trace is not None and res.trace.length == 3 and res.depth == 3
    assert [s.state["p.x"] for s in res.trace.steps] == [0, 1, 2, 3]
    assert [s.transition for s in res.trace.steps] == [None, "p.inc", "p.inc", "p.inc"]
    assert_replays(m, res)


@pytest.mark.parametrize("theory", THEORIES)
def test_violation_in_a_deadlocked_state(tmp_path: Path, theory: str) -> None:
    m = _model(tmp_path, DEADLOCK)
    short = _bmc(m, 2, theory)
    assert short["not_finished"].verdict is Verdict.HOLDS
    assert short["finished"].verdict is Verdict.UNREACHED
    res = _bmc(m, 3, theory)
    for name, verdict in (("not_finished", Verdict.VIOLATED), ("finished", Verdict.REACHED)):
        assert res[name].verdict is verdict
        trace = res[name].trace
        assert trace is not None and trace.length == 3
        assert trace.steps[-1].transition == "p.finish" and trace.steps[-1].state["p.x"] == 3
        assert_replays(m, res[name])


@pytest.mark.parametrize("theory", THEORIES)
def test_holds_at_depth_zero_checks_only_initial_states(tmp_path: Path, theory: str) -> None:
    m = _model(tmp_path, COUNTER.replace("p.x < 3", "p.x < 1"))
    assert _bmc(m, 0, theory)["x_lt_3"].verdict is Verdict.HOLDS
    res = _bmc(m, 1, theory)["x_lt_3"]
    assert res.verdict is Verdict.VIOLATED and res.trace is not None and res.trace.length == 1
    bad_init = _model(tmp_path, COUNTER.replace("p.x < 3", "p.x > 0"))
    res = _bmc(bad_init, 5, theory)["x_lt_3"]
    assert res.verdict is Verdict.VIOLATED and res.trace is not None and res.trace.length == 0


# ---------------------------------------------------------------- shortest runs

SHORTCUT = """
process P() {
  var x: 0..9 = 0;
  transition inc when x < 9 { x := x + 1; }
  transition jump when x == 2 { x := 8; }
  transition back when x == 8 { x := 0; }
}
instance p = P();
reachable eight: p.x == 8;
reachable nine: p.x == 9;
step never_down: ensure p.x' >= p.x;
invariant below_nine: p.x < 9;
"""


@pytest.mark.parametrize("theory", THEORIES)
def test_shortest_witness_for_reachable(tmp_path: Path, theory: str) -> None:
    m = _model(tmp_path, SHORTCUT)
    res = _bmc(m, 12, theory, "eight", "nine")
    eight, nine = res["eight"], res["nine"]
    assert eight.verdict is Verdict.REACHED and eight.trace is not None
    assert [s.transition for s in eight.trace.steps[1:]] == ["p.inc", "p.inc", "p.jump"]  # not 8 x inc
    assert nine.verdict is Verdict.REACHED and nine.trace is not None and nine.trace.length == 4
    for r in res.values():
        assert_replays(m, r)


@pytest.mark.parametrize("theory", THEORIES)
def test_step_violation_ends_with_the_violating_step(tmp_path: Path, theory: str) -> None:
    m = _model(tmp_path, SHORTCUT)
    res = _bmc(m, 8, theory, "never_down")["never_down"]
    assert res.verdict is Verdict.VIOLATED and res.trace is not None
    assert res.trace.length == 4  # inc, inc, jump, back
    last = res.trace.steps[-1]
    assert last.transition == "p.back"
    assert res.trace.steps[-2].state["p.x"] == 8 and last.state["p.x"] == 0
    assert_replays(m, res)


PROCESS_STEP = """
message M { v: 0..3 }
channel c: M[2];
process S(out: chan M) {
  var n: 0..3 = 0;
  transition put when n < 3 { n := n + 1; send out M { v: if n == 2 then 3 else n }; }
  step sends_counter: on send m to out ensure m.v == n';
}
process R(inp: chan M) {
  var got: 0..3 = 0;
  transition take receive m from inp { got := m.v; }
  step keeps_order: on receive m from inp ensure got' >= got;
}
instance s = S(out: c);
instance r = R(inp: c);
"""


@pytest.mark.parametrize("theory", THEORIES)
def test_step_properties_with_events(tmp_path: Path, theory: str) -> None:
    m = _model(tmp_path, PROCESS_STEP)
    res = _bmc(m, 6, theory)
    sends = res["s.sends_counter"]
    assert sends.verdict is Verdict.VIOLATED and sends.trace is not None and sends.trace.length == 2
    assert sends.trace.steps[-1].transition == "s.put"
    assert sends.trace.steps[-1].sent == [("c", {"v": 3})]
    order = res["r.keeps_order"]  # the values sent are 1, 3, 3: received in order, never down
    assert order.verdict is Verdict.HOLDS
    for r in res.values():
        if r.trace is not None:
            assert_replays(m, r)


RANGE = """
process P() {
  var x: 0..3 = 0;
  var y: 0..7 = 0;
  transition inc { x := x + 1; y := y + 1; }
}
instance p = P();
invariant y_small: p.y < 6;
"""




@pytest.mark.parametrize("theory", ["int", "bv"])
def test_range_violation_trace(tmp_path: Path, theory: str) -> None:
    m = _model(tmp_path, RANGE)
    assert [p.name for p in m.properties if p.builtin] == ["range_ok"]
    assert _bmc(m, 3, theory)["range_ok"].verdict is Verdict.HOLDS
    res = _bmc(m, 10, theory)
    rng = res["range_ok"]
    assert rng.verdict is Verdict.VIOLATED and rng.trace is not None
    assert rng.trace.length == 4  # the 4th inc stores 4 into 0..3
    assert rng.trace.steps[-1].transition == "p.inc"
    assert rng.trace.steps[-2].state["p.x"] == 3
    assert_replays(m, rng)
    # runs never continue past an out-of-range store: y reaches at most 4, y < 6 holds
    assert res["y_small"].verdict is Verdict.HOLDS


@pytest.mark.parametrize("theory", ["int", "bv", "auto"])
def test_range_violation_of_a_message_field(tmp_path: Path, theory: str) -> None:
    # a seq32 variable makes `auto` choose the int theory
    text = """
message M { v: 0..3 }
channel c: M[1];
process P(out: chan M) {
  var x: 0..7 = 0;
  var s: seq32;
  transition put when x < 7 { x := x + 1; send out M { v: x }; }
  transition drop receive m from out { skip; }
}
instance p = P(out: c);
"""
    m = _model(tmp_path, text)
    res = _bmc(m, 8, theory, "range_ok")["range_ok"]
    assert res.verdict is Verdict.VIOLATED and res.trace is not None
    assert res.trace.length == 7  # put, drop, put, drop, put, drop, put (sends 4)
    assert res.trace.steps[-1].transition == "p.put"
    assert_replays(m, res)


# ---------------------------------------------------------------- unknown, initial states


def test_unknown_on_timeout_never_holds() -> None:
    m = load_model(str(ROOT / "models" / "tcp.tcpspec"))
    (res,) = run_bmc(m, [m.property("client.una_le_nxt")], 12, 0.05, "auto")
    assert res.verdict is Verdict.UNKNOWN
    assert "timeout" in res.detail
    assert not res.failed and res.trace is None


def test_unknown_through_the_pipeline() -> None:
    m = load_model(str(ROOT / "models" / "tcp.tcpspec"))
    (res,) = check_model(m, CheckOptions(properties=("client.una_le_nxt",), depth=12, timeout=0.05, engine="bmc"))
    assert res.verdict is Verdict.UNKNOWN


@pytest.mark.parametrize("theory", THEORIES)
@pytest.mark.parametrize(
    "decls",
    [
        "var a: 0..3;\n  var b: 0..3 = a + 4;",  # b would be 4..7
        "var a: bool;\n  var b: 0..3 = if a then 5 else 6;",
    ],
)
def test_contradictory_initial_values(tmp_path: Path, theory: str, decls: str) -> None:
    text = f"""
process P() {{
  {decls}
  transition t {{ skip; }}
}}
instance p = P();
invariant trivially: true;
"""
    m = _model(tmp_path, text)
    with pytest.raises(ModelError, match="no initial state"):
        run_bmc(m, list(m.properties), 3, 10, theory)


SEED_BROKEN = str(ROOT / "models" / "broken" / "seed_ack_plus_two.tcpspec")


@pytest.mark.parametrize("theory", THEORIES)
def test_counterexample_prefers_small_values(theory: str) -> None:
    m = load_model(SEED_BROKEN)
    res = _bmc(m, 3, theory, "server.syn_ack_rule")["server.syn_ack_rule"]
    assert res.verdict is Verdict.VIOLATED and res.trace is not None and res.trace.length == 2
    first = res.trace.steps[0].state
    assert first["client.iss"] == 0 and first["server.iss"] == 0
    assert res.trace.steps[-1].transition is not None and res.trace.steps[-1].transition.startswith("server.")
    assert_replays(m, res)


# ---------------------------------------------------------------- int and bv agree

LIBRARY = [
    # (model, depth, properties: None = all, {property: shortest length} expected)
    ("models/abp.tcpspec", 9, None, {"all_delivered": 8, "all_acknowledged": 9}),
    ("models/two_phase_commit.tcpspec", 6, None, {"all_aborted": 4}),
    ("models/tls13_handshake.tcpspec", 8, None, {"connected": 6, "connected_after_hrr": 8, "app_data_delivered": 8}),
    ("models/broken/seed_ack_plus_two.tcpspec", 4, None, {"server.syn_ack_rule": 2}),
]


@pytest.mark.parametrize("path, depth, props, lengths", LIBRARY, ids=[Path(x[0]).stem for x in LIBRARY])
def test_theories_agree_on_the_library(path: str, depth: int, props: tuple[str, ...] | None,
                                       lengths: dict[str, int]) -> None:
    m = load_model(str(ROOT / path))
    names = props or tuple(p.name for p in m.properties)
    outcome = {}
    for theory in THEORIES:
        res = _bmc(m, depth, theory, *names, timeout=60)
        outcome[theory] = {n: (r.verdict, r.trace.length if r.trace else None) for n, r in res.items()}
        for r in res.values():
            assert r.verdict is not Verdict.UNKNOWN, (theory, r.property, r.detail)
            if r.trace is not None:
                assert_replays(m, r)
    assert outcome["int"] == outcome["bv"]
    found = {n: length for n, (_, length) in outcome["int"].items() if length is not None}
    assert found == lengths


# ---------------------------------------------------------------- BMC against the BFS

TINY_LOSSY = """
message M { s: seq4 }
channel c: M[2] with loss, duplication;
process S(out: chan M) {
  var nxt: seq4;
  var sent: 0..3 = 0;
  transition emit when sent < 3 { send out M { s: nxt }; nxt := nxt + 1; sent := sent + 1; }
}
process R(inp: chan M) {
  var synced: bool = false;
  var exp: seq4 = 0;
  var got: 0..3 = 0;
  transition recv receive m from inp {
    if !synced { synced := true; exp := m.s + 1; got := 1; }
    else { if m.s == exp { exp := exp + 1; got := got + 1; } }
  }
}
instance s = S(out: c);
instance r = R(inp: c);
invariant behind: r.synced ==> r.exp <= s.nxt;
invariant no_gap: r.got == s.sent;
reachable all_got: r.got == 3;
reachable wrapped: r.exp < s.nxt - 2 && r.got == 0;
step recv_in_order: on receive m from c ensure r.exp' == m.s + 1;
"""

TINY_REORDER = """
enum Ph { A, B, C }
message T { k: 0..3, last: bool = false }
channel q: T[2] with reordering;
process P(out: chan T) {
  var ph: Ph = A;
  var cnt: 0..3 = 0;
  transition emit choose k: 0..3 when ph == A { send out T { k: k, last: k == 3 }; if k == 3 { ph := B; } }
  transition bump when ph == B { cnt := cnt + 2; if cnt == 2 { ph := C; } }
}
process Q(inp: chan T) {
  var last: 0..3 = 0;
  var prev: 0..3 = 0;
  transition rcv receive t from inp { prev := last; last := t.k; }
}
instance p = P(out: q);
instance r = Q(inp: q);
invariant no_two_then_one: !(r.prev == 2 && r.last == 1);
reachable c_phase: p.ph == C;
reachable three_seen: r.last == 3 && r.prev == 3;
step bump_by_two: ensure p.cnt' == p.cnt || p.cnt' == p.cnt + 2;
"""

TINY_BV = """
process P() {
  var x: bv3;
  var y: bv3 = 0;
  var halted: bool = false;
  transition add choose d: 1..2 when !halted { x := x + d; y := y - 1; }
  transition halt when x == 0 && !halted { halted := true; }
}
instance p = P();
invariant sum_fixed: p.x + p.y != 6;
invariant ordered: p.x <= p.x + p.y || p.halted;
reachable halted_late: p.halted && p.y == 4;
step no_change_when_halted: when p.halted ensure p.x' == p.x;
"""

TINY_INJECT = """
message Req { ok: bool, n: 0..2 }
channel inbox: Req[2] with injection;
process Srv(inp: chan Req) {
  var accepted: 0..2 = 0;
  var bad: bool = false;
  transition handle receive r from inp {
    if r.ok { accepted := r.n; } else { bad := true; }
  }
}
process Cli(out: chan Req) {
  var done: bool = false;
  transition ask when !done { send out Req { ok: true, n: 1 }; done := true; }
}
instance srv = Srv(inp: inbox);
instance cli = Cli(out: inbox);
invariant only_one: srv.accepted <= 1;
invariant never_bad: !srv.bad;
reachable accepted_one: srv.accepted == 1;
step accepted_grows: on receive r from inbox ensure srv.accepted' >= srv.accepted;
"""

DIFFERENTIAL = [("lossy_seq4", TINY_LOSSY, 7), ("reorder_enum", TINY_REORDER, 6),
                ("bv3_counter", TINY_BV, 7), ("injection", TINY_INJECT, 5)]


@pytest.mark.parametrize("theory", THEORIES)
@pytest.mark.parametrize("name, text, depth", DIFFERENTIAL, ids=[d[0] for d in DIFFERENTIAL])
def test_bmc_agrees_with_explicit_state_search(tmp_path: Path, theory: str, name: str, text: str, depth: int) -> None:
    m = _model(tmp_path, text)
    ref = explore(m, depth)
    assert ref.exhaustive, name
    res = _bmc(m, depth, theory)
    assert set(res) == set(ref.traces)
    got = {p: (r.trace.length if r.trace is not None else None) for p, r in res.items()}
    want = {p: ref.depth_of(p) for p in ref.traces}
    assert got == want
    for p, r in res.items():
        kind = m.property(p).kind
        if r.trace is None:
            assert r.verdict is (Verdict.UNREACHED if kind is ir.PropertyKind.REACHABLE else Verdict.HOLDS)
        else:
            assert r.verdict is (Verdict.REACHED if kind is ir.PropertyKind.REACHABLE else Verdict.VIOLATED)
            assert_replays(m, r)
    # the models are not trivial: something is found and something is not
    assert any(v is not None for v in want.values()) and any(v is None for v in want.values()), want


COUNT = """
process P() {
  var x: bv4 = 0;
  transition tick when x < 9 { x := x + 1; }
}
instance p = P();
invariant below_three: p.x < 3;
reachable two: p.x == 2;
reachable five: p.x == 5;
"""


@pytest.fixture
def safety_track_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Charge the safety track 100 s per depth: the targets' track then runs ahead to its end."""
    from tcpspec.engines import bmc

    deepen = bmc._deepen

    def slow(track, *args):  # type: ignore[no-untyped-def]
        stop = deepen(track, *args)
        if any(it.prop.kind is not ir.PropertyKind.REACHABLE for it in track.open_) or stop:
            track.spent += 100.0
        return stop

    monkeypatch.setattr(bmc, "_deepen", slow)


@pytest.mark.parametrize("theory", THEORIES)
def test_a_stop_reports_the_same_whichever_track_is_ahead(tmp_path: Path, theory: str, safety_track_slow: None) -> None:
    """The targets' track found `five` at depth 5 before the safety track reached depth 3; the
    run stops at the violation's depth, so `five` is STOPPED there, as when BMC was one unrolling."""
    m = _model(tmp_path, COUNT)
    res = {r.property: r for r in run_bmc(m, list(m.properties), 20, 30, theory, keep_going=False)}
    assert (res["below_three"].verdict, res["below_three"].depth) == (Verdict.VIOLATED, 3)
    assert (res["two"].verdict, res["two"].depth) == (Verdict.REACHED, 2)
    assert_replays(m, res["two"])
    assert (res["five"].verdict, res["five"].depth, res["five"].trace) == (Verdict.UNKNOWN, 3, None)
    going = {r.property: r for r in run_bmc(m, list(m.properties), 20, 30, theory, keep_going=True)}
    assert (going["five"].verdict, going["five"].depth) == (Verdict.REACHED, 5)
    assert_replays(m, going["five"])


def test_properties_the_prover_proved_are_dropped_and_the_targets_go_on(tmp_path: Path) -> None:
    from tcpspec.engines.bmc import Steering

    m = _model(tmp_path, COUNT.replace("p.x < 3", "p.x < 10"))
    asked: list[int] = []

    def steer() -> Steering:
        asked.append(1)
        return Steering(dropped={"below_three"} if len(asked) > 2 else set())

    res = {r.property: r for r in run_bmc(m, list(m.properties), 20, 30, "int", steer=steer)}
    assert res["below_three"].verdict is Verdict.UNKNOWN and "no longer searched" in res["below_three"].detail
    assert (res["five"].verdict, res["five"].depth) == (Verdict.REACHED, 5)


@pytest.mark.parametrize("keep_going", (False, True))
def test_safety_first_leaves_the_targets_until_the_stop_depth(tmp_path: Path, keep_going: bool) -> None:
    """With the safety track first, the targets are searched only to the violation's depth
    (stop) or after the safety track is done (keep going): the report is the same as without."""
    from tcpspec.engines.bmc import Steering

    m = _model(tmp_path, COUNT)
    plain = run_bmc(m, list(m.properties), 20, 30, "int", keep_going=keep_going)
    steered = run_bmc(m, list(m.properties), 20, 30, "int", keep_going=keep_going, steer=lambda: Steering(safety_first=True))
    assert [(r.property, r.verdict, r.depth) for r in steered] == [(r.property, r.verdict, r.depth) for r in plain]
    assert (steered[0].verdict, steered[0].depth) == (Verdict.VIOLATED, 3)


def _pigeons(n: int) -> z3.Solver:
    """n + 1 pigeons in n holes: unsat, and far beyond a few seconds for Z3 at n = 11."""
    s = z3.Solver()
    at = [[z3.Bool(f"p{i}h{j}") for j in range(n)] for i in range(n + 1)]
    for row in at:
        s.add(z3.Or(row))
    for j in range(n):
        for a in range(n + 1):
            for b in range(a + 1, n + 1):
                s.add(z3.Not(z3.And(at[a][j], at[b][j])))
    return s


def _track(solver: z3.Solver, safety: bool, name: str = "inv"):  # type: ignore[no-untyped-def]
    from tcpspec.engines.bmc import _Open, _Track
    from tcpspec.solving.budget import Budget

    prop = ir.Property(name, ir.PropertyKind.INVARIANT if safety else ir.PropertyKind.REACHABLE, None, None)  # type: ignore[arg-type]
    return _Track(solver, [_Open(prop, Budget(None))], safety)


def _ask_while(steer, track, update, budget_s: float | None = None):  # type: ignore[no-untyped-def]
    """Run a hard query on `track` and call `update(steer)` from another thread 0.3 s into it."""
    import threading

    from tcpspec.solving.budget import Budget
    from tcpspec.solving.query import check

    timer = threading.Timer(0.3, update, (steer,))
    timer.start()
    try:
        with steer.asking(track, yields=True):
            return check(track.solver, [], Budget(budget_s))
    finally:
        timer.join()


def test_dropping_the_safety_query_under_way_interrupts_it() -> None:
    from tcpspec.engines.bmc import LiveSteering

    steer = LiveSteering()
    track = _track(_pigeons(11), safety=True)
    with pytest.raises((QueryCut, KeyboardInterrupt)):  # Z3 says "interrupted" or "canceled"
        _ask_while(steer, track, lambda s: s.update(dropped={"inv"}))
    assert steer.was_cut() and steer().dropped == {"inv"}


def test_targets_first_interrupts_the_safety_query_but_never_a_target_query() -> None:
    from tcpspec.engines.bmc import LiveSteering

    steer = LiveSteering()
    with pytest.raises((QueryCut, KeyboardInterrupt)):
        _ask_while(steer, _track(_pigeons(11), safety=True), lambda s: s.update(targets_first=True))
    assert steer.was_cut()
    # The targets' own query runs on to its budget: dropping or reordering never cuts it.
    out = _ask_while(steer, _track(_pigeons(11), safety=False, name="t"), lambda s: s.update(dropped={"t"}), budget_s=1.5)
    assert (out.result, out.reason, steer.was_cut()) == (z3.unknown, "timeout", False)


def test_a_safety_query_cut_short_is_asked_again_at_its_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cut at the very depth of the violation must not lose it: the depth is asked again once
    the targets have gone first, and the counterexample is still the shortest (3 steps, not 4)."""
    from tcpspec.engines import bmc
    from tcpspec.engines.bmc import LiveSteering

    m = _model(tmp_path, COUNT)
    steer = LiveSteering()
    plain_check = bmc.check
    cuts: list[int] = []

    def check(solver, assumptions, budget):  # type: ignore[no-untyped-def]
        track = steer._asking
        if track is not None and track.safety and track.k == 4 and not cuts:  # asking depth 3
            cuts.append(track.k)
            steer.update(targets_first=True)  # the solver is idle here: cut as a running one would be
            raise KeyboardInterrupt  # what Z3's "canceled" becomes
        return plain_check(solver, assumptions, budget)

    monkeypatch.setattr(bmc, "check", check)
    res = {r.property: r for r in run_bmc(m, list(m.properties), 20, 30, "int", steer=steer)}
    assert cuts == [4]
    assert (res["below_three"].verdict, res["below_three"].depth) == (Verdict.VIOLATED, 3)
    assert (res["two"].verdict, res["two"].depth) == (Verdict.REACHED, 2)
    assert (res["five"].verdict, res["five"].depth) == (Verdict.REACHED, 5)
    assert_replays(m, res["below_three"])


def test_ctrl_c_is_never_taken_for_a_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tcpspec.engines import bmc
    from tcpspec.engines.bmc import LiveSteering

    m = _model(tmp_path, COUNT)

    def check(*args):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # Ctrl-C: Z3 returns "canceled"

    monkeypatch.setattr(bmc, "check", check)
    with pytest.raises(KeyboardInterrupt):
        run_bmc(m, list(m.properties), 20, 30, "int", steer=LiveSteering())


# ---------------------------------------------------------------- witnesses seeded by the interpreter

# With every number at its smallest value (the seeding search's domain) `big` is reached in 4
# steps (x = 1, 2, 3, 4); with jump's n = 4 it takes one. The seed must not hide the shorter run.
SHORTER_WITH_OTHER_VALUES = """
process P() {
  var x: 0..9 = 0;
  var base: bv8;
  transition jump choose n: 1..4 when x == 0 { x := n; }
  transition inc when x > 0 && x < 9 { x := x + 1; }
}
instance p = P();
reachable big: p.x == 4;
reachable bigger: p.x == 6;
"""


@pytest.mark.parametrize("theory", THEORIES)
def test_a_seeded_witness_never_hides_a_shorter_run(tmp_path: Path, theory: str) -> None:
    from tcpspec.engines.bmc import _seed_witnesses

    m = _model(tmp_path, SHORTER_WITH_OTHER_VALUES)
    targets = [m.property("big"), m.property("bigger")]
    seeds = _seed_witnesses(m, targets, 20)
    assert {n: t.length for n, t in seeds.items()} == {"big": 4, "bigger": 6}  # n = 1 only
    res = _bmc(m, 20, theory, "big", "bigger")
    assert (res["big"].verdict, res["big"].depth) == (Verdict.REACHED, 1)
    assert (res["bigger"].verdict, res["bigger"].depth) == (Verdict.REACHED, 3)
    for r in res.values():
        assert_replays(m, r)


def test_a_seeded_witness_saves_the_query_at_its_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """COUNT's targets: the seed search finds both, so no query comes back sat, and each target
    is reported at its shortest depth with a run that replays."""
    from tcpspec.engines import bmc

    m = _model(tmp_path, COUNT)
    answers: list[z3.CheckSatResult] = []
    plain_check = bmc.check

    def check(solver, assumptions, budget):  # type: ignore[no-untyped-def]
        out = plain_check(solver, assumptions, budget)
        answers.append(out.result)
        return out

    monkeypatch.setattr(bmc, "check", check)
    targets = [m.property("two"), m.property("five")]
    res = {r.property: r for r in run_bmc(m, targets, 20, 30, "int")}
    assert (res["two"].depth, res["five"].depth) == (2, 5)
    assert answers and z3.sat not in answers
    for r in res.values():
        assert_replays(m, r)
    # Without the seeds the same run asks the sat queries itself and finds the same depths.
    monkeypatch.setattr(bmc, "SEED_STATES", 0)
    answers.clear()
    res = {r.property: r for r in run_bmc(m, targets, 20, 30, "int")}
    assert (res["two"].depth, res["five"].depth) == (2, 5) and z3.sat in answers


def test_an_idle_bmc_waits_for_the_prover_and_resumes(tmp_path: Path) -> None:
    """targets_first with on_idle: once the targets are done BMC tells on_idle and asks no safety
    query until `resume`; then it finds below_three's violation as usual."""
    import threading

    from tcpspec.engines.bmc import LiveSteering

    m = _model(tmp_path, COUNT)
    steer = LiveSteering()
    steer.update(targets_first=True)
    idle = threading.Event()
    out: list[list[PropertyResult]] = []
    worker = threading.Thread(target=lambda: out.append(run_bmc(m, list(m.properties), 20, 30, "int", steer=steer,
                                                                on_idle=idle.set)))
    worker.start()
    assert idle.wait(300)  # a guard against a hang
    time.sleep(0.5)
    assert worker.is_alive() and not out  # waiting, not searching on
    steer.update(resume=True)
    worker.join(300)
    res = {r.property: r for r in out[0]}
    assert (res["below_three"].verdict, res["below_three"].depth) == (Verdict.VIOLATED, 3)
    assert (res["two"].depth, res["five"].depth) == (2, 5)


def test_targets_first_cuts_a_safety_query_only_when_it_yields() -> None:
    """The safety query under way gives way on targets_first when it yields (the targets' track is
    live), and only then."""
    from types import SimpleNamespace

    from tcpspec.engines.bmc import LiveSteering

    for yields in (True, False):
        cut: list[bool] = []
        track = SimpleNamespace(safety=True, open_=[SimpleNamespace(prop=SimpleNamespace(name="p"))],
                                solver=SimpleNamespace(interrupt=lambda: cut.append(True)))
        steer = LiveSteering()
        with steer.asking(track, yields):  # type: ignore[arg-type]
            steer.update(targets_first=True)
            assert steer.was_cut() is yields
        assert cut == ([True] if yields else [])


def test_a_trials_targets_first_neither_cuts_the_safety_query_nor_lets_bmc_idle() -> None:
    """targets_first from a trial of Houdini's phase 2 (candidates taken on trust) may be wrong:
    a violation may be ahead, so the safety query under way finishes and BMC does not idle."""
    from types import SimpleNamespace

    from tcpspec.engines.bmc import LiveSteering

    cut: list[bool] = []
    track = SimpleNamespace(safety=True, open_=[SimpleNamespace(prop=SimpleNamespace(name="p"))],
                            solver=SimpleNamespace(interrupt=lambda: cut.append(True)))
    steer = LiveSteering()
    with steer.asking(track, True):  # type: ignore[arg-type]
        steer.update(targets_first=True, sure=False)
    assert not cut and steer().targets_first and not steer().may_idle
    with steer.asking(track, True):  # type: ignore[arg-type]
        steer.update(targets_first=True)  # the sure hint after it: now it may
    assert cut == [True] and steer().may_idle


def test_on_stop_tells_the_depth_of_the_violation_that_ends_the_run(tmp_path: Path) -> None:
    """The portfolio does not restart a BMC that is finishing this depth (engines/portfolio.py)."""
    m = _model(tmp_path, COUNT)
    told: list[int] = []
    res = {r.property: r for r in run_bmc(m, list(m.properties), 20, 30, "int", keep_going=False, on_stop=told.append)}
    assert told == [3] and res["below_three"].depth == 3
    told.clear()
    run_bmc(m, list(m.properties), 20, 30, "int", keep_going=True, on_stop=told.append)
    assert told == []
