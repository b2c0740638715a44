"""ITF as Quint writes it: value encoding, per-state metadata, and the round trip."""

from __future__ import annotations

import json

import pytest

from tcpspec.checker import ir
from tcpspec.core.diagnostics import Span, UsageError
from tcpspec.render.itf import (
    ACTION_TAKEN,
    FORMAT_DESCRIPTION,
    NONDET_PICKS,
    decode_value,
    encode_value,
    itf_to_trace,
    result_to_itf,
    trace_to_itf,
)
from tcpspec.render.json_report import report_to_json
from tcpspec.core.results import PropertyResult, Verdict
from tcpspec.core.trace import Trace, TraceStep
from tcpspec.core.types import BOOL, BitVecType, EnumType, IntType, RecordType

SP = Span("m.tcpspec", 1, 1)
STATE = EnumType("State", ("CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED"))
SEQ = BitVecType(32, serial=True)
SEGMENT = RecordType("Segment", (("syn", BOOL), ("ack", BOOL), ("seq", SEQ), ("ackno", SEQ), ("len", IntType(0, 4))))
C2S = ir.Channel("c2s", SEGMENT, 2, frozenset({"loss"}), SP)
S2C = ir.Channel("s2c", SEGMENT, 2, frozenset(), SP)


def var(name: str, t: object) -> ir.StateVar:
    inst, local = name.split(".")
    return ir.StateVar(name, inst, local, t, SP)  # type: ignore[arg-type]


def lit_true() -> ir.Lit:
    return ir.Lit(True, BOOL, SP)


def model() -> ir.Model:
    seg_lit = ir.RecordLit((), SEGMENT, SP)
    send_c2s = ir.Send(C2S, seg_lit, SP)
    send_s2c = ir.If(lit_true(), (ir.Send(S2C, seg_lit, SP),), (), SP)
    return ir.Model(
        path="m.tcpspec",
        constants={},
        instances=[ir.Instance("client", "Endpoint"), ir.Instance("server", "Endpoint")],
        state_vars=[var("client.state", STATE), var("client.snd_nxt", SEQ), var("server.state", STATE)],
        init={},
        channels=[C2S, S2C],
        transitions=[
            ir.Transition("client.active_open", "client", "active_open", (("n", IntType(1, 4)),), None,
                          lit_true(), (send_c2s,), SP),
            ir.Transition("server.recv_syn", "server", "recv_syn", (), ("seg", C2S), lit_true(), (send_s2c,), SP),
            ir.NetworkTransition("c2s.loss", C2S, "loss", (("i", IntType(0, 1)),), SP),
        ],
        properties=[],
    )


def seg(**kw: object) -> dict:
    return {"syn": False, "ack": False, "seq": 0, "ackno": 0, "len": 0, **kw}


def trace(loop: int | None = None) -> Trace:
    syn = seg(syn=True, seq=4294967295, len=1)
    synack = seg(syn=True, ack=True, seq=7, ackno=0)
    s0 = {"client.state": "CLOSED", "client.snd_nxt": 4294967295, "server.state": "LISTEN", "c2s": [], "s2c": []}
    s1 = {**s0, "client.state": "SYN_SENT", "client.snd_nxt": 0, "c2s": [syn]}
    s2 = {**s1, "server.state": "SYN_RECEIVED", "c2s": [], "s2c": [synack]}
    return Trace([
        TraceStep(0, s0),
        TraceStep(1, s1, "client.active_open", {"n": 1}, ["client.state", "client.snd_nxt", "c2s"], [], [("c2s", syn)]),
        TraceStep(2, s2, "server.recv_syn", {}, ["server.state", "c2s", "s2c"], [("c2s", syn)], [("s2c", synack)]),
    ], loop=loop)


def doc(loop: int | None = None) -> dict:
    return trace_to_itf(trace(loop), source="m.tcpspec", prop="p", verdict="violated", model=model())


def test_meta_and_vars() -> None:
    d = doc()
    assert d["#meta"]["format"] == "ITF"
    assert d["#meta"]["format-description"] == FORMAT_DESCRIPTION
    assert d["#meta"]["source"] == "m.tcpspec"
    assert (d["#meta"]["property"], d["#meta"]["verdict"]) == ("p", "violated")
    assert d["vars"] == ["client.state", "client.snd_nxt", "server.state", "c2s", "s2c"]
    assert "loop" not in d
    assert doc(loop=1)["loop"] == 1
    json.dumps(d)  # plain JSON all the way down


def test_states_encoding() -> None:
    states = doc()["states"]
    assert [s["#meta"] for s in states] == [{"index": 0}, {"index": 1}, {"index": 2}]
    s1 = states[1]
    assert s1["client.state"] == "SYN_SENT"
    assert s1["client.snd_nxt"] == {"#bigint": "0"}
    assert states[0]["client.snd_nxt"] == {"#bigint": "4294967295"}
    assert s1["c2s"] == [{"syn": True, "ack": False, "seq": {"#bigint": "4294967295"},
                          "ackno": {"#bigint": "0"}, "len": {"#bigint": "1"}}]
    assert s1["s2c"] == []


def test_action_taken_and_nondet_picks() -> None:
    states = doc()["states"]
    assert [s[ACTION_TAKEN] for s in states] == ["init", "client.active_open", "server.recv_syn"]
    assert states[0][NONDET_PICKS] == {}
    assert states[1][NONDET_PICKS] == {"n": {"tag": "Some", "value": {"#bigint": "1"}}}
    assert states[2][NONDET_PICKS] == {}


@pytest.mark.parametrize("value", [True, False, 0, -5, 2**64 - 1, "LISTEN", {"a": 1, "b": {"c": True}}, [{"x": 2}]])
def test_value_round_trip(value: object) -> None:
    assert decode_value(encode_value(value), "v") == value  # type: ignore[arg-type]


def test_bool_is_not_bigint() -> None:
    assert encode_value(True) is True
    assert encode_value(1) == {"#bigint": "1"}


def test_round_trip_without_model() -> None:
    original = trace(loop=2)
    back = itf_to_trace(json.loads(json.dumps(doc(loop=2))))
    assert [s.state for s in back.steps] == [s.state for s in original.steps]
    assert [s.transition for s in back.steps] == [s.transition for s in original.steps]
    assert [s.params for s in back.steps] == [s.params for s in original.steps]
    assert [s.changed for s in back.steps] == [s.changed for s in original.steps]
    assert back.loop == 2


def test_round_trip_with_model_recovers_messages() -> None:
    original = trace()
    back = itf_to_trace(doc(), model())
    assert back == original


def test_quint_none_picks_are_skipped() -> None:
    d = doc()
    d["states"][1][NONDET_PICKS]["other"] = {"tag": "None", "value": {"#tup": []}}
    assert itf_to_trace(d).steps[1].params == {"n": 1}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["states"][1].pop("client.state"), "no value for 'client.state'"),
        (lambda d: d["states"][1].update({"client.snd_nxt": {"#bigint": "x"}}), "bad #bigint"),
        (lambda d: d["states"][1].update({"client.snd_nxt": {"#tup": []}}), "#tup values are not supported"),
        (lambda d: d["states"][1].update({"client.snd_nxt": {"#set": []}}), "not a value of seq32"),
        (lambda d: d["states"][1].update({"client.snd_nxt": {"#map": [1]}}), "#map must be a list of"),
        (lambda d: d["states"][1].update({"client.state": "BOGUS"}), "not a value of State"),
        (lambda d: d["states"][1].update({"client.snd_nxt": {"#bigint": str(2**32)}}), "not a value of seq32"),
        (lambda d: d["states"][1].update({ACTION_TAKEN: "client.fly"}), "no transition 'client.fly'"),
        (lambda d: d["vars"].append("ghost.x"), "'ghost.x' is not a state variable"),
        (lambda d: d.update({"loop": 9}), "bad loop index"),
        (lambda d: d.pop("states"), "no 'states' list"),
    ],
)
def test_bad_itf_is_a_usage_error(mutate: object, message: str) -> None:
    d = doc()
    mutate(d)  # type: ignore[operator]
    with pytest.raises(UsageError, match=message):
        itf_to_trace(d, model())


def test_result_and_report_json() -> None:
    r = PropertyResult("both", "reachable", Verdict.REACHED, "bmc", 2, 0.1234, trace())
    itf = result_to_itf(r, "m.tcpspec")
    assert itf is not None and "witness" in itf["#meta"]["description"]
    rep = report_to_json("m.tcpspec", [r, PropertyResult("q", "invariant", Verdict.HOLDS, "bmc", 20, 1.0)])
    assert rep["model"] == "m.tcpspec"
    res = rep["results"]
    for key in ("property", "kind", "verdict", "engine", "depth", "seconds", "trace"):
        assert key in res[0] and key in res[1]
    assert res[0]["verdict"] == "reached" and res[0]["trace"]["states"][2][ACTION_TAKEN] == "server.recv_syn"
    assert res[1]["trace"] is None and res[1]["bounded"] is True
    assert rep["exit_code"] == 0
