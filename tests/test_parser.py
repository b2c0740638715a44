"""Parser tests: every construct of docs/language.md, spans, docs, precedence, imports, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tcpspec.frontend import ast, ast_expr
from tcpspec.core.diagnostics import ModelError, render_diagnostic
from tcpspec.frontend.parser import load_program, parse_text
from tcpspec.frontend.syntax_messages import HABITS, SYNTAX_MESSAGES

DOC = Path(__file__).resolve().parents[1] / "docs" / "language.md"
BLOCKS = re.findall(r"```tcpspec\n(.*?)```", DOC.read_text(), re.S)


def block(marker: str) -> str:
    """The one reference block containing `marker` (found by content, not by position)."""
    hits = [b for b in BLOCKS if marker in b]
    assert len(hits) == 1, f"{len(hits)} blocks contain {marker!r}"
    return hits[0]


def parse(text: str) -> ast.ModelFile:
    return parse_text(text, "m.tcpspec")


def errors(text: str) -> list[str]:
    """Each diagnostic's first rendered line, e.g. `m.tcpspec:1:7: error: ...`."""
    with pytest.raises(ModelError) as info:
        parse(text)
    return [render_diagnostic(d, {"m.tcpspec": text}).splitlines()[0] for d in info.value.diagnostics]


def expr(text: str) -> ast_expr.Expr:
    decl = parse(f"invariant e: {text};").decls[0]
    assert isinstance(decl, ast.Invariant)
    return decl.expr


def show(e: ast_expr.Expr) -> str:
    """Fully parenthesized rendering, to pin precedence and associativity."""
    if isinstance(e, ast_expr.Binary):
        return f"({show(e.left)} {e.op} {show(e.right)})"
    if isinstance(e, ast_expr.Unary):
        return f"({e.op}{show(e.arg)})"
    if isinstance(e, ast_expr.IfExpr):
        return f"(if {show(e.cond)} then {show(e.then)} else {show(e.else_)})"
    if isinstance(e, ast_expr.FieldAccess):
        return f"{show(e.base)}.{e.field}" + ("'" if e.primed else "")
    if isinstance(e, ast_expr.Name):
        return e.name + ("'" if e.primed else "")
    if isinstance(e, ast_expr.IntLit):
        return str(e.value)
    if isinstance(e, ast_expr.BoolLit):
        return str(e.value).lower()
    if isinstance(e, ast_expr.Call):
        return f"{e.func}({', '.join(show(a) for a in e.args)})"
    assert isinstance(e, ast_expr.RecordLit)
    return e.type_name + "{" + ", ".join(f"{f.name}: {show(f.value)}" for f in e.fields) + "}"


# ---------------------------------------------------------------- the language reference


def test_reference_has_the_expected_blocks() -> None:
    assert len(BLOCKS) == 21
    assert BLOCKS[0].startswith("// A whole model")


def test_first_reference_block_is_a_complete_model() -> None:
    model = parse(BLOCKS[0])
    kinds = [type(d).__name__ for d in model.decls]
    assert kinds == [
        "ConstDecl", "MessageDecl", "ChannelDecl", "ProcessDecl", "ProcessDecl",
        "InstanceDecl", "InstanceDecl", "Invariant", "Reachable",
    ]  # fmt: skip
    sender = model.decls[3]
    assert isinstance(sender, ast.ProcessDecl)
    (t,) = sender.transitions
    assert t.name == "send_one" and [p.name for p in t.choose] == ["v"]
    assert show(t.guard) == "(!sent)" if t.guard else False
    assert isinstance(t.body[0], ast_expr.Send) and t.body[0].channel == "out"
    assert isinstance(t.body[0].message, ast_expr.RecordLit)


def _as_model(block: str) -> str:
    """Turn a reference fragment into a model: drop `...` placeholders, wrap transitions."""
    lines = [ln for ln in block.splitlines() if not ln.strip().endswith("...")]
    text = "\n".join(lines)
    return f"process P() {{\n{text}\n}}" if text.startswith("transition") else text


@pytest.mark.parametrize("index", [i for i, b in enumerate(BLOCKS) if i and "[choose" not in b])
def test_reference_fragments_parse(index: int) -> None:
    model = parse(_as_model(BLOCKS[index]))
    assert model.decls or model.imports or model.variant


def test_reference_statements_block() -> None:
    (proc,) = parse(_as_model(block("transition recv_syn"))).decls
    assert isinstance(proc, ast.ProcessDecl)
    recv, data = proc.transitions
    assert recv.receive == ast.Receive("seg", "inbox", recv.receive.span) if recv.receive else False
    assert show(recv.guard) == "(((state == LISTEN) && seg.syn) && (!seg.ack))" if recv.guard else False
    assert [type(s).__name__ for s in recv.body] == ["Assign", "Assign", "Send", "Assign", "Assign"]
    assert isinstance(data.choose[0].type, ast_expr.RangeType)


def test_reference_properties_block() -> None:
    inv, step = parse(block("invariant una_le_nxt")).decls
    assert inv.doc == "RFC 9293 §3.3.1: SND.UNA =< SND.NXT, in sequence-number order."
    (reach,) = parse(block("reachable both_established")).decls
    assert isinstance(reach, ast.Reachable) and reach.name == "both_established"
    assert isinstance(step, ast.StepProperty)
    assert [type(e).__name__ for e in step.events] == ["Receive", "SendEvent"]
    assert step.events[1] == ast.SendEvent("m", "outbox", step.events[1].span)
    assert show(step.when) == "(r.syn && m.ack)" if step.when else False
    assert show(step.ensure) == "(m.ackno == (r.seq + 1))"


def test_reference_channels_and_types() -> None:
    c2s, s2c = parse(block("channel c2s: Segment[CAP];")).decls
    assert isinstance(c2s, ast.ChannelDecl) and c2s.faults == ()
    assert isinstance(s2c, ast.ChannelDecl)
    assert [(f.kind, f.enabled and show(f.enabled)) for f in s2c.faults] == [
        ("loss", "LOSSY"), ("duplication", None), ("reordering", "REORDER"),
        ("injection", "ATTACK"),
    ]  # fmt: skip
    alias, enum, msg = parse(block("type Len = 0..MSS;")).decls
    assert isinstance(alias, ast.TypeAlias) and isinstance(alias.type, ast_expr.RangeType)
    assert isinstance(enum, ast.EnumDecl) and enum.members == ("IDLE", "BUSY", "DONE")
    assert enum.member_spans[1].col == 20
    assert isinstance(msg, ast.MessageDecl)
    assert [(f.name, f.default is not None) for f in msg.fields][:3] == [
        ("syn", True), ("ack", True), ("seq", False),
    ]  # fmt: skip


# ---------------------------------------------------------------- constructs


def test_types() -> None:
    (proc,) = parse(
        "process P(c: chan M, b: bool, s: seq32, v: bv8, t: T, r: -1..N+1,) { }"
    ).decls
    assert isinstance(proc, ast.ProcessDecl)
    types = [p.type for p in proc.params]
    assert isinstance(types[0], ast_expr.ChanType) and types[0].message.name == "M"
    assert [t.name for t in types[1:5] if isinstance(t, ast_expr.TypeName)] == ["bool", "seq32", "bv8", "T"]
    assert isinstance(types[5], ast_expr.RangeType)
    assert (show(types[5].lo), show(types[5].hi)) == ("(-1)", "(N + 1)")


def test_statements_and_else_if() -> None:
    text = """process P() {
      var x: 0..3;
      transition t choose a: bool, b: 0..2 receive m from c when x == IDLE {
        if a { x := 1; } else if b == 2 { send c M { f: 1, }; } else { skip; }
        if a { }
      }
    }"""
    (proc,) = parse(text).decls
    assert isinstance(proc, ast.ProcessDecl)
    assert proc.vars[0].init is None
    t = proc.transitions[0]
    assert [p.name for p in t.choose] == ["a", "b"] and t.receive and t.receive.channel == "c"
    first, second = t.body
    assert isinstance(first, ast_expr.If) and isinstance(first.then[0], ast_expr.Assign)
    (nested,) = first.else_
    assert isinstance(nested, ast_expr.If) and isinstance(nested.then[0], ast_expr.Send)
    assert isinstance(nested.else_[0], ast_expr.Skip)
    assert isinstance(second, ast_expr.If) and second.then == () and second.else_ == ()


def test_guard_ending_in_a_name_before_the_body() -> None:
    """`when x == Foo {` ends the guard at Foo; a record literal there needs parentheses."""
    (proc,) = parse(
        "process P() { transition t when m == (Seg { a: 1 }) && s == IDLE { skip; } }"
    ).decls
    assert isinstance(proc, ast.ProcessDecl) and proc.transitions[0].guard
    assert show(proc.transitions[0].guard) == "((m == Seg{a: 1}) && (s == IDLE))"


def test_instance_and_call_and_hex() -> None:
    inst, const = parse("instance c = E(inbox: s2c, passive: false,);\nconst L = len(c2s) + 0xFF;").decls
    assert isinstance(inst, ast.InstanceDecl) and inst.process == "E"
    assert [(a.name, show(a.value)) for a in inst.args] == [("inbox", "s2c"), ("passive", "false")]
    assert (inst.process_span.line, inst.process_span.col) == (1, 14)
    assert isinstance(const, ast.ConstDecl) and show(const.value) == "(len(c2s) + 255)"


def test_empty_file_and_comments_only() -> None:
    assert parse("") == ast.ModelFile("m.tcpspec", (), ())
    assert parse("// nothing\n//// not a doc either\n").decls == ()


def test_names_may_contain_keywords() -> None:
    (decl,) = parse("const whenever = in_x;").decls
    assert isinstance(decl, ast.ConstDecl) and decl.name == "whenever"


# ---------------------------------------------------------------- spans and docs


def test_spans() -> None:
    model = parse(BLOCKS[0])
    const, inv = model.decls[0], model.decls[7]
    assert (const.span.file, const.span.line, const.span.col) == ("m.tcpspec", 2, 1)
    assert (const.span.end_line, const.span.end_col) == (2, 15)
    assert isinstance(inv, ast.Invariant)
    assert (inv.span.line, inv.span.col, inv.expr.span.col) == (27, 1, 25)
    receiver = model.decls[4]
    assert isinstance(receiver, ast.ProcessDecl)
    assign = receiver.transitions[0].body[0]
    assert isinstance(assign, ast_expr.Assign)
    assert (assign.target_span.line, assign.target_span.col) == (19, 5)
    assert (assign.value.span.col, assign.value.span.end_col) == (12, 19)


def test_doc_comments_attach_to_the_next_declaration() -> None:
    text = """/// First line.
///   Second line.
const A = 1;
// plain
const B = 2;
process P() {
  /// The var.
  var x: bool;
  /// The move.
  transition t { skip; }
  /// Local.
  step s: ensure x' == x;
}
"""
    a, b, proc = parse(text).decls
    assert a.doc == "First line.\nSecond line."
    assert b.doc == ""
    assert isinstance(proc, ast.ProcessDecl)
    assert (proc.vars[0].doc, proc.transitions[0].doc, proc.properties[0].doc) == (
        "The var.", "The move.", "Local.",
    )  # fmt: skip


# ---------------------------------------------------------------- precedence and primes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a || b && c", "(a || (b && c))"),
        ("a && b || c", "((a && b) || c)"),
        ("a ==> b ==> c", "(a ==> (b ==> c))"),
        ("a || b ==> c", "((a || b) ==> c)"),
        ("-x.f", "(-x.f)"),
        ("!a && b", "((!a) && b)"),
        ("- -x", "(-(-x))"),
        ("a + b * c - d", "((a + (b * c)) - d)"),
        ("a - b - c", "((a - b) - c)"),
        ("a + 1 < b && c != d", "(((a + 1) < b) && (c != d))"),
        ("if a then b else c ==> d", "(if a then b else (c ==> d))"),
        ("(a || b) && c", "((a || b) && c)"),
        ("a.b.c", "a.b.c"),
        ("x' == client.state'", "(x' == client.state')"),
        ("Seg { seq: 1, len: n, }", "Seg{seq: 1, len: n}"),
        ("Seg {}", "Seg{}"),
        ("(a < b) == c", "((a < b) == c)"),
        ("0x10 * 2", "(16 * 2)"),
        # `if` and quantifiers may end an operand chain; their body extends to the right
        ("a ==> if b then c else d", "(a ==> (if b then c else d))"),
        ("a || if b then c else d && e", "(a || (if b then c else (d && e)))"),
        ("a && b ==> if b then c else d", "((a && b) ==> (if b then c else d))"),
    ],
)
def test_precedence(text: str, expected: str) -> None:
    assert show(expr(text)) == expected


def test_primes_set_the_flag_and_cover_the_quote() -> None:
    e = expr("x' == client.state'")
    assert isinstance(e, ast_expr.Binary)
    assert isinstance(e.left, ast_expr.Name) and e.left.primed
    assert (e.left.span.col, e.left.span.end_col) == (14, 16)
    assert isinstance(e.right, ast_expr.FieldAccess) and e.right.primed and e.right.field == "state"
    assert isinstance(e.right.base, ast_expr.Name) and not e.right.base.primed


def test_integer_limits() -> None:
    assert show(expr("4611686018427387904")) == str(2**62)
    assert errors("const A = 4611686018427387905;") == [
        "m.tcpspec:1:11: error: integer literal too large: literals must lie within ±2^62"
    ]


def test_deep_parentheses_parse() -> None:
    assert show(expr("(" * 10000 + "1" + ")" * 10000)) == "1"


@pytest.mark.parametrize("text", ["-" * 5000 + "1", "1" + " + 1" * 5000, "!" * 3000 + "a"])
def test_deep_nesting_is_a_positioned_error(text: str) -> None:
    (line,) = errors(f"const A = {text};")
    assert line.startswith("m.tcpspec:1:")
    assert "nesting too deep" in line


# ---------------------------------------------------------------- syntax errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("process P() {\n  transition t { x := 1 }\n}", "2:25: error: expected ';' after the assignment"),
        (
            "process P() { transition t when x choose p: bool { } }",
            "1:35: error: unexpected 'choose': a transition's 'choose' must come before "
            "'receive' and 'when'",
        ),
        ("const A = ;", "1:11: error: expected an expression, found ';'"),
        ("const A = 1 +;", "1:14: error: expected an expression, found ';'"),
        ("const A = (1;", "1:13: error: unexpected ';': expected ')'"),
        ('import "abc;', "1:8: error: unterminated string: missing the closing '\"' on this line"),
        (
            "process P() {\n  var x: bool;\n\n",
            "2:15: error: unterminated block: the '{' at line 1, column 13 is never closed",
        ),
        ("const when = 1;", "1:7: error: 'when' is a keyword and cannot be used as a name"),
        ("const final = 1;", "1:7: error: 'final' is a keyword and cannot be used as a name"),
        ("const forall = 1;", "1:7: error: 'forall' is a keyword and cannot be used as a name"),
        ("const A = 12ab;", "1:11: error: malformed integer literal '12ab'"),
        ("const A = @;", "1:11: error: unexpected character '@'"),
        (
            "invariant i: a < b < c;",
            "1:20: error: comparisons cannot be chained: write 'a < b && b < c' or add parentheses",
        ),
        (
            "step s: ensure (a + b)' == 1;",
            "1:23: error: a prime (') cannot be written after this expression: only a variable "
            "can be primed, e.g. x' or client.state'",
        ),
        (
            "channel c: M[1] with lossy;",
            "1:22: error: unknown fault 'lossy': expected loss, duplication, reordering or injection",
        ),
        (
            "process P() { transition t { /// note\n skip; } }",
            "1:30: error: a doc comment ('///') must come directly before a declaration; "
            "use '//' for a plain comment",
        ),
        (
            "process P() {\n  transition t when m == Seg { a: 1 } { }\n}",
            "2:33: error: unexpected ':': a record literal in a 'when' or 'if' condition must be "
            "in parentheses, e.g. 'when m == (Segment { syn: true }) {'",
        ),
    ],
)
def test_error_messages(text: str, expected: str) -> None:
    assert errors(text)[0] == "m.tcpspec:" + expected


EXAMPLES = [(msg, ex) for msg, exs in SYNTAX_MESSAGES.items() for ex in exs]


@pytest.mark.parametrize(("message", "example"), EXAMPLES)
def test_every_curated_example_gives_its_message(message: str, example: str) -> None:
    first = errors(example)[0]
    head, _, tail = message.partition("{found}")
    assert head in first and tail in first
    assert "__ANON" not in first and "SEMICOLON" not in first


HABIT_EXAMPLES = [(msg, ex) for msg, (_, exs) in HABITS.items() for ex in exs]


@pytest.mark.parametrize(("message", "example"), HABIT_EXAMPLES)
def test_every_tla_and_promela_habit_names_the_tcpspec_spelling(message: str, example: str) -> None:
    first = errors(example)[0]
    assert first.endswith(f"error: {message}"), first


def test_habits_do_not_fire_on_correct_models() -> None:
    ok = ("invariant i: a ==> b;\nreachable r: x != 1 && !b;\nstep s: ensure x' == x;\n"
          "process P() { var m: [0..1] -> bool; transition t when a ~> b { } }")
    with pytest.raises(ModelError) as info:
        parse(ok)
    (diag,) = info.value.diagnostics  # only the `~>` in the guard is wrong
    assert "TLA+" not in diag.message and "Promela" not in diag.message


def test_raw_terminal_names_never_leak() -> None:
    for text in ["const A = 1 2;", "enum E { A B }", "message M { a b }", "type T = 1..;"]:
        for line in errors(text):
            assert re.search(r"\b[A-Z_]{4,}\b|__ANON", line.split("error:")[1]) is None, line


def test_eof_error_points_at_the_end_of_the_file() -> None:
    assert errors("const A = 1\n\n") == [
        "m.tcpspec:1:12: error: expected ';' after the declaration"
    ]


def test_several_errors_without_cascades() -> None:
    text = """const A = 1;
const B = ;
const C = 2
const D = 3;
process P() {
  var x: bool = ;
  transition t { x := 1 }
  transition u { skip; }
}
instance i = P(;
"""
    assert errors(text) == [
        "m.tcpspec:2:11: error: expected an expression, found ';'",
        "m.tcpspec:4:1: error: expected ';' after the declaration",
        "m.tcpspec:6:17: error: expected an expression, found ';'",
        "m.tcpspec:7:25: error: expected ';' after the assignment",
        "m.tcpspec:10:16: error: the arguments of an instance are named: "
        "'instance i = P(param: value);'",
    ]


def test_misplaced_declaration_is_reported_once() -> None:
    assert errors("process P() { const A = 1; }\nconst B = 2;") == [
        "m.tcpspec:1:15: error: unexpected 'const': only variables, transitions and "
        "properties can be declared inside a process"
    ]


# ---------------------------------------------------------------- files and imports


def test_imports_relative_cycle_and_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "lib").mkdir(parents=True)
    Path("models/root.tcpspec").write_text('import "lib/a.tcpspec";\nconst R = 1;\n')
    Path("models/lib/a.tcpspec").write_text(
        'import "../root.tcpspec";\nimport "b.tcpspec";\nimport "./b.tcpspec";\nconst A = 1;\n'
    )
    Path("models/lib/b.tcpspec").write_text('import "a.tcpspec";\nconst B = 1;\n')
    program = load_program("models/root.tcpspec")
    assert program.root == "models/root.tcpspec"
    assert [f.path for f in program.files] == [
        "models/lib/b.tcpspec", "models/lib/a.tcpspec", "models/root.tcpspec",
    ]  # fmt: skip
    assert set(program.sources) == {f.path for f in program.files}
    b_const = program.files[0].decls[0]
    assert (b_const.span.file, b_const.span.line) == ("models/lib/b.tcpspec", 2)
    assert program.files[1].imports[1].path == "b.tcpspec"


def test_missing_import_is_reported_at_the_import(tmp_path: Path) -> None:
    root = tmp_path / "root.tcpspec"
    root.write_text('const A = 1;\nimport "nope.tcpspec";\n')
    with pytest.raises(ModelError) as info:
        load_program(str(root))
    (diag,) = info.value.diagnostics
    assert diag.span is not None and (diag.span.file, diag.span.line, diag.span.col) == (
        str(root), 2, 1,
    )  # fmt: skip
    assert diag.message == (
        f"cannot read imported file '{tmp_path / 'nope.tcpspec'}': No such file or directory"
    )


def test_missing_root_file() -> None:
    with pytest.raises(ModelError) as info:
        load_program("no/such/x.tcpspec")
    (diag,) = info.value.diagnostics
    assert diag.span is None
    assert diag.message == "cannot read model file 'no/such/x.tcpspec': No such file or directory"


def test_binary_file_is_a_positioned_error(tmp_path: Path) -> None:
    path = tmp_path / "bin.tcpspec"
    path.write_bytes(b"const A = 1;\nconst \xff\xfe = 2;\n")
    with pytest.raises(ModelError) as info:
        load_program(str(path))
    (diag,) = info.value.diagnostics
    assert diag.span is not None and (diag.span.line, diag.span.col) == (2, 7)
    assert "not UTF-8" in diag.message


def test_nul_bytes_are_a_positioned_error(tmp_path: Path) -> None:
    path = tmp_path / "nul.tcpspec"
    path.write_bytes(b"const A = 1;\x00\x00")
    with pytest.raises(ModelError) as info:
        load_program(str(path))
    assert str(info.value) == f"{path}:1:13: unexpected character '\\x00'"


def test_syntax_errors_in_several_files_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "root.tcpspec").write_text('import "a.tcpspec";\nimport "b.tcpspec";\n')
    (tmp_path / "a.tcpspec").write_text("const A = 1;\nconst A2 = ;\n")
    (tmp_path / "b.tcpspec").write_text("const B = ;\n")
    with pytest.raises(ModelError) as info:
        load_program(str(tmp_path / "root.tcpspec"))
    found = [(Path(d.span.file).name, d.span.line) for d in info.value.diagnostics if d.span]
    assert found == [("a.tcpspec", 2), ("b.tcpspec", 1)]


def test_reference_liveness_blocks() -> None:
    ev, lt = parse(block("eventually every_message_delivered")).decls
    assert isinstance(ev, ast.Eventually) and ev.doc == "Every message is eventually delivered."
    assert isinstance(lt, ast.LeadsTo) and show(lt.pre) == "(sender.next == 1)"
    decls = parse(block("fair sender.acked, receiver.take")).decls
    proc = next(d for d in decls if isinstance(d, ast.ProcessDecl) and d.name == "Sender")
    assert [t.fair for t in proc.transitions] == ["weak", "strong", ""]
    assert [(f.strength, [t.text for t in f.targets]) for f in decls if isinstance(f, ast.FairDecl)] == [
        ("weak", ["sender.acked", "receiver.take"]), ("strong", ["data"]), ("weak", ["acks"]),
        ("weak", ["receiver"]), ("weak", ["data.loss"]),
    ]
    top, worker = parse(block("final all_done")).decls
    assert isinstance(top, ast.Final) and isinstance(worker, ast.ProcessDecl)
    assert [f.name for f in worker.finals] == ["done"]



def test_depth_declaration() -> None:
    f = parse_text("depth 12;\ndepth 8 for eventually, leads_to;\n", "m.tcpspec")
    general, live = f.decls
    assert isinstance(general, ast.DepthDecl) and general.kinds == ()
    assert isinstance(live, ast.DepthDecl) and live.kinds == ("eventually", "leads_to")
    assert (live.span.line, live.span.col) == (2, 1)


def test_a_quantifier_may_end_an_implication_or_a_disjunction() -> None:
    """`len(c) == CAP ==> exists i in ...` said "'exists' is a keyword and cannot be used as a name"."""
    e = expr("n == 2 ==> exists i in 0..1: i == n")
    assert isinstance(e, ast_expr.Binary) and e.op == "==>" and isinstance(e.right, ast_expr.Quantifier)
    e = expr("n == 0 || forall i in 0..1: i < n ==> i == 0")
    assert isinstance(e, ast_expr.Binary) and e.op == "||" and isinstance(e.right, ast_expr.Quantifier)
    assert isinstance(e.right.body, ast_expr.Binary) and e.right.body.op == "==>"  # the body extends right
    e = expr("n > 0 && forall i in 0..1: i < 2")
    assert isinstance(e, ast_expr.Binary) and e.op == "&&" and isinstance(e.right, ast_expr.Quantifier)
