"""The text report: exact layout of a small handcrafted TCP run, and the value formats."""

from __future__ import annotations

import pytest

from tcpspec.render.text import (
    WIDTH,
    format_message,
    format_value,
    render_report,
    render_summary,
    step_title,
    wrap_items,
)
from tcpspec.core.results import PropertyResult, Verdict
from tcpspec.core.trace import Trace, TraceStep


def seg(**kw: object) -> dict:
    return {"syn": False, "ack": False, "fin": False, "seq": 0, "ackno": 0, "len": 0, **kw}


def handshake_trace() -> Trace:
    syn = seg(syn=True, seq=100)
    synack = seg(syn=True, ack=True, seq=4294967295, ackno=102)
    s0 = {"client.state": "CLOSED", "client.snd_nxt": 100, "client.active": False,
          "server.state": "LISTEN", "server.rcv_nxt": 0, "c2s": [], "s2c": []}
    s1 = {**s0, "client.state": "SYN_SENT", "client.snd_nxt": 101, "client.active": True, "c2s": [syn]}
    s2 = {**s1, "server.state": "SYN_RECEIVED", "server.rcv_nxt": 101, "c2s": [], "s2c": [synack]}
    return Trace([
        TraceStep(0, s0),
        TraceStep(1, s1, "client.active_open", sent=[("c2s", syn)]),
        TraceStep(2, s2, "server.recv_syn", params={"wnd": 3},
                  received=[("c2s", syn)], sent=[("s2c", synack)]),
    ])


def results() -> list[PropertyResult]:
    return [
        PropertyResult("server.syn_ack_rule", "step", Verdict.VIOLATED, "bmc", 2, 0.5,
                       handshake_trace(), doc="Seed rule: the ack is the peer's seq + 1."),
        PropertyResult("una_le_nxt", "invariant", Verdict.HOLDS, "bmc", 20, 1.25, doc="not shown"),
        PropertyResult("both_established", "reachable", Verdict.UNREACHED, "bmc", 20, 3.0,
                       doc="Both sides can complete the handshake."),
        PropertyResult("deep", "invariant", Verdict.UNKNOWN, "bmc", 7, 10.0, detail="timeout after 10s"),
    ]


GOLDEN = """\
model: models/handshake.tcpspec

violated   server.syn_ack_rule  step        bmc       depth 2      0.50s  (counterexample of 2 steps)
    Seed rule: the ack is the peer's seq + 1.
    counterexample (2 steps):
      step 0  init
              client.state = CLOSED, client.snd_nxt = 100, client.active = false, server.state = LISTEN,
              server.rcv_nxt = 0, c2s = [], s2c = []
      step 1  client.active_open
              send c2s <- SYN seq=100 ack=0 len=0
              client.state: CLOSED -> SYN_SENT, client.snd_nxt: 100 -> 101, client.active: false -> true
      step 2  server.recv_syn(wnd=3)   <-- violates server.syn_ack_rule
              recv c2s -> SYN seq=100 ack=0 len=0
              send s2c <- SYN,ACK seq=4294967295 ack=102 len=0
              server.state: LISTEN -> SYN_RECEIVED, server.rcv_nxt: 0 -> 101

holds      una_le_nxt           invariant   bmc       depth 20     1.25s  (no violation in 20 steps; bounded)
unreached  both_established     reachable   bmc       depth 20     3.00s  (not reached in 20 steps; bounded)
    Both sides can complete the handshake.
unknown    deep                 invariant   bmc       depth 7     10.00s  (timeout after 10s)

4 properties: 1 holds, 1 violated, 1 unreached, 1 unknown
"""


def test_golden_report() -> None:
    assert render_report("models/handshake.tcpspec", results(), verbose=True) == GOLDEN


# The calm report of the same results: the violation and its trace as above, then the other
# properties that need attention, then one line for the bounded `holds`.
CALM = GOLDEN.split("holds      una_le_nxt")[0] + """\
unreached  both_established     reachable   bmc       depth 20     3.00s  (not reached in 20 steps; bounded)
    Both sides can complete the handshake.
unknown    deep                 invariant   bmc       depth 7     10.00s  (timeout after 10s)

1 holds, no violation within 20 steps (bounded, not proved): 1 invariant

4 properties: 1 holds, 1 violated, 1 unreached, 1 unknown
"""


def test_calm_report_puts_what_needs_attention_first_and_groups_the_rest() -> None:
    rs = results()
    assert render_report("models/handshake.tcpspec", [rs[1], rs[3], rs[2], rs[0]]) == CALM  # violations first


def _proved(name: str, kind: str, seconds: float) -> PropertyResult:
    return PropertyResult(name, kind, Verdict.PROVED, "kind", None, seconds, detail="1-inductive; certificate re-checked")


def test_calm_report_groups_proofs_by_kind_and_witnesses_by_depth() -> None:
    rs = [_proved("a", "invariant", 1.0), _proved("b", "lemma", 14.2), _proved("c", "step", 3.0),
          _proved("d", "lemma", 2.0),
          PropertyResult("far", "reachable", Verdict.REACHED, "bmc", 12, 7.5, handshake_trace()),
          PropertyResult("near", "reachable", Verdict.REACHED, "bmc", 4, 1.0, handshake_trace()),
          PropertyResult("near2", "reachable", Verdict.REACHED, "bmc", 4, 1.1, handshake_trace())]
    assert render_report("m", rs).splitlines() == [
        "model: m", "",
        "4 proved in 14.2 s: 1 invariant, 1 step property, 2 lemmas",
        "    (kind: 1-inductive; certificate re-checked)",
        "3 reached in 7.5 s, shortest witnesses at depth 4: near near2; depth 12: far",
        "",
        "7 properties: 4 proved, 3 reached",
    ]


def test_calm_report_wraps_a_long_list_of_witnesses() -> None:
    rs = [PropertyResult(f"target_number_{i}", "reachable", Verdict.REACHED, "bmc", i, 1.0, handshake_trace())
          for i in range(12)]
    lines = render_report("m", rs).splitlines()
    assert all(len(line) <= WIDTH for line in lines)
    assert lines[3].startswith("    depth ") and "target_number_11" in lines[-3]


def test_lines_fit_width() -> None:
    for line in render_report("m.tcpspec", results()).splitlines():
        assert len(line) <= WIDTH, line


def test_witness_of_reachable() -> None:
    r = PropertyResult("both_established", "reachable", Verdict.REACHED, "bmc", 2, 0.0, handshake_trace())
    out = render_report("m.tcpspec", [r], verbose=True)
    assert "    witness (2 steps):" in out
    assert "counterexample" not in out
    assert "<-- reaches both_established" in out
    assert "(witness of 2 steps)" in out
    assert out.endswith("1 property: 1 reached\n")


def test_network_fault_shows_channel_change_and_loop() -> None:
    a, b = seg(seq=1), seg(seq=2)
    t = Trace([TraceStep(0, {"c2s": [a, b]}), TraceStep(1, {"c2s": [b]}, "c2s.loss", params={"i": 0})], loop=0)
    r = PropertyResult("p", "invariant", Verdict.VIOLATED, "bmc", 1, 0.0, t)
    lines = render_report("m", [r]).splitlines()
    assert "      step 1  c2s.loss(i=0)   <-- violates p" in lines
    assert "              c2s: [- seq=1 ack=0 len=0, - seq=2 ack=0 len=0] -> [- seq=2 ack=0 len=0]" in lines
    assert "              (then loops back to step 0)" in lines


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (False, "false"), (4294967295, "4294967295"), ("ESTABLISHED", "ESTABLISHED"),
     (-3, "-3"), ([], "[]")],
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text  # type: ignore[arg-type]


def test_tcp_like_message_with_extra_fields() -> None:
    m = {"syn": False, "ack": True, "fin": True, "rst": False, "seq": 7, "ackno": 9, "len": 2, "wnd": 4}
    assert format_message(m) == "ACK,FIN seq=7 ack=9 len=2 wnd=4"


def test_generic_message() -> None:
    assert format_message({"value": 3, "ok": True}, "Data") == "Data{value=3,ok=true}"
    assert format_message({"seq": 3}) == "{seq=3}"  # a seq alone is not TCP-like


def test_step_title() -> None:
    assert step_title(TraceStep(0, {})) == "init"
    assert step_title(TraceStep(1, {}, "client.send_data", {"n": 159, "urgent": False})) == (
        "client.send_data(n=159, urgent=false)"
    )


def test_wrap_items_continues_lines() -> None:
    items = [f"v{i}: {i} -> {i + 1}" for i in range(40)]
    lines = wrap_items(items, "    ", width=60)
    assert len(lines) > 1
    assert all(len(line) <= 60 for line in lines)
    assert all(line.startswith("    ") for line in lines)
    assert ", ".join(line.strip().rstrip(",") for line in lines) == ", ".join(items)


def test_summary() -> None:
    assert render_summary([]) == "0 properties"
    rs = [PropertyResult("a", "invariant", Verdict.PROVED, "kind", None, 0.0)] * 2
    assert render_summary(rs) == "2 properties: 2 proved"


def test_one_step_is_said_in_the_singular() -> None:
    from tcpspec.render.text import verdict_note

    one = Trace(handshake_trace().steps[:2])
    assert verdict_note(PropertyResult("p", "invariant", Verdict.HOLDS, "bmc", 1, 0.1)) == "(no violation in 1 step; bounded)"
    assert verdict_note(PropertyResult("p", "invariant", Verdict.VIOLATED, "bmc", 1, 0.1, one)) == "(counterexample of 1 step)"
    assert verdict_note(PropertyResult("p", "invariant", Verdict.HOLDS, "bmc", 2, 0.1)) == "(no violation in 2 steps; bounded)"


def test_an_interrupted_report_shows_the_results_it_was_given() -> None:
    """Ctrl-C: whatever had finished is reported as usual, and the report says it is partial."""
    rs = results()
    lines = render_report("m", [rs[0], rs[1]], interrupted=True).splitlines()
    assert lines[2].startswith("violated   server.syn_ack_rule") and lines[-4].startswith("1 holds, no violation")
    assert lines[-2:] == ["interrupted: only the results above are complete", "2 properties: 1 holds, 1 violated"]
