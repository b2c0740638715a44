"""pipeline: the bound each property is checked to (`depth` declarations against --depth)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.run import pipeline
from tcpspec.run.pipeline import CheckOptions, bounds, check_model, load_model
from tcpspec.core.results import STOPPED, Verdict

COUNTER = """\
depth 3;
depth 9 for reachable;
process P() {
  var x: 0..9 = 0;
  fair transition inc when x < 9 { x := x + 1; }
}
instance p = P();
invariant below_five: p.x < 5;
reachable seven: p.x == 7;
"""


def _model(tmp_path: Path, text: str = COUNTER):  # type: ignore[no-untyped-def]
    f = tmp_path / "counter.tcpspec"
    f.write_text(text)
    return load_model(str(f))


def test_each_property_gets_its_kinds_bound(tmp_path: Path) -> None:
    m = _model(tmp_path)
    assert [(d, [p.name for p in ps]) for d, ps in bounds(m, m.properties, None)] == [
        (3, ["below_five", "range_ok"]), (9, ["seven"])]
    assert [d for d, _ in bounds(m, m.properties, 4)] == [4]  # --depth overrides every declaration
    plain = _model(tmp_path, COUNTER.replace("depth 3;\ndepth 9 for reachable;\n", ""))
    assert [d for d, _ in bounds(plain, plain.properties, None)] == [pipeline.DEFAULT_DEPTH]


def test_the_declared_bound_decides_bounded_verdicts_only(tmp_path: Path) -> None:
    m = _model(tmp_path)
    out = {r.property: r for r in check_model(m, CheckOptions(engine="bmc", keep_going=True))}
    assert (out["below_five"].verdict, out["below_five"].depth) == (Verdict.HOLDS, 3)
    assert (out["seven"].verdict, out["seven"].depth) == (Verdict.REACHED, 7)
    deeper = {r.property: r for r in check_model(m, CheckOptions(engine="bmc", depth=6, keep_going=True))}
    assert (deeper["below_five"].verdict, deeper["below_five"].depth) == (Verdict.VIOLATED, 5)
    assert deeper["seven"].verdict is Verdict.UNREACHED


def test_a_violation_stops_the_groups_after_it(tmp_path: Path) -> None:
    m = _model(tmp_path, COUNTER.replace("depth 3;", "depth 6;"))
    out = {r.property: r for r in check_model(m, CheckOptions(engine="bmc"))}
    assert out["below_five"].verdict is Verdict.VIOLATED
    assert (out["seven"].verdict, out["seven"].detail) == (Verdict.UNKNOWN, STOPPED)


def test_tcp_liveness_declares_the_depth_expected_md_pins() -> None:
    root = Path(__file__).resolve().parent.parent / "models"
    live = load_model(str(root / "tcp_liveness.tcpspec"))
    assert {p.kind.value for p in live.liveness} == {"leads_to"}
    assert [d for d, _ in bounds(live, live.liveness, None)] == [8]
    assert [d for d, _ in bounds(live, live.properties, None)] == [pipeline.DEFAULT_DEPTH]
    assert load_model(str(root / "tcp.tcpspec")).depths == {}


NO_INITIAL_STATE = """\
process P() {
  var x: 0..3 = 2;
  var y: 0..3 = x * 2;
  transition t { x := 0; }
}
instance p = P();
invariant never: false;
"""


@pytest.mark.parametrize("engine", ["auto", "kind", "pdr", "bmc"])
def test_no_initial_state_is_a_model_error_for_every_engine(tmp_path: Path, engine: str) -> None:
    """y's initial value 4 is out of 0..3, so there is no initial state: `never: false` must not
    come back proved (kind, pdr and auto did, vacuously), whichever the engine."""
    from tcpspec.core.diagnostics import ModelError

    m = _model(tmp_path, NO_INITIAL_STATE)
    with pytest.raises(ModelError, match="no initial state"):
        check_model(m, CheckOptions(engine=engine, depth=3))


def test_recheck_refuses_a_model_without_initial_state(tmp_path: Path) -> None:
    from tcpspec.proof.recheck import recheck_file
    from tcpspec.core.diagnostics import ModelError

    model = tmp_path / "m.tcpspec"
    model.write_text(NO_INITIAL_STATE)
    cert = tmp_path / "c.cert"
    cert.write_text("// tcpspec proof certificate for m.tcpspec\n// it implies the proved properties:\n//   never\n"
                    "invariant c0: false;\n")
    with pytest.raises(ModelError, match="no initial state"):
        recheck_file(str(model), str(cert), {})
