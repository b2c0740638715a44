"""`tcpspec diff`: the shortest message sequence one model sends and the other cannot.

Small bounds and small models keep each test to a few seconds; the long comparisons (the
seed's teardown, RFC 9293 against itself deeper) run with TCPSPEC_LONG=1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tcpspec.cli import main
from tcpspec.core.diagnostics import UsageError
from tcpspec.analyses.diff import comparable, diff_models, load_pair
from tcpspec.interp.search import run_is_behaviour
from tcpspec.run.pipeline import load_model

ROOT = Path(__file__).resolve().parents[1]
SEED = str(ROOT / "models/seed_handshake.tcpspec")
TCP = str(ROOT / "models/tcp.tcpspec")
BROKEN = ROOT / "models/broken"
LONG = pytest.mark.skipif(os.environ.get("TCPSPEC_LONG") != "1", reason="long run: TCPSPEC_LONG=1")
MOD32 = 1 << 32

RETRANSMIT = """
  // EXTRA: the client may send its SYN again while it waits in SYN_SENT.
  transition retransmit_syn when state == SYN_SENT {
    send outbox Segment { syn: true, seq: iss };
  }
"""


def _with_extra_transition(tmp_path: Path) -> str:
    """The seed model with one more client transition (a SYN retransmission)."""
    text = Path(SEED).read_text(encoding="utf-8")
    anchor = "  // 第三次握手"
    assert anchor in text
    path = tmp_path / "seed_retransmit.tcpspec"
    path.write_text(text.replace(anchor, RETRANSMIT + "\n" + anchor, 1), encoding="utf-8")
    return str(path)


def test_a_model_against_itself_has_no_difference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", SEED, SEED, "--depth", "2"]) == 0
    out = capsys.readouterr().out
    assert "same: every message sequence a run of either model of <= 2 steps sends, a run of the other of <= 4" in out
    assert "(compared up to 2 messages; " in out


def test_tcp_against_the_off_by_one_handshake_ack() -> None:
    a, b = load_model(TCP), load_model(str(BROKEN / "tcp_handshake_ack_off_by_one.tcpspec"))
    r = diff_models(a, b, depth=3, other_depth=3, directions=("a",))
    assert r.verdict == "different" and r.producer == "a" and r.first_unmatched == 2
    (c1, syn), (c2, synack) = r.messages
    # either endpoint may open (one process, two instances): a SYN one way, the SYN,ACK back,
    # acknowledging the SYN with its seq + 1 where the broken model would say seq + 2
    assert {c1, c2} == {"c2s", "s2c"} and (syn["syn"], syn["ack"]) == (True, False)
    assert (synack["syn"], synack["ack"]) == (True, True)
    assert synack["ackno"] == (syn["seq"] + 1) % MOD32
    assert r.witness is not None and run_is_behaviour(a, r.witness).ok
    assert r.other_prefix is not None and [c for s in r.other_prefix.steps for c, _ in s.sent] == [c1]


def test_the_broken_model_is_seen_from_both_sides(capsys: pytest.CaptureFixture[str]) -> None:
    broken = str(BROKEN / "seed_ack_plus_two.tcpspec")
    assert main(["diff", broken, SEED, "--depth", "2", "--direction", "a-not-b"]) == 1
    out = capsys.readouterr().out
    assert "A sends these 2 messages; B can send the first 1 but not message 2:" in out
    lines = [ln for ln in out.splitlines() if "<-- B cannot send this here" in ln]
    assert len(lines) == 1 and "s2c" in lines[0] and "SYN,ACK" in lines[0] and "ack=2" in lines[0]
    assert "A's run (2 steps):" in out and "B's run sending the first 1 (1 step):" in out


def test_an_extra_transition_is_a_difference_in_one_direction_only(tmp_path: Path) -> None:
    extra = _with_extra_transition(tmp_path)
    a, b = load_pair(extra, SEED, {})
    r = diff_models(a, b, depth=2)
    assert r.verdict == "different" and r.producer == "a" and r.first_unmatched == 2
    assert [(c, m["syn"], m["seq"]) for c, m in r.messages] == [("c2s", True, r.messages[0][1]["seq"])] * 2
    assert r.witness is not None and r.witness.steps[-1].transition == "client.retransmit_syn"
    back = diff_models(a, b, depth=2, directions=("b",))
    assert back.verdict == "same" and back.longest == 2


def test_the_seed_and_rfc_9293_models_are_not_comparable_as_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", SEED, TCP]) == 2
    err = capsys.readouterr().err
    assert "not comparable" in err and "field 'rst' is only in model B's Segment" in err
    assert "field 'len' is 0..4 in model A but 0..2 in model B" in err
    assert comparable(load_model(SEED), load_model(SEED)) == []


def test_absent_fields_as_default_make_the_seed_comparable_with_rfc_9293(capsys: pytest.CaptureFixture[str]) -> None:
    """RFC 9293's model lets either side open; the seed's server only listens."""
    assert main(["diff", SEED, TCP, "-D", "MAXLEN=2", "--absent-as-default", "--direction", "b-not-a",
                 "--depth", "3"]) == 1
    out = capsys.readouterr().out
    assert "B sends a first message that A cannot send first:" in out
    assert [ln.split()[:3] for ln in out.splitlines() if "<-- A cannot" in ln] == [["1", "s2c", "SYN"]]


def test_other_protocols_have_other_channels(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", SEED, str(ROOT / "models/abp.tcpspec")]) == 2
    assert "channel 'c2s' is only in model A" in capsys.readouterr().err


def test_defines_apply_to_each_model_that_declares_them(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match="no constant named 'NOPE' in either model"):
        load_pair(SEED, SEED, {"NOPE": "1"})
    a, b = load_pair(SEED, TCP, {"MAXLEN": "2"})
    assert "len" not in " ".join(comparable(a, b))  # MAXLEN only in A, it aligns the lengths
    assert main(["diff", SEED, SEED, "-D", "NOPE=1"]) == 2
    assert "NOPE" in capsys.readouterr().err


def test_json_and_mermaid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = str(BROKEN / "seed_ack_plus_two.tcpspec")
    assert main(["diff", SEED, broken, "--depth", "2", "--direction", "a-not-b", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "different" and doc["first_unmatched"] == 2 and doc["exit_code"] == 1
    assert [m["other_can"] for m in doc["messages"]] == [True, False]
    assert doc["messages"][1]["label"].startswith("SYN,ACK") and doc["witness"]["#meta"]["source"] == SEED
    svg = tmp_path / "d.svg"
    assert main(["diff", SEED, broken, "--depth", "2", "--direction", "a-not-b", "--format", "mermaid",
                 "--svg", str(svg)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("sequenceDiagram") and "cannot send message 2" in out
    assert "<svg" in svg.read_text()


SLOW = """message M { v: 0..3 }
channel c: M[2];
process P(out: chan M) {
  var phase: 0..3 = 0;
  transition go when phase == 0 { phase := 1; }
  transition send_one when phase == SENDS_AT { send out M { v: 1 }; phase := 2; }
}
instance p = P(out: c);
"""


def test_a_model_that_needs_more_steps_is_no_difference_with_the_default_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    fast, slow = tmp_path / "fast.tcpspec", tmp_path / "slow.tcpspec"
    fast.write_text("const SENDS_AT = 0;\n" + SLOW)
    slow.write_text("const SENDS_AT = 1;\n" + SLOW)
    assert main(["diff", str(fast), str(slow), "--depth", "1", "--direction", "a-not-b"]) == 0
    capsys.readouterr()
    assert main(["diff", str(fast), str(slow), "--depth", "1", "--direction", "a-not-b", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["verdict"], doc["other_depth"], doc["longest_compared"], doc["exit_code"]) == ("same", 2, 1, 0)
    assert main(["diff", str(fast), str(slow), "--depth", "1", "--direction", "a-not-b", "--format", "mermaid"]) == 0
    assert capsys.readouterr().out == "%% tcpspec diff: same\n"
    assert main(["diff", str(fast), str(slow), "--depth", "1", "--other-depth", "1"]) == 1
    out = capsys.readouterr().out
    assert "note: model B sends this sequence in a run of 2 steps: this is a difference within --other-depth 1 only" in out
    # -D SENDS_AT=... applies to both models: then they are the same
    assert main(["diff", str(fast), str(slow), "--depth", "3", "-D", "SENDS_AT=1"]) == 0


def test_network_faults_are_not_observed_but_their_effects_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The alternating-bit protocol with duplicating channels against without: a duplicated
    frame is no send, but the receiver acknowledging it twice is."""
    abp = ROOT / "models/abp.tcpspec"
    dup = tmp_path / "abp_dup.tcpspec"
    text = abp.read_text(encoding="utf-8")
    assert "const DUP = false;" in text
    dup.write_text(text.replace("const DUP = false;", "const DUP = true;"), encoding="utf-8")
    assert main(["diff", str(dup), str(abp), "-D", "CAP=2", "--depth", "4"]) == 1
    out = capsys.readouterr().out
    assert "A sends these 3 messages; B can send the first 2 but not message 3:" in out
    marked = [ln.split() for ln in out.splitlines() if ln.strip()[:1].isdigit() and "cannot send" in ln]
    assert marked == [["3", "acks", "Ack{bit=false}", "<--", "B", "cannot", "send", "this", "here"]]
    assert "duplication" in out  # the witness shows the network step that duplicated the frame
    # with room for one frame only, nothing can be duplicated: the same sends within 4 steps
    assert main(["diff", str(dup), str(abp), "--depth", "4"]) == 0


def test_a_timeout_is_unknown_not_same(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", TCP, TCP, "--depth", "8", "--timeout", "0.5"]) == 3
    assert "unknown:" in capsys.readouterr().out


@LONG
def test_the_seed_teardown_without_fin_numbers() -> None:
    broken = str(BROKEN / "seed_fin_no_consume.tcpspec")
    a, b = load_model(SEED), load_model(broken)
    r = diff_models(a, b, depth=10)
    assert r.verdict == "different"
    last = r.messages[-1][1]
    assert last["ack"] and not last["syn"]


@LONG
def test_the_seed_acknowledging_at_once_is_a_behaviour_of_rfc_9293() -> None:
    """The whole scenario, four-way close included: 11 messages RFC 9293's model sends too."""
    a, b = load_pair(str(ROOT / "examples/diff/seed_immediate_ack.tcpspec"), TCP, {"MAXLEN": "2"})
    r = diff_models(a, b, depth=16, other_depth=20, directions=("a",), absent_default=True)
    assert r.verdict == "same" and r.longest == 11


@LONG
def test_the_data_ack_off_by_one_in_rfc_9293() -> None:
    a, b = load_model(TCP), load_model(str(BROKEN / "tcp_data_ack_plus_one.tcpspec"))
    r = diff_models(a, b, depth=7, directions=("a",))
    assert r.verdict == "different" and r.first_unmatched == 5
    data, ack = r.messages[3][1], r.messages[4][1]
    assert data["len"] > 0 and ack["ack"] and ack["len"] == 0
    assert ack["ackno"] == (data["seq"] + data["len"]) % MOD32
