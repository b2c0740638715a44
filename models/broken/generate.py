"""Write the broken TCP models: models/tcp.tcpspec with one fault each.

Each `tcp_*.tcpspec` here is the RFC model (its transitions, properties, lemmas) with a single
fault a careless implementer could write, so that everything else stays in step with the model
as it evolves. Run it after changing models/tcp.tcpspec:

    python models/broken/generate.py            # rewrite the files
    python models/broken/generate.py --check    # exit 1 if a file is out of date (a test does this)

A fault names the transition it changes (or none, for a whole-model change), the exact text to
replace in it, and what to put instead (marked `// FAULT`). The header says which properties
must fail (`// expect:`, checked against models/expected.json by tests/test_models_library.py).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TCP = HERE.parent / "tcp.tcpspec"
FIRST_LINE = "// Broken copy of models/tcp.tcpspec (one fault, marked FAULT below; written by generate.py)."


@dataclass(frozen=True)
class Fault:
    file: str
    header: str  # comment lines after FIRST_LINE: `// expect: ...` and what the fault is
    transition: str | None  # the transition whose text is changed; None: the whole model
    old: str
    new: str
    # Constants this copy sets otherwise (a fault that shows only with an attacker, say), so that
    # `tcpspec check` on the file shows it without -D.
    constants: tuple[tuple[str, str], ...] = ()


FAULTS = [
    Fault(
        "tcp_data_ack_plus_one.tcpspec",
        """// expect: violated client.data_ack_rule
// expect: violated server.data_ack_rule
// Fault: received text advances RCV.NXT by SEG.LEN + 1, so data is acknowledged with
// seq + len + 1 instead of seq + len (RFC 9293 §3.4).""",
        "recv_segment",
        "      rcv_nxt := seg.seq + seg.len;\n",
        "      rcv_nxt := seg.seq + seg.len + 1;   // FAULT: should be SEG.SEQ + SEG.LEN\n",
    ),
    Fault(
        "tcp_fin_no_consume.tcpspec",
        """// expect: violated client.fin_consumes_one
// expect: violated server.fin_consumes_one
// Fault: CLOSE sends the FIN but does not advance SND.NXT over it (RFC 9293 §3.4: the FIN
// occupies one sequence number).""",
        "close",
        "    snd_nxt := snd_nxt + 1;\n",
        "    // FAULT: missing snd_nxt := snd_nxt + 1;\n",
    ),
    Fault(
        "tcp_fin_data_not_counted.tcpspec",
        """// expect: violated client.fin_ack_rule
// expect: violated server.fin_ack_rule
// Fault: in ESTABLISHED a FIN advances RCV.NXT by one past SEG.SEQ, forgetting the data the
// segment carries before its FIN, so data and FIN in one segment (FIN,ACK with SEG.LEN > 0) are
// acknowledged with seq + 1 instead of seq + len + 1 (RFC 9293 §3.4, §3.10.7.4 eighth).""",
        "established_recv_fin",
        "    rcv_nxt := seg.seq + seg.len + 1;\n",
        "    rcv_nxt := seg.seq + 1;   // FAULT: should be SEG.SEQ + SEG.LEN + 1\n",
    ),
    Fault(
        "tcp_handshake_ack_off_by_one.tcpspec",
        """// expect: violated server.syn_ack_rule
// Fault: in LISTEN, RCV.NXT is set to SEG.SEQ + 2, so the SYN,ACK acknowledges the client's SYN
// with its seq + 2 instead of seq + 1 (RFC 9293 §3.4: the SYN occupies exactly one number).""",
        "listen_recv_syn",
        "    rcv_nxt := seg.seq + 1;\n",
        "    rcv_nxt := seg.seq + 2;   // FAULT: should be SEG.SEQ + 1\n",
    ),
    Fault(
        "tcp_last_ack_no_wait.tcpspec",
        """// expect: violated client.fin_acked_before_close
// expect: violated server.fin_acked_before_close
// Fault: LAST-ACK goes to CLOSED on a timer instead of waiting for the ACK of our FIN
// (RFC 9293 §3.10.7.4: "LAST-ACK STATE: The only thing that can arrive in this state is an
// acknowledgment of our FIN. If our FIN is now acknowledged, delete the TCB, enter the CLOSED
// state").""",
        "last_ack_recv_ack_of_fin",
        """  transition last_ack_recv_ack_of_fin receive seg from inbox
    when state == LAST_ACK && seg.ack && !seg.syn && !seg.rst && !seg.fin
         && (seg.seq == rcv_nxt || (REPEATS && seg.seq < rcv_nxt && rcv_nxt < seg.seq + seg.len)) && seg.ackno == snd_nxt
  {
    snd_una := seg.ackno;
""",
        """  transition last_ack_recv_ack_of_fin when state == LAST_ACK  // FAULT: no ACK awaited
  {
""",
    ),
    Fault(
        "tcp_no_time_wait.tcpspec",
        """// expect: violated client.diagram_edges
// (server.diagram_edges fails the same way, by symmetry; only the client is pinned, for speed.)
// Fault: FIN-WAIT-2 on receiving the peer's FIN goes straight to CLOSED, skipping TIME-WAIT
// (RFC 9293 §3.10.7.4 eighth: "FIN-WAIT-2 STATE: Enter the TIME-WAIT state").""",
        "fin_wait_2_recv_fin",
        "    state := TIME_WAIT;\n",
        "    state := CLOSED;   // FAULT: should be TIME_WAIT\n",
    ),
    Fault(
        "tcp_no_wraparound.tcpspec",
        """// expect: violated client.una_le_nxt
// expect: violated server.una_le_nxt
// Fault: sequence numbers are plain unsigned 32-bit numbers (bv32) instead of serial numbers
// (seq32), so every comparison -- SND.UNA < SEG.ACK =< SND.NXT, SND.UNA =< SND.NXT -- is
// unsigned. With an ISS near 2^32, SND.NXT wraps to a small number and SND.UNA =< SND.NXT
// reads false (RFC 9293 §3.4: "all arithmetic dealing with sequence numbers must be performed
// modulo 2**32").""",
        None,
        "type Seq = seq32;       // sequence numbers: 32 bits, serial (wrap-around) order, RFC 9293 §3.4\n",
        "type Seq = bv32;        // FAULT: should be seq32 (serial order, RFC 9293 §3.4)\n",
    ),
    Fault(
        "tcp_passive_time_wait.tcpspec",
        """// expect: violated server.time_wait_only_active_closer
// (client.time_wait_only_active_closer fails the same way, by symmetry; pinned: the server.)
// Fault: LAST-ACK on the ACK of our FIN enters TIME-WAIT instead of CLOSED: the passive closer
// would hold the TIME-WAIT state, which RFC 9293 §3.6 gives to the side that closes first.""",
        "last_ack_recv_ack_of_fin",
        "    state := CLOSED;\n",
        "    state := TIME_WAIT;   // FAULT: should be CLOSED\n",
    ),
    Fault(
        "tcp_simultaneous_close_time_wait.tcpspec",
        """// expect: violated client.fin_acked_in_time_wait
// expect: violated server.fin_acked_in_time_wait
// Fault: in FIN-WAIT-1, a FIN that does not acknowledge our FIN leads straight to TIME-WAIT
// instead of CLOSING (RFC 9293 §3.10.7.4 eighth: "otherwise, enter the CLOSING state"), so
// TIME-WAIT is entered with our FIN still unacknowledged.""",
        "fin_wait_1_recv_fin",
        "    state := CLOSING;\n",
        "    state := TIME_WAIT;   // FAULT: should be CLOSING\n",
    ),
    Fault(
        "tcp_reset_ack_forgets_syn.tcpspec",
        """// expect: violated client.reset_reply_rule
// expect: violated server.reset_reply_rule
// Fault: a CLOSED endpoint answers a SYN with <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> but
// leaves the SYN out of SEG.LEN, so a refused connection's RST,ACK acknowledges the SYN's seq
// instead of seq + 1 (RFC 9293 §3.10.7.1; SEG.LEN counts SYN and FIN, §3.1).""",
        "closed_recv_reset",
        "ackno: seg.seq + seg.len + (if seg.syn then 1 else 0) + (if seg.fin then 1 else 0) };\n",
        "ackno: seg.seq + seg.len + (if seg.fin then 1 else 0) };   // FAULT: the SYN is not counted\n",
    ),
    Fault(
        "tcp_reset_answers_reset.tcpspec",
        """// expect: violated client.no_reset_for_reset
// expect: violated server.no_reset_for_reset
// Fault: a CLOSED endpoint answers an incoming RST with a reset of its own (RFC 9293 §3.10.7.1:
// "An incoming segment containing a RST is discarded"), so two closed endpoints could trade
// resets for ever.""",
        "closed_recv_reset",
        "    when state == CLOSED && !seg.rst\n",
        "    when state == CLOSED   // FAULT: should be state == CLOSED && !seg.rst\n",
    ),
    Fault(
        "tcp_abort_at_una.tcpspec",
        """// expect: violated client.abort_reset_at_nxt
// expect: violated server.abort_reset_at_nxt
// Fault: ABORT sends its reset at SND.UNA instead of SND.NXT (RFC 9293 §3.10.5:
// <SEQ=SND.NXT><CTL=RST>); with anything unacknowledged the peer, expecting RCV.NXT = SND.NXT,
// would not accept it.""",
        "abort",
        "    send outbox Segment { rst: true, ack: ack, seq: snd_nxt, ackno: if ack then rcv_nxt else 0, wnd: WND };\n",
        "    send outbox Segment { rst: true, ack: ack, seq: snd_una, ackno: if ack then rcv_nxt else 0, wnd: WND };   // FAULT: seq should be SND.NXT\n",
    ),
    Fault(
        "tcp_keepalive_acked_as_data.tcpspec",
        """// expect: violated client.dup_ack_rule
// expect: violated server.dup_ack_rule
// expect: violated client.syn_ack_rule
// expect: violated server.syn_ack_rule
// Fault: a segment that is not acceptable (a keep-alive probe <SEQ=RCV.NXT-1>, an old duplicate)
// is answered with an ACK of its own end, SEG.SEQ + SEG.LEN, as if its octets were new, instead
// of RCV.NXT (RFC 9293 §3.8.4, §3.10.7.4 first check); a SYN in a synchronized state is
// answered so too (syn_ack_rule). Keep-alive probes are on in this copy.""",
        "recv_unacceptable",
        "      send outbox Segment { ack: true, seq: snd_nxt, ackno: rcv_nxt, wnd: WND };\n",
        "      send outbox Segment { ack: true, seq: snd_nxt, ackno: seg.seq + seg.len, wnd: WND };   // FAULT: should be RCV.NXT\n",
        constants=(("KEEPALIVE", "true"),),
    ),
    Fault(
        "tcp_keepalive_at_nxt.tcpspec",
        """// expect: violated client.sent_within_snd_nxt
// expect: violated server.sent_within_snd_nxt
// Fault: a keep-alive probe is sent at SND.NXT instead of SND.NXT-1, so its garbage octet is a
// new one that SND.NXT does not count (RFC 9293 §3.8.4, §3.3.1). Keep-alive probes are on in
// this copy.""",
        "send_keepalive",
        "    send outbox Segment { ack: true, seq: snd_nxt - 1, ackno: rcv_nxt, len: if garbage then 1 else 0, wnd: WND };\n",
        "    send outbox Segment { ack: true, seq: snd_nxt, ackno: rcv_nxt, len: if garbage then 1 else 0, wnd: WND };   // FAULT: should be SND.NXT - 1\n",
        constants=(("KEEPALIVE", "true"),),
    ),
    Fault(
        "tcp_syn_sent_any_ack.tcpspec",
        """// expect: violated client.una_le_nxt
// defines: ATTACK=true
// Fault: SYN-SENT accepts a SYN,ACK whatever its SEG.ACK (RFC 9293 §3.10.7.3: acceptable only
// if SND.UNA < SEG.ACK =< SND.NXT) and sets SND.UNA to it. On a reliable network every SYN,ACK
// acknowledges exactly our SYN, so the fault shows with an attacker (-D ATTACK=true, this
// copy's default): a forged SYN,ACK moves SND.UNA past SND.NXT.""",
        "syn_sent_recv_syn_ack",
        "    when state == SYN_SENT && seg.syn && seg.ack && !seg.rst && seg.ackno == snd_nxt\n",
        "    when state == SYN_SENT && seg.syn && seg.ack && !seg.rst   // FAULT: SEG.ACK not checked\n",
        constants=(("ATTACK", "true"),),
    ),
    Fault(
        "tcp_una_wrong.tcpspec",
        """// expect: violated client.una_moves_to_ack
// expect: violated server.una_moves_to_ack
// Fault: ACK processing sets SND.UNA to SND.NXT (as if everything sent were acknowledged)
// instead of SEG.ACK (RFC 9293 §3.10.7.4: "set SND.UNA <- SEG.ACK"); it shows when an ACK
// covers only part of the data in flight.""",
        "recv_segment",
        "      snd_una := seg.ackno;\n",
        "      snd_una := snd_nxt;   // FAULT: should be SEG.ACK\n",
    ),
]


def _body(text: str) -> str:
    """tcp.tcpspec without its header comment (the broken copy has its own)."""
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines) and (lines[i].startswith("//") or not lines[i].strip()):
        i += 1
    return "".join(lines[i:])


def apply(fault: Fault, tcp_text: str) -> str:
    """The broken model's text. Raises ValueError when the fault no longer fits the model."""
    body = _body(tcp_text)
    if fault.transition is None:
        start, end = 0, len(body)
    else:
        found = re.search(rf"^  transition {fault.transition}\s", body, re.MULTILINE)
        if found is None:
            raise ValueError(f"{fault.file}: no transition {fault.transition} in {TCP.name}")
        start = found.start()
        following = body.find("\n  transition ", start + 1)
        end = len(body) if following < 0 else following
    if body.count(fault.old, start, end) != 1:
        raise ValueError(f"{fault.file}: the text to replace is not there exactly once: {fault.old!r}")
    at = body.index(fault.old, start, end)
    broken = body[:at] + fault.new + body[at + len(fault.old):]
    for name, value in fault.constants:
        line = re.compile(rf"^const {name} = [^;]*;.*$", re.MULTILINE)
        if len(line.findall(broken)) != 1:
            raise ValueError(f"{fault.file}: no single `const {name}` in {TCP.name}")
        broken = line.sub(f"const {name} = {value};   // this copy's default (the fault needs it; see above)", broken)
    return f"{FIRST_LINE}\n{fault.header}\n\n{broken}"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    text = TCP.read_text(encoding="utf-8")
    stale = []
    for fault in FAULTS:
        path = HERE / fault.file
        want = apply(fault, text)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != want:
                stale.append(fault.file)
        else:
            path.write_text(want, encoding="utf-8")
    if stale:
        print("out of date (run python models/broken/generate.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
