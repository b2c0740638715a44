"""models/tcp_liveness.tcpspec: what it claims, and the claim it deliberately does not make.

"A connection that starts closing eventually reaches CLOSED" is false in RFC 9293 (half-close,
§3.6: the peer may stay in CLOSE-WAIT and keep sending; there is no FIN-WAIT-2 timer), but no
bounded lasso search can show it: the data moves the sequence numbers, so no state repeats. Here
the fair run is built on the interpreter: one cycle of data and its ACK returns to the same
state but for SND.UNA/SND.NXT and RCV.NXT, one further, so the cycle repeats for ever (a state
repeats only after 2^32 cycles); the fair transitions are taken in it or disabled, and the client never leaves FIN-WAIT-2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.interp.semantics import State, apply, initial_states
from tcpspec.interp.live import enabled
from tcpspec.run.pipeline import load_model

ROOT = Path(__file__).resolve().parents[1]
LIVE = ROOT / "models" / "tcp_liveness.tcpspec"

TO_HALF_CLOSE = [
    "client.active_open", "server.passive_open_call", "server.listen_recv_syn", "client.syn_sent_recv_syn_ack",
    "server.syn_received_recv_ack", "client.close", ("server.established_recv_fin", {"fin_room": False}),
    "client.fin_wait_1_recv_ack_of_fin",
]
CYCLE = [("server.send_data", {"n": 1}), ("client.recv_segment", {}), ("server.recv_segment", {})]
# What the cycle moves: the server's send sequence and the client's receive sequence.
MOVING = ("server.snd_una", "server.snd_nxt", "client.rcv_nxt")


@pytest.fixture(scope="module")
def live() -> ir.Model:
    return load_model(str(LIVE))


def _step(model: ir.Model, state: State, name: str, params: dict[str, int] | None = None) -> State:
    out = apply(model, state, name, params or {})
    assert out.enabled and out.state is not None, f"{name}: {out.reason}"
    return out.state


def test_liveness_lives_beside_the_model_and_imports_it(live: ir.Model) -> None:
    tcp = load_model(str(ROOT / "models" / "tcp.tcpspec"))
    assert tcp.liveness == [] and tcp.fairness == {}
    assert {p.name for p in live.liveness} == {"syn_answered", "fin_acknowledged", "close_completes"}
    assert {p.name for p in tcp.properties} <= {p.name for p in live.properties}


def test_a_half_closed_connection_can_stay_open_for_ever(live: ir.Model) -> None:
    zeros = {f"{who}.{v}": [0] for who in ("client", "server") for v in ("iss", "irs", "rcv_nxt")}
    (state,) = initial_states(live, zeros)
    for step in TO_HALF_CLOSE:
        name, params = (step, {}) if isinstance(step, str) else step
        state = _step(live, state, name, params)
    assert state["client.state"] == "FIN_WAIT_2" and state["server.state"] == "CLOSE_WAIT"
    assert state["c2s"] == [] and state["s2c"] == []
    fair = [t for t in live.transitions if t.name in live.fairness]
    start = state
    for _ in range(200):
        taken: set[str] = set()
        disabled: set[str] = set()
        before = state
        for name, params in CYCLE:
            disabled |= {t.name for t in fair if enabled(t, state) is False}
            state = _step(live, state, name, params)
            taken.add(name)
            assert state["client.state"] == "FIN_WAIT_2"
        # Every fair transition is taken in the cycle or disabled in one of its states (weak fairness).
        assert all(t.name in taken or t.name in disabled for t in fair), [t.name for t in fair]
        # The state after the cycle is the state before it with the moving numbers one further
        # (ISS and IRS are not read in FIN-WAIT-2 / CLOSE-WAIT), so the cycle is enabled again.
        for key in state:
            if key in MOVING:
                assert state[key] == (before[key] + 1) % 2**32, key  # type: ignore[operator]
            else:
                assert state[key] == before[key], key
    assert state["client.snd_nxt"] == start["client.snd_nxt"]

