"""The checker: well-typed models give the expected IR; each class of mistake gives its message."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcpspec.frontend import ast, ast_expr

from tcpspec.checker import ir
from tcpspec.checker.check import check_program
from tcpspec.core.diagnostics import ModelError, Span, UsageError
from tcpspec.frontend.parser import parse_text
from tcpspec.core.types import BOOL, INT, BitVecType, EnumType, IntType

PATH = "m.tcpspec"

FIRST_EXAMPLE = """\
const MAX = 3;

message Data { value: 0..MAX }

channel wire: Data[1];

process Sender(out: chan Data) {
  var sent: bool = false;
  transition send_one choose v: 1..MAX when !sent {
    send out Data { value: v };
    sent := true;
  }
}

process Receiver(in: chan Data) {
  var got: 0..MAX = 0;
  transition take receive d from in {
    got := d.value;
  }
}

instance s = Sender(out: wire);
instance r = Receiver(in: wire);

/// The receiver only ever holds a value the sender could have sent.
invariant got_in_range: r.got <= MAX;

/// The message can arrive.
reachable delivered: r.got == MAX;
"""

TCP = """\
const CAP = 2;
const MSS = 4;
const LOSSY = false;
enum State { CLOSED, LISTEN, SYN_SENT, ESTABLISHED }
type Len = 0..MSS;
message Segment {
  syn: bool = false,
  ack: bool = false,
  seq: seq32,
  ackno: seq32 = 0,
  len: Len = 0
}
channel c2s: Segment[CAP] with loss = LOSSY, duplication, reordering, injection;
channel s2c: Segment[CAP] with loss;

process Endpoint(inbox: chan Segment, outbox: chan Segment, passive: bool) {
  var state: State = if passive then LISTEN else CLOSED;
  var iss: seq32;
  var snd_nxt: seq32 = iss;
  var snd_una: seq32 = iss;
  var rcv_nxt: seq32 = 0;

  transition active_open when state == CLOSED {
    send outbox Segment { syn: true, seq: iss };
    snd_nxt := iss + 1;
    state := SYN_SENT;
  }

  transition send_data choose n: 1..MSS when state == ESTABLISHED && snd_nxt - snd_una < 10 {
    send outbox Segment { ack: true, seq: snd_nxt, ackno: rcv_nxt, len: n };
    snd_nxt := snd_nxt + n;
  }

  transition recv_data receive seg from inbox when seg.seq > rcv_nxt {
    rcv_nxt := seg.seq + seg.len;
  }

  /// SND.UNA =< SND.NXT
  invariant una_le_nxt: snd_una <= snd_nxt;

  step syn_ack_rule:
    on receive r from inbox, send m to outbox
    when r.syn && m.ack
    ensure m.ackno == r.seq + 1 && snd_nxt' == iss + 1;
}

instance client = Endpoint(inbox: s2c, outbox: c2s, passive: false);
instance server = Endpoint(inbox: c2s, outbox: s2c, passive: true);

reachable both: client.state == ESTABLISHED && server.state == ESTABLISHED;
step stays_open: when client.state == ESTABLISHED ensure client.state' == ESTABLISHED;
"""

# A small prelude for error cases: the snippet under test starts on line PRELUDE_LINES + 1.
PRELUDE = """\
const MSS = 4;
enum State { CLOSED, OPEN }
message Segment { seq: seq32, len: 0..MSS = 0 }
message Ack { ackno: seq32 }
channel c2s: Segment[2];
channel acks: Ack[2];
"""
PRELUDE_LINES = PRELUDE.count("\n")


def program(*texts: str) -> ast.Program:
    """A program of one file per text, the first being the root."""
    paths = [PATH] + [f"f{i}.tcpspec" for i in range(1, len(texts))]
    files = [parse_text(text, path) for text, path in zip(texts, paths)]
    return ast.Program(root=PATH, files=files, sources=dict(zip(paths, texts)))


def check(text: str, defines: dict[str, str] | None = None) -> ir.Model:
    return check_program(program(text), defines or {})


def errors(text: str, defines: dict[str, str] | None = None) -> list[tuple[int, int, str, tuple[str, ...]]]:
    with pytest.raises(ModelError) as info:
        check(text, defines)
    out = []
    for d in info.value.diagnostics:
        assert d.span is not None, d
        out.append((d.span.line, d.span.col, d.message, d.notes))
    return out


def proc(body: str, params: str = "inbox: chan Segment, out: chan Segment") -> str:
    """A one-instance process around `body`; `body` starts on line PRELUDE_LINES + 3."""
    return (
        PRELUDE
        + f"process P({params}) {{\n  var x: seq32 = 0;\n{body}\n}}\n"
        + ("instance p = P(inbox: c2s, out: c2s);\n" if "inbox" in params else "instance p = P();\n")
    )


BODY = PRELUDE_LINES + 3  # the line of the first body line in `proc`


# ---------------------------------------------------------------- well-typed models


def test_first_example_shape() -> None:
    m = check(FIRST_EXAMPLE)
    assert [i.name for i in m.instances] == ["s", "r"]
    assert [v.name for v in m.state_vars] == ["s.sent", "r.got"]
    assert [t.name for t in m.transitions] == ["s.send_one", "r.take"]
    assert [p.name for p in m.properties] == ["got_in_range", "delivered", "range_ok"]
    assert m.constants == {"MAX": 3}
    assert m.path == PATH and PATH in m.sources
    send_one = m.transition("s.send_one")
    assert isinstance(send_one, ir.Transition)
    assert send_one.params == (("v", IntType(1, 3)),)
    take = m.transition("r.take")
    assert isinstance(take, ir.Transition) and take.receive is not None
    assert take.receive[0] == "d" and take.receive[1].name == "wire"
    assert take.guard == ir.Lit(True, BOOL, take.span)
    inv = m.property("got_in_range")
    assert inv.doc.startswith("The receiver only ever holds")
    assert isinstance(inv.expr, ir.Binary) and inv.expr.op == "le"
    assert isinstance(inv.expr.left, ir.Var) and inv.expr.left.var.name == "r.got"
    assert inv.expr.right == ir.Lit(3, INT, inv.expr.right.span)
    range_ok = m.property("range_ok")
    assert range_ok.builtin and range_ok.kind == ir.PropertyKind.STEP


@pytest.fixture(scope="module")
def tcp() -> ir.Model:
    return check(TCP)


def test_tcp_names_and_order(tcp: ir.Model) -> None:
    assert [t.name for t in tcp.transitions] == [
        "client.active_open", "client.send_data", "client.recv_data",
        "server.active_open", "server.send_data", "server.recv_data",
        "c2s.duplication", "c2s.reordering", "c2s.injection", "s2c.loss",
    ]
    assert [p.name for p in tcp.properties] == [
        "client.una_le_nxt", "client.syn_ack_rule", "server.una_le_nxt",
        "server.syn_ack_rule", "both", "stays_open", "range_ok",
    ]
    assert tcp.var("server.snd_nxt").type == BitVecType(32, serial=True)
    assert tcp.channel("c2s").faults == frozenset({"duplication", "reordering", "injection"})


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("c2s.duplication", (("i", IntType(0, 1)),)),
        ("c2s.reordering", (("i", IntType(0, 0)),)),
        ("s2c.loss", (("i", IntType(0, 1)),)),
        ("c2s.injection", (("syn", BOOL), ("ack", BOOL), ("seq", BitVecType(32, True)),
                           ("ackno", BitVecType(32, True)), ("len", IntType(0, 4)))),
    ],
)
def test_network_transitions(tcp: ir.Model, name: str, params: tuple[tuple[str, object], ...]) -> None:
    t = tcp.transition(name)
    assert isinstance(t, ir.NetworkTransition) and t.params == params


def test_seq_plus_len_converts(tcp: ir.Model) -> None:
    t = tcp.transition("client.recv_data")
    assert isinstance(t, ir.Transition)
    (assign,) = t.body
    assert isinstance(assign, ir.Assign) and assign.target.name == "client.rcv_nxt"
    value = assign.value
    assert isinstance(value, ir.Binary) and value.op == "add" and value.type == BitVecType(32, True)
    assert isinstance(value.right, ir.Convert) and value.right.type == BitVecType(32, True)
    assert isinstance(value.right.arg, ir.Field) and value.right.arg.field == "len"


def test_greater_becomes_swapped_lt(tcp: ir.Model) -> None:
    t = tcp.transition("client.recv_data")
    assert isinstance(t, ir.Transition) and isinstance(t.guard, ir.Binary)
    assert t.guard.op == "lt"
    assert isinstance(t.guard.left, ir.Var) and t.guard.left.var.name == "client.rcv_nxt"
    assert isinstance(t.guard.right, ir.Field) and t.guard.right.field == "seq"


def test_seqdiff_and_choose(tcp: ir.Model) -> None:
    t = tcp.transition("server.send_data")
    assert isinstance(t, ir.Transition) and isinstance(t.guard, ir.Binary)
    diff = t.guard.right
    assert isinstance(diff, ir.Binary) and diff.op == "lt"
    assert isinstance(diff.left, ir.Binary) and diff.left.op == "seqdiff" and diff.left.type == INT
    assert t.params == (("n", IntType(1, 4)),)


def test_message_defaults_filled_in_order(tcp: ir.Model) -> None:
    t = tcp.transition("client.active_open")
    assert isinstance(t, ir.Transition)
    send = t.body[0]
    assert isinstance(send, ir.Send) and send.channel.name == "c2s"
    assert isinstance(send.message, ir.RecordLit)
    fields = dict(send.message.fields)
    assert list(fields) == ["syn", "ack", "seq", "ackno", "len"]
    assert fields["ack"].type == BOOL and isinstance(fields["ack"], ir.Lit) and fields["ack"].value is False
    assert isinstance(fields["ackno"], ir.Lit) and fields["ackno"].value == 0


def test_init_and_value_params(tcp: ir.Model) -> None:
    assert "client.iss" not in tcp.init
    snd_nxt = tcp.init["client.snd_nxt"]
    assert isinstance(snd_nxt, ir.Var) and snd_nxt.var.name == "client.iss" and not snd_nxt.primed
    state = tcp.init["server.state"]
    assert isinstance(state, ir.Ite) and state.cond == ir.Lit(True, BOOL, state.cond.span)
    assert isinstance(state.type, EnumType) and state.type.name == "State"


def test_step_properties(tcp: ir.Model) -> None:
    rule = tcp.property("server.syn_ack_rule")
    assert rule.kind == ir.PropertyKind.STEP and rule.instance == "server"
    assert [(e.kind, e.binding, e.channel.name) for e in rule.events] == [
        ("receive", "r", "c2s"), ("send", "m", "s2c"),
    ]
    assert isinstance(rule.expr, ir.Binary) and isinstance(rule.expr.right, ir.Binary)
    primed = rule.expr.right.left
    assert isinstance(primed, ir.Var) and primed.primed and primed.var.name == "server.snd_nxt"
    top = tcp.property("stays_open")
    assert top.instance is None and top.when is not None
    assert isinstance(top.expr, ir.Binary) and isinstance(top.expr.left, ir.Var) and top.expr.left.primed


def test_no_range_ok_without_bounded_stores() -> None:
    m = check("message M { b: bool }\nchannel c: M[1];\n"
              "process P(o: chan M) { var s: seq8; transition t { s := s + 1; send o M { b: true }; } }\n"
              "instance p = P(o: c);\n")
    assert [p.name for p in m.properties] == []


def test_defines_override_in_order() -> None:
    text = "const A = 2;\nconst B = A * 2;\nconst ON = false;\nconst C = if ON then B else -1;\n"
    assert check(text).constants == {"A": 2, "B": 4, "ON": False, "C": -1}
    assert check(text, {"A": "0x10", "ON": "true"}).constants == {"A": 16, "B": 32, "ON": True, "C": 32}
    assert check(text, {"A": "-3"}).constants["B"] == -6


def test_imported_constants_come_first() -> None:
    """load_program lists imports before their importer; constants follow that order."""
    lib = parse_text("const A = 1;\n", "lib.tcpspec")
    root = parse_text('import "lib.tcpspec";\nconst B = A + 1;\n', PATH)
    m = check_program(ast.Program(PATH, [lib, root], {}), {"A": "5"})
    assert m.constants == {"A": 5, "B": 6}


def test_unused_process_is_still_checked() -> None:
    errs = errors("process P(n: 0..3) { var x: bool = n; }\n")
    assert errs == [(1, 36, "type mismatch: cannot assign 0..3 to variable 'x' of type bool", ())]


# ---------------------------------------------------------------- one test per error class


ERROR_CASES = [
    pytest.param(
        proc("  transition t { x := x + MSZ; }"), BODY, 27,
        "unknown name 'MSZ'; did you mean 'MSS'?", id="unknown-name-suggestion"),
    pytest.param(
        proc("  transition t { x := true; }"), BODY, 23,
        "type mismatch: cannot assign bool to x of type seq32", id="assign-mismatch"),
    pytest.param(
        proc("  var b: bv8 = 0;\n  invariant i: b + x == b;"), BODY + 1, 16,
        "type mismatch: cannot apply '+' to bv8 and seq32", id="bv-seq-mismatch"),
    pytest.param(
        proc("  invariant i: x + x == x;"), BODY, 16,
        "cannot add two sequence numbers; did you mean seq + length?", id="seq-plus-seq"),
    pytest.param(
        proc("  invariant i: x * 2 == x;"), BODY, 16, "cannot multiply sequence numbers", id="seq-times"),
    pytest.param(
        proc("  var s: State = CLOSED;\n  invariant i: s < OPEN;"), BODY + 1, 16,
        "operator '<' is not defined on State", id="enum-order"),
    pytest.param(
        proc("  invariant i: x == true;"), BODY, 16,
        "type mismatch: cannot compare seq32 with bool", id="compare-mismatch"),
    pytest.param(
        proc("  transition t { MSS := 3; }"), BODY, 18, "cannot assign to constant 'MSS'", id="assign-constant"),
    pytest.param(
        proc("  transition t receive m from inbox { m := m; }"), BODY, 39,
        "cannot assign to message 'm': a received message is read-only", id="assign-message"),
    pytest.param(
        proc("  transition t { send out Ack { ackno: x }; }"), BODY, 27,
        "channel 'out' carries Segment, not Ack", id="send-wrong-type"),
    pytest.param(
        proc("  transition t { send out Segment { seq: 1 }; if true { send inbox Segment { seq: 2 }; } }"),
        BODY, 57, "transition 't' sends to 'inbox' twice on one path (at most one message per channel)",
        id="two-sends"),
    pytest.param(
        proc("  transition t { send out Segment { len: 1 }; }"), BODY, 27,
        "Segment literal is missing field 'seq'", id="missing-field"),
    pytest.param(
        proc("  transition t { send out Segment { seq: 1, sq: 2 }; }"), BODY, 45,
        "message Segment has no field 'sq'; did you mean 'seq'?", id="unknown-field"),
    pytest.param(
        proc("  invariant i: x' == x;"), BODY, 16,
        "a primed variable is only allowed in step properties", id="prime-in-invariant"),
    pytest.param(
        proc("  transition t when x' == x { skip; }"), BODY, 21,
        "a primed variable is only allowed in step properties", id="prime-in-guard"),
    pytest.param(
        proc("  invariant i: len(inbox) == 0 && inbox == 0;"), BODY, 35,
        "'inbox' is a channel, not a value", id="channel-as-value"),
    pytest.param(
        proc("  var y: Sequence;"), BODY, 10, "unknown type 'Sequence'", id="unknown-type"),
    pytest.param(
        proc("  var y: 5..MSS;"), BODY, 10, "empty range 5..4: the low bound exceeds the high bound",
        id="empty-range"),
    pytest.param(
        proc("  var y: seq32 = z;\n  var z: seq32;"), BODY, 18,
        "variable 'z' is declared after 'y'; an initial value may only read variables declared before it",
        id="init-later-var"),
    pytest.param(
        proc("  transition t choose x: bool { skip; }"), BODY, 23,
        "choose parameter 'x' shadows variable 'x'", id="choose-shadows"),
    pytest.param(
        proc("  invariant i: foo(x);"), BODY, 16, "unknown function 'foo'", id="unknown-function"),
    pytest.param(
        proc("  invariant range_ok: true;"), BODY, 3,
        "'range_ok' is reserved for the built-in range property", id="range-ok-reserved"),
    pytest.param(
        proc("  invariant i: if true then x else OPEN;"), BODY, 16,
        "type mismatch: 'if' branches have types seq32 and State", id="ite-branches"),
    pytest.param(
        PRELUDE + "process P(inbox: chan Segment) { }\ninstance p = P(inbox: acks);\n",
        PRELUDE_LINES + 2, 23, "channel 'acks' carries Ack, but parameter 'inbox' needs Segment",
        id="chan-arg-type"),
    pytest.param(
        PRELUDE + "process P(inbox: chan Segment, up: bool) { }\ninstance p = P(inbox: c2s);\n",
        PRELUDE_LINES + 2, 1, "instance 'p' is missing argument 'up' of process P", id="missing-arg"),
    pytest.param(
        proc("  transition t { skip; }") + "invariant top: x == 0;\n", BODY + 3, 16,
        "unknown name 'x'; did you mean 'p.x'?", id="top-level-suggests-instance-var"),
    pytest.param(
        proc("  var y: seq32 = y;"), BODY, 18,
        "variable 'y' cannot be used in its own initial value", id="init-own-var"),
    pytest.param(
        proc("  var y: 0..MSS = MSS + 1;"), BODY, 19,
        "initial value 5 of 'y' is out of range 0..4", id="init-out-of-range"),
    pytest.param(
        proc("  invariant i: len(x) == 0;"), BODY, 20, "'x' is a local name, not a channel", id="len-of-var"),
    pytest.param(
        proc("  step s: on receive a from inbox, receive b from out ensure true;"), BODY, 36,
        "a step property can name at most one receive event", id="two-receive-events"),
    pytest.param(
        PRELUDE + "invariant i: p.x == 0;\n", PRELUDE_LINES + 1, 14, "unknown name 'p'", id="unknown-instance"),
]


@pytest.mark.parametrize(("text", "line", "col", "message"), ERROR_CASES)
def test_error(text: str, line: int, col: int, message: str) -> None:
    assert [e[:3] for e in errors(text)] == [(line, col, message)]


def test_channel_fault_errors() -> None:
    """The parser already rejects unknown fault names; the checker must too, for any AST."""
    base = parse_text(PRELUDE + "channel c: Segment[1] with loss = MSS, duplication, reordering;\n", PATH)
    chan = base.decls[-1]
    assert isinstance(chan, ast.ChannelDecl)
    at = Span(PATH, 9, 9)
    faults = chan.faults + (ast.Fault("lose", None, at), ast.Fault("duplication", None, at))
    decls = base.decls[:-1] + (ast.ChannelDecl(chan.name, chan.message, chan.capacity, faults, chan.span),)
    with pytest.raises(ModelError) as info:
        check_program(ast.Program(PATH, [ast.ModelFile(PATH, (), decls)], {}), {})
    assert [(str(d.span), d.message) for d in info.value.diagnostics] == [
        ("m.tcpspec:7:35", "fault 'loss' must be a bool, not int"),
        ("m.tcpspec:9:9", "unknown fault 'lose' (faults: loss, duplication, reordering, injection)"),
        ("m.tcpspec:9:9", "fault 'duplication' is given twice"),
    ]


def test_reordering_needs_two_slots() -> None:
    m = check(PRELUDE + "channel c: Segment[1] with reordering, loss;\n")
    assert [t.name for t in m.transitions] == ["c.loss"]
    assert m.channel("c").faults == frozenset({"reordering", "loss"})


def test_duplicate_definition_has_note() -> None:
    errs = errors("const A = 1;\nenum E { X, Y }\nconst A = 2;\nenum F { Y }\n")
    assert errs == [
        (3, 1, "'A' is already defined", ("first defined at m.tcpspec:1:1",)),
        (4, 10, "'Y' is already defined", ("first defined at m.tcpspec:2:13",)),
    ]


def test_duplicate_across_files() -> None:
    with pytest.raises(ModelError) as info:
        check_program(program("const A = 1;\n", "\nconst A = 2;\n"), {})
    (diag,) = info.value.diagnostics
    assert diag.span is not None and (diag.span.file, diag.span.line) == ("f1.tcpspec", 2)
    assert diag.notes == ("first defined at m.tcpspec:1:1",)


def test_two_sends_note_points_at_first() -> None:
    text = proc("  transition t { send out Segment { seq: 1 };\n    send out Segment { seq: 2 }; }")
    ((line, col, _, notes),) = errors(text)
    assert (line, col) == (BODY + 1, 5)
    assert notes == (f"first send at {PATH}:{BODY}:18",)


def test_sends_in_both_branches_are_fine() -> None:
    text = proc("  transition t { if x == 0 { send out Segment { seq: 1 }; } else { send out Segment { seq: 2 }; } }")
    assert check(text).transition("p.t")


def test_several_errors_in_one_run() -> None:
    text = proc(
        "  transition a { x := true; }\n"
        "  transition b { y := 1; }\n"
        "  invariant c: x + x == x;"
    )
    assert [e[:3] for e in errors(text)] == [
        (BODY, 23, "type mismatch: cannot assign bool to x of type seq32"),
        (BODY + 1, 18, "unknown variable 'y'"),
        (BODY + 2, 16, "cannot add two sequence numbers; did you mean seq + length?"),
    ]


def test_errors_not_repeated_per_instance() -> None:
    text = PRELUDE + "process P(n: bool) { var x: bool = 3; }\ninstance a = P(n: true);\ninstance b = P(n: false);\n"
    assert len(errors(text)) == 1


def test_no_cascade_from_bad_type() -> None:
    text = proc("  var y: Nope;\n  transition t { y := y + 1; }\n  invariant i: y == 0;")
    assert [e[2] for e in errors(text)] == ["unknown type 'Nope'"]


@pytest.mark.parametrize(
    ("defines", "fragment"),
    [
        ({"NOPE": "1"}, "no constant named 'NOPE' in the model (constants: MSS, ON)"),
        ({"ON": "5"}, "-D ON=5: constant 'ON' is a bool; give true or false"),
        ({"MSS": "true"}, "-D MSS=true: constant 'MSS' is an int; give a decimal or 0x hex integer"),
        ({"MSS": "1e3"}, "constant 'MSS' is an int"),
        ({"MSS": str(1 << 63)}, "out of range"),
    ],
)
def test_bad_defines(defines: dict[str, str], fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        check("const MSS = 4;\nconst ON = false;\n", defines)
    assert fragment in str(info.value)


def test_override_can_make_a_range_empty() -> None:
    assert errors("const N = 3;\ntype T = 1..N;\n", {"N": "0"}) == [
        (2, 10, "empty range 1..0: the low bound exceeds the high bound", ())
    ]


# ---------------------------------------------------------------- robustness


NAMES = ["x", "MSS", "OPEN", "inbox", "m", "p", "nope", "c2s", "Segment"]
S = Span(PATH, 1, 1)


def exprs() -> st.SearchStrategy[ast_expr.Expr]:
    leaves = st.one_of(
        st.integers(-(1 << 64), 1 << 64).map(lambda v: ast_expr.IntLit(v, S)),
        st.booleans().map(lambda b: ast_expr.BoolLit(b, S)),
        st.tuples(st.sampled_from(NAMES), st.booleans()).map(lambda t: ast_expr.Name(t[0], S, t[1])),
    )

    def extend(inner: st.SearchStrategy[ast_expr.Expr]) -> st.SearchStrategy[ast_expr.Expr]:
        ops = st.sampled_from(["+", "-", "*", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "==>", "%"])
        return st.one_of(
            st.builds(lambda o, a, b: ast_expr.Binary(o, a, b, S), ops, inner, inner),
            st.builds(lambda o, a: ast_expr.Unary(o, a, S), st.sampled_from(["!", "-", "~"]), inner),
            st.builds(lambda c, a, b: ast_expr.IfExpr(c, a, b, S), inner, inner, inner),
            st.builds(lambda a, f, p: ast_expr.FieldAccess(a, f, S, p), inner, st.sampled_from(["seq", "len", "x"]),
                      st.booleans()),
            st.builds(lambda f, a: ast_expr.Call(f, (a,), S), st.sampled_from(["len", "max"]), inner),
            st.builds(lambda f, a: ast_expr.RecordLit("Segment", (ast_expr.FieldInit(f, a, S),), S),
                      st.sampled_from(["seq", "len", "zz"]), inner),
        )

    return st.recursive(leaves, extend, max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(exprs(), exprs())
def test_any_expression_gives_a_model_or_model_error(guard: ast_expr.Expr, value: ast_expr.Expr) -> None:
    base = parse_text(proc("  transition t receive m from inbox { skip; }"), PATH)
    procs = [d for d in base.decls if isinstance(d, ast.ProcessDecl)]
    p = procs[0]
    t = ast.Transition("t", (), ast.Receive("m", "inbox", S), guard, (ast_expr.Assign("x", S, value, S),), S)
    inv = ast.Invariant("i", guard, S)
    new_p = ast.ProcessDecl(p.name, p.params, p.vars, (t,), (inv,), p.span)
    decls = tuple(new_p if d is p else d for d in base.decls) + (ast.StepProperty("s", (), value, guard, S),)
    prog = ast.Program(PATH, [ast.ModelFile(PATH, (), decls)], {})
    try:
        check_program(prog, {})
    except ModelError as exc:
        assert exc.diagnostics
        assert not any(d.message.startswith("internal error") for d in exc.diagnostics), exc


# ---------------------------------------------------------------- `depth` declarations

DEPTHS = "const N = 3;\ndepth N + 1;\ndepth 2 for eventually, leads_to;\n"


def test_depth_declarations_give_a_bound_per_kind() -> None:
    m = check(DEPTHS)
    assert m.depths == {"": 4, "eventually": 2, "leads_to": 2}
    assert m.default_depth(ir.PropertyKind.LEADS_TO) == 2
    assert m.default_depth(ir.PropertyKind.INVARIANT) == 4
    assert check(DEPTHS, {"N": "7"}).default_depth(ir.PropertyKind.REACHABLE) == 8  # -D reaches it
    assert check("const N = 1;\n").default_depth(ir.PropertyKind.INVARIANT) is None


def test_depth_declaration_errors() -> None:
    assert errors("depth 3;\ndepth 4;\n") == [(2, 1, "a second default depth for every property in this file",
                                               ("first declared at m.tcpspec:1:1",))]
    assert errors("depth 3 for step;\ndepth 4 for reachable, step;\n")[0][2] == "a second default depth for step in this file"
    assert errors("depth 0 - 1;\n") == [(1, 7, "a depth must be >= 0, not -1", ())]
    assert errors("depth true;\n") == [(1, 7, "a depth must be an int, not bool", ())]


def test_the_checked_files_depth_wins_over_an_imports() -> None:
    lib = parse_text("depth 5;\ndepth 9 for reachable;\n", "lib.tcpspec")
    root = parse_text('import "lib.tcpspec";\ndepth 7;\n', PATH)
    m = check_program(ast.Program(PATH, [lib, root], {}), {})
    assert m.depths == {"": 7, "reachable": 9}
