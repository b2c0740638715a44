"""Delayed ACKs in models/tcp.tcpspec (RFC 9293 §3.8.6.3): a receive whose outbox is full no
longer blocks; it sets `ack_pending`, and `send_delayed_ack` sends the cumulative ACK later.

Most checks run on the explicit-state interpreter along the run that used to deadlock (both
channels full after 9 steps), so they are fast; one BMC run pins `deadlock_free` at depth 9.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.engines.deadlock import DEADLOCK_FREE, with_deadlock
from tcpspec.interp.semantics import State, apply, initial_states, step_ok
from tcpspec.interp.live import deadlock_problem
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict

ROOT = Path(__file__).resolve().parents[1]
TCP = ROOT / "models" / "tcp.tcpspec"

# The run `tcpspec check models/tcp.tcpspec --deadlock --depth 9` found before delayed ACKs:
# handshake, one segment of data each way, both sides close; c2s and s2c are then full.
FULL_RUN: list[tuple[str, dict[str, int]]] = [
    ("client.active_open", {}), ("server.passive_open_call", {}), ("server.listen_recv_syn", {}),
    ("client.syn_sent_recv_syn_ack", {}), ("client.send_data", {"n": 1}),
    ("server.syn_received_recv_ack", {}), ("client.close", {}), ("server.send_data", {"n": 1}),
    ("server.close", {}),
]


@pytest.fixture(scope="module")
def tcp() -> ir.Model:
    return load_model(str(TCP))


def _start(model: ir.Model) -> State:
    """The initial state with every ISN (and the not yet learned IRS / RCV.NXT) 0."""
    zeros = {f"{who}.{v}": [0] for who in ("client", "server") for v in ("iss", "irs", "rcv_nxt")}
    (state,) = initial_states(model, zeros)
    return state


def _step(model: ir.Model, state: State, name: str, params: dict[str, int] | None = None) -> State:
    out = apply(model, state, name, params or {})
    assert out.enabled and out.state is not None, f"{name}: {out.reason}"
    return out.state


def _run(model: ir.Model, steps: list[tuple[str, dict[str, int]]]) -> State:
    state = _start(model)
    for name, params in steps:
        state = _step(model, state, name, params)
    return state


def test_full_channels_no_longer_deadlock(tcp: ir.Model) -> None:
    state = _run(tcp, FULL_RUN)
    assert len(state["c2s"]) == 2 and len(state["s2c"]) == 2  # type: ignore[arg-type]
    assert deadlock_problem(tcp, state) is not None
    # The client takes the server's data although its outbox is full: the ACK is delayed.
    out = apply(tcp, state, "client.recv_segment", {})
    assert out.enabled and out.state is not None and out.sent == []
    assert out.state["client.ack_pending"] is True and out.state["client.rcv_nxt"] == 2


def test_delayed_ack_is_sent_when_there_is_room(tcp: ir.Model) -> None:
    state = _step(tcp, _run(tcp, FULL_RUN), "client.recv_segment")
    assert not apply(tcp, state, "client.send_delayed_ack", {}).enabled  # c2s is still full
    state = _step(tcp, state, "server.recv_segment")  # the server takes the client's data
    pre = state
    out = apply(tcp, pre, "client.send_delayed_ack", {})
    assert out.enabled and out.state is not None
    (ch, seg), = out.sent
    assert ch == "c2s" and seg == {"syn": False, "ack": True, "fin": False, "rst": False,
                                   "seq": 3, "ackno": 2, "len": 0, "wnd": 4}  # type: ignore[comparison-overlap]
    assert out.state["client.ack_pending"] is False
    prop = tcp.property("client.delayed_ack_cumulative")
    assert step_ok(tcp, prop, pre, out, tcp.transition("client.send_delayed_ack"))


def test_delayed_ack_property_catches_a_wrong_ack(tmp_path: Path) -> None:
    """The property fails when the delayed ACK acknowledges more than RCV.NXT."""
    text = TCP.read_text(encoding="utf-8")
    good = "  transition send_delayed_ack when ack_pending {\n" \
           "    send outbox Segment { ack: true, seq: snd_nxt, ackno: rcv_nxt, wnd: rcv_wnd };\n"
    assert text.count(good) == 1
    path = tmp_path / "tcp_delayed_ack_plus_one.tcpspec"
    path.write_text(text.replace(good, good.replace("ackno: rcv_nxt,", "ackno: rcv_nxt + 1,")))
    bad = load_model(str(path))
    state = _step(bad, _step(bad, _run(bad, FULL_RUN), "client.recv_segment"), "server.recv_segment")
    out = apply(bad, state, "client.send_delayed_ack", {})
    prop = bad.property("client.delayed_ack_cumulative")
    assert out.enabled and not step_ok(bad, prop, state, out, bad.transition("client.send_delayed_ack"))


@pytest.mark.parametrize("name, params", [("client.send_data", {"n": 1}), ("client.close", {})])
def test_data_or_fin_carries_a_pending_ack(tcp: ir.Model, name: str, params: dict[str, int]) -> None:
    state = dict(_start(tcp))
    state.update({"client.state": "ESTABLISHED", "client.ack_pending": True, "client.rcv_nxt": 5})
    out = apply(tcp, state, name, params)
    assert out.enabled and out.state is not None and out.state["client.ack_pending"] is False
    (_, seg), = out.sent
    assert seg["ack"] and seg["ackno"] == 5  # type: ignore[index]


def test_time_wait_waits_for_a_pending_ack_and_reset_drops_it(tcp: ir.Model) -> None:
    state = dict(_start(tcp))
    state.update({"client.state": "TIME_WAIT", "client.ack_pending": True})
    assert not apply(tcp, state, "client.time_wait_2msl", {}).enabled
    sent = _step(tcp, state, "client.send_delayed_ack")
    assert _step(tcp, sent, "client.time_wait_2msl")["client.state"] == "CLOSED"
    state.update({"client.state": "ESTABLISHED"})
    aborted = _step(tcp, state, "client.abort", {"ack": False})
    assert aborted["client.state"] == "CLOSED" and aborted["client.ack_pending"] is False


def test_tcp_deadlock_free_at_depth_9() -> None:
    """The 9-step deadlock is gone (BMC; deeper runs in models/EXPECTED.md)."""
    tcp = load_model(str(TCP))
    with_deadlock(tcp)
    opts = CheckOptions(properties=(DEADLOCK_FREE,), depth=9, engine="bmc", deadlock=True, timeout=120)
    (res,) = check_model(tcp, opts)
    assert res.verdict is Verdict.HOLDS, res.detail
