"""models/tcp.tcpspec's options (-D NAME=true): each behaviour of real stacks the default check
leaves out is proved here with the option on, and shown on the interpreter along a short run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.engines.prover import prove
from tcpspec.interp.semantics import State, apply, initial_states, successors
from tcpspec.run.pipeline import load_model

ROOT = Path(__file__).resolve().parents[1]
TCP = ROOT / "models" / "tcp.tcpspec"

HANDSHAKE = ["client.active_open", "server.passive_open_call", "server.listen_recv_syn",
             "client.syn_sent_recv_syn_ack", "server.syn_received_recv_ack"]


def _start(model: ir.Model) -> State:
    """The initial state with the client's ISS 100, the server's 300 (IRS / RCV.NXT 0)."""
    values = {"client.iss": [100], "server.iss": [300]}
    values.update({f"{who}.{v}": [0] for who in ("client", "server") for v in ("irs", "rcv_nxt")})
    (state,) = initial_states(model, values)
    return state


def _step(model: ir.Model, state: State, name: str, params: dict[str, object] | None = None,
          sent: list[tuple[str, dict[str, object]]] | None = None) -> State:
    out = apply(model, state, name, params or {})  # type: ignore[arg-type]
    assert out.enabled and out.state is not None, f"{name}: {out.reason}"
    if sent is not None:
        sent += out.sent  # type: ignore[arg-type]
    return out.state


def _run(model: ir.Model, steps: list[str | tuple[str, dict[str, object]]],
         sent: list[tuple[str, dict[str, object]]] | None = None) -> State:
    state = _start(model)
    for s in steps:
        name, params = (s, {}) if isinstance(s, str) else s
        state = _step(model, state, name, params, sent)
    return state


def test_delack_acknowledges_two_segments_with_one_ack() -> None:
    """-D DELACK=true: the receiver delays its ACKs, so one ACK covers both segments received."""
    tcp = load_model(str(TCP), {"DELACK": "true"})
    sent: list[tuple[str, dict[str, object]]] = []
    _run(tcp, HANDSHAKE + [("client.send_data", {"n": 1}), ("client.send_data", {"n": 2}),
                           "server.recv_segment", "server.recv_segment", "server.send_delayed_ack"], sent)
    acks = [seg for ch, seg in sent if ch == "s2c" and not seg["syn"]]
    assert len(acks) == 1 and acks[0]["ack"] and acks[0]["ackno"] == 104 and acks[0]["len"] == 0


def test_without_delack_each_segment_is_acknowledged_at_once() -> None:
    tcp = load_model(str(TCP))
    state = _run(tcp, HANDSHAKE + [("client.send_data", {"n": 1})])
    out = apply(tcp, state, "server.recv_segment", {})
    assert out.enabled and [ch for ch, _ in out.sent] == ["s2c"]


def test_keepalive_probe_is_acknowledged_with_rcv_nxt() -> None:
    """-D KEEPALIVE=true: the client's probe <SEQ=SND.NXT-1> (empty, or one old octet) is not
    acceptable to the server, which answers <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and takes nothing."""
    tcp = load_model(str(TCP), {"KEEPALIVE": "true"})
    for garbage in (False, True):
        sent: list[tuple[str, dict[str, object]]] = []
        state = _run(tcp, HANDSHAKE + [("client.send_keepalive", {"garbage": garbage}),
                                       "server.recv_unacceptable"], sent)
        probe, reply = sent[-2], sent[-1]
        assert probe[0] == "c2s" and probe[1]["seq"] == 100 and probe[1]["len"] == (1 if garbage else 0)
        assert reply[0] == "s2c" and reply[1]["ack"] and reply[1]["ackno"] == 101 and reply[1]["seq"] == 301
        assert state["server.rcv_nxt"] == 101


def test_without_keepalive_no_probe_is_sent() -> None:
    tcp = load_model(str(TCP))
    state = _run(tcp, HANDSHAKE)
    assert not apply(tcp, state, "client.send_keepalive", {"garbage": False}).enabled


def test_window_closes_is_probed_and_reopens() -> None:
    """-D WINDOW=true: the server's buffer holds 2 octets; the client fills it, the server's ACK
    closes the window (its right edge stays), the client may then send nothing but the probe
    <SEQ=SND.UNA-1>, which the server answers with its zero window or, rate-limited, not at all;
    the application's read reopens it with a window update, and the client sends again."""
    tcp = load_model(str(TCP), {"WINDOW": "true"})
    sent: list[tuple[str, dict[str, object]]] = []
    state = _run(tcp, [("server.set_receive_buffer", {"w": 2})] + HANDSHAKE
                 + [("client.send_data", {"n": 2}), "server.recv_segment", "client.recv_segment"], sent)
    assert sent[1][1]["syn"] and sent[1][1]["wnd"] == 2  # the SYN,ACK advertises the buffer
    assert sent[-1][1]["ackno"] == 103 and sent[-1][1]["wnd"] == 0  # the same right edge, 103 + 0
    assert state["client.snd_wnd"] == 0 and (state["client.snd_wl1"], state["client.snd_wl2"]) == (301, 103)
    assert not apply(tcp, state, "client.send_data", {"n": 1}).enabled
    probed = _step(tcp, state, "client.send_window_probe", {}, sent)
    assert sent[-1][1]["seq"] == 102 and sent[-1][1]["len"] == 0
    answered = apply(tcp, probed, "server.recv_unacceptable", {})
    assert answered.enabled and answered.sent[0][1]["ackno"] == 103 and answered.sent[0][1]["wnd"] == 0
    assert apply(tcp, probed, "server.discard", {}).enabled  # or not answered
    state = _step(tcp, _step(tcp, probed, "server.discard"), "server.send_window_update", {"w": 2}, sent)
    assert sent[-1][1]["ackno"] == 103 and sent[-1][1]["wnd"] == 2 and sent[-1][1]["len"] == 0
    assert not apply(tcp, state, "server.send_window_update", {"w": 1}).enabled  # the edge never moves left
    state = _step(tcp, state, "client.recv_segment")
    assert state["client.snd_wnd"] == 2 and apply(tcp, state, "client.send_data", {"n": 2}).enabled


def test_without_window_every_segment_advertises_wnd() -> None:
    tcp = load_model(str(TCP))
    sent: list[tuple[str, dict[str, object]]] = []
    state = _run(tcp, HANDSHAKE + [("client.send_data", {"n": 2}), "server.recv_segment"], sent)
    assert {seg["wnd"] for _, seg in sent} == {tcp.constants["WND"]}
    assert not apply(tcp, state, "client.send_window_probe", {}).enabled
    assert not apply(tcp, state, "server.send_window_update", {"w": tcp.constants["WND"]}).enabled


def test_rto_resends_from_snd_una_and_the_duplicate_is_acknowledged_with_rcv_nxt() -> None:
    """-D RTO=true: the client's timer resends its data from SND.UNA (SND.NXT stays); the server
    takes the first copy and answers the second, all old, with <SEQ=SND.NXT><ACK=RCV.NXT>."""
    tcp = load_model(str(TCP), {"RTO": "true"})
    sent: list[tuple[str, dict[str, object]]] = []
    state = _run(tcp, HANDSHAKE + [("client.send_data", {"n": 2}), ("client.retransmit", {"n": 2, "fin": False}),
                                   "server.recv_segment", "server.recv_unacceptable"], sent)
    first, again = (seg for ch, seg in sent if ch == "c2s" and seg["len"])
    assert first == again and first["seq"] == 101 and state["client.snd_nxt"] == 103
    acks = [seg for ch, seg in sent if ch == "s2c"][-2:]
    assert [a["ackno"] for a in acks] == [103, 103] and state["server.rcv_nxt"] == 103


def test_rto_resends_the_fin_alone_or_on_its_data_and_a_loss_probe_ends_at_snd_nxt() -> None:
    tcp = load_model(str(TCP), {"RTO": "true", "CAP": "3"})
    state = _run(tcp, HANDSHAKE + [("client.send_data", {"n": 1}), ("client.close_with_data", {"n": 1})])
    # SND.UNA 101, SND.NXT 104 (2 octets, then the FIN): from SND.UNA, the FIN rides only on
    # all the data; the tail-loss probe is the last segment, the FIN with the data before it.
    for params, ok in (({"n": 2, "fin": True}, True), ({"n": 1, "fin": True}, False), ({"n": 1, "fin": False}, True),
                       ({"n": 2, "fin": False}, True), ({"n": 0, "fin": True}, False)):
        assert apply(tcp, state, "client.retransmit", params).enabled is ok, params
    out = apply(tcp, state, "client.loss_probe", {"n": 1, "fin": True})
    assert out.enabled and out.sent[-1][1]["seq"] == 102 and out.sent[-1][1]["fin"]
    assert not apply(tcp, state, "client.loss_probe", {"n": 1, "fin": False}).enabled
    state = _run(tcp, HANDSHAKE + ["client.close"])
    out = apply(tcp, state, "client.retransmit", {"n": 0, "fin": True})
    assert out.enabled and out.sent[-1][1]["seq"] == 101 and out.sent[-1][1]["len"] == 0


def test_rto_in_syn_received_the_peers_syn_again_is_answered() -> None:
    """The client's SYN again reaches the server in SYN-RECEIVED: RFC 9293's ACK of RCV.NXT, or
    Linux's SYN,ACK again; the server stays in SYN-RECEIVED."""
    tcp = load_model(str(TCP), {"RTO": "true"})
    start = HANDSHAKE[:3] + ["client.retransmit_syn"]
    for synack, reply in ((False, {"syn": False, "seq": 301}), (True, {"syn": True, "seq": 300})):
        sent: list[tuple[str, dict[str, object]]] = []
        state = _run(tcp, start + [("server.syn_received_recv_syn", {"synack": synack})], sent)
        ch, seg = sent[-1]
        assert ch == "s2c" and seg["ack"] and seg["ackno"] == 101 and {k: seg[k] for k in reply} == reply
        assert state["server.state"] == "SYN_RECEIVED"


# The server opens actively and sends its SYN three times; the passive client's SYN,ACK meets a
# full outbox, so the server's ACK of it is delayed (and rides on what it sends next).
DELAYED_HANDSHAKE = ["server.active_open", "server.retransmit_syn", "client.passive_open_call", "client.listen_recv_syn",
                     "server.retransmit_syn", "server.syn_sent_recv_syn_ack",
                     ("client.syn_received_recv_syn", {"synack": False})]


def test_rto_the_ack_of_the_syn_on_data_completes_the_handshake_and_the_text_is_taken() -> None:
    """In SYN-RECEIVED the ACK of our SYN may come on the peer's first data: the text is taken
    (RCV.NXT = the peer's SND.NXT), so the peer's RST after an ABORT is still at RCV.NXT and
    resets the connection (no half-open connection)."""
    tcp = load_model(str(TCP), {"RTO": "true"})
    state = _run(tcp, DELAYED_HANDSHAKE + [("server.send_data", {"n": 1}),
                                           ("client.syn_received_recv_syn", {"synack": False}),
                                           "client.syn_received_recv_ack"])
    assert state["client.state"] == "ESTABLISHED" and state["client.rcv_nxt"] == state["server.snd_nxt"] == 302
    state = _run(tcp, DELAYED_HANDSHAKE + [("server.send_data", {"n": 1}),
                                           ("client.syn_received_recv_syn", {"synack": False}),
                                           "client.syn_received_recv_ack", ("server.abort", {"ack": False}),
                                           "client.recv_rst"])
    assert (state["client.state"], state["server.state"]) == ("CLOSED", "CLOSED")


def test_in_syn_received_a_fin_that_acknowledges_the_syn_is_taken_and_acknowledged() -> None:
    """RFC 9293 §3.10.7.4: the server's ACK of the client's SYN,ACK was delayed, and its FIN (on one
    octet) is the first segment to acknowledge the SYN. SYN-RECEIVED enters ESTABLISHED and goes
    on with the FIN: CLOSE-WAIT, RCV.NXT past the text and the FIN, the ACK of SEG.SEQ + SEG.LEN + 1.
    Every rule that receives the FIN must do that (a model that dropped it later acknowledged the
    FIN, sent again after a gap, with RCV.NXT: fin_ack_rule was violated in 15 steps)."""
    tcp = load_model(str(TCP), {"RTO": "true"})
    state = _run(tcp, DELAYED_HANDSHAKE + [("server.close_with_data", {"n": 1}),
                                           ("client.syn_received_recv_syn", {"synack": False}),
                                           "server.recv_segment", "server.recv_segment"])
    fin = state["s2c"][0]
    assert state["client.state"] == "SYN_RECEIVED" and len(state["s2c"]) == 1
    assert fin["fin"] and fin["ack"] and fin["ackno"] == 101 and (fin["seq"], fin["len"]) == (301, 1)
    takes = [s for s in successors(tcp, state) if s.outcome.received == [("s2c", fin)]]
    assert takes
    for s in takes:
        after = s.outcome.state
        assert after is not None and after["client.state"] == "CLOSE_WAIT", s.transition.name
        assert after["client.rcv_nxt"] == after["server.snd_nxt"] == 303
        assert [(ch, seg["ack"], seg["ackno"]) for ch, seg in s.outcome.sent] == [("c2s", True, 303)]
    state = _step(tcp, takes[0].outcome.state, "server.fin_wait_1_recv_ack_of_fin")
    assert state["server.state"] == "FIN_WAIT_2"


def test_rto_in_last_ack_the_fin_again_with_a_full_outbox_leaves_no_ack_pending() -> None:
    """The server's FIN again reaches the client in LAST-ACK with its outbox full of segments that
    acknowledge it already: nothing is owed (ack_pending_synchronized)."""
    tcp = load_model(str(TCP), {"RTO": "true"})
    state = _run(tcp, HANDSHAKE + ["server.close", ("client.established_recv_fin", {"fin_room": False}),
                                   ("server.loss_probe", {"n": 0, "fin": True}), "client.close",
                                   "client.recv_unacceptable"])
    assert state["client.state"] == "LAST_ACK" and not state["client.ack_pending"]
    assert all(seg["ackno"] == state["client.rcv_nxt"] for seg in state["c2s"])


def test_without_rto_nothing_is_retransmitted() -> None:
    tcp = load_model(str(TCP))
    state = _run(tcp, HANDSHAKE + [("client.send_data", {"n": 1})])
    assert not apply(tcp, state, "client.retransmit", {"n": 1, "fin": False}).enabled
    assert not apply(tcp, state, "client.loss_probe", {"n": 1, "fin": False}).enabled


@pytest.mark.parametrize("option", ["DELACK", pytest.param("KEEPALIVE", marks=pytest.mark.slow),
                                    pytest.param("RTO", marks=pytest.mark.slow), pytest.param("WINDOW", marks=pytest.mark.slow),
                                    pytest.param("OOO", marks=pytest.mark.slow)])
def test_the_model_is_proved_with_the_option_on(option: str) -> None:
    """Every invariant, lemma and step property is proved with the option on, as without it."""
    tcp = load_model(str(TCP), {option: "true"})
    props = [p for p in tcp.properties if p.kind.value in ("invariant", "step", "lemma")]
    out = prove(tcp, props, 1800)
    assert not sorted(name for name, o in out.items() if not o.proved)
    assert all("certificate re-checked" in o.detail for o in out.values())
