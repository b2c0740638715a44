"""Random small models *as text in our language*, for differential tests of the engines.

Every generated model is well typed by construction (expressions are built per type), small
enough for an exhaustive breadth-first search (ints 0..3, bool, a 3-value enum, seq4 with
wrap-around, choose parameters 0..2, one channel of capacity 1-2 with random faults), and has
invariants, reachability targets and step properties, some of which fail on purpose. Stores out
of range happen too: they are `range_ok` violations, which the engines must find as well.
"""

from __future__ import annotations

import os
import re
import tempfile

from hypothesis import HealthCheck
from hypothesis import strategies as st

from tcpspec.checker import ir
from tcpspec.run.pipeline import load_model

# The settings every differential test shares: a fixed sample in CI, thousands with TCPSPEC_LONG=1.
LONG = os.environ.get("TCPSPEC_LONG") == "1"
COMMON = dict(deadline=None, derandomize=not LONG, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def load_text(text: str) -> ir.Model:
    """A generated model, loaded through the real front end (from a temporary file)."""
    with tempfile.NamedTemporaryFile("w", suffix=".tcpspec", delete=False, encoding="utf-8") as f:
        f.write(text)
    try:
        return load_model(f.name)
    finally:
        os.unlink(f.name)

INT_VARS = ("x", "y")
ENUM = ("A", "B", "C")


@st.composite
def int_expr(draw: st.DrawFn, params: tuple[str, ...] = (), msg: str | None = None, depth: int = 0) -> str:
    atoms = [str(draw(st.integers(0, 3))), *INT_VARS, *params] + ([f"{msg}.v"] if msg else [])
    if depth >= 1 or draw(st.booleans()):
        return draw(st.sampled_from(atoms))
    op = draw(st.sampled_from(["+", "-"]))
    return f"{draw(int_expr(params, msg, depth + 1))} {op} {draw(st.sampled_from(['1', '2', *INT_VARS]))}"


@st.composite
def seq_expr(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["s", "s + 1", "s + 3", "s - 1", "s + x", "s + 8", "t", "t + 1", "t + 7"]))


@st.composite
def bool_expr(draw: st.DrawFn, params: tuple[str, ...] = (), msg: str | None = None, depth: int = 0) -> str:
    kind = draw(st.integers(0, 6 if depth < 2 else 4))
    if kind == 0:
        return draw(st.sampled_from(["b", "!b", "true", "false"] + ([f"{msg}.f"] if msg else [])))
    if kind == 1:
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        return f"{draw(int_expr(params, msg))} {op} {draw(int_expr(params, msg))}"
    if kind == 2:
        return f"m {draw(st.sampled_from(['==', '!=']))} {draw(st.sampled_from(ENUM))}"
    if kind == 3:
        op = draw(st.sampled_from(["==", "!=", "<", "<="]))
        return f"{draw(seq_expr())} {op} {draw(seq_expr())}"
    if kind == 4:
        return f"len(ch) {draw(st.sampled_from(['==', '<', '>']))} {draw(st.integers(0, 2))}"
    op = draw(st.sampled_from(["&&", "||", "==>"]))
    return f"({draw(bool_expr(params, msg, depth + 1))} {op} {draw(bool_expr(params, msg, depth + 1))})"


@st.composite
def assignment(draw: st.DrawFn, params: tuple[str, ...], msg: str | None) -> str:
    target = draw(st.sampled_from(["x", "y", "b", "m", "s", "t"]))
    if target in INT_VARS:
        return f"{target} := {draw(int_expr(params, msg))};"
    if target == "b":
        return f"b := {draw(bool_expr(params, msg))};"
    if target == "m":
        return f"m := {draw(st.sampled_from(ENUM))};"
    return f"{target} := {draw(seq_expr())};"


@st.composite
def transition(draw: st.DrawFn, i: int) -> str:
    kind = draw(st.sampled_from(["plain", "choose", "receive", "send"]))
    params: tuple[str, ...] = ("n",) if kind == "choose" else ()
    msg = "r" if kind == "receive" else None
    head = f"transition t{i}"
    if kind == "choose":
        head += " choose n: 0..2"
    if kind == "receive":
        head += " receive r from ch"
    if draw(st.booleans()):
        head += f" when {draw(bool_expr(params, msg))}"
    body = [draw(assignment(params, msg)) for _ in range(draw(st.integers(0 if kind == "send" else 1, 2)))]
    if kind == "send":
        body.append(f"send ch M {{ v: {draw(int_expr(params, msg))}, f: {draw(bool_expr(params, msg, 2))} }};")
    if draw(st.integers(0, 4)) == 0:
        body = [f"if {draw(bool_expr(params, msg, 1))} {{ {' '.join(body)} }} else {{ skip; }}"]
    return head + " {\n    " + "\n    ".join(body) + "\n  }"


def _qualify(expr: str) -> str:
    """Process-local names as the top level writes them (`x` -> `p.x`)."""
    out = []
    for tok in expr.replace("(", " ( ").replace(")", " ) ").replace("!", " ! ").split():
        if tok in ("x", "y", "b", "m", "s", "t"):
            tok = f"p.{tok}"
        out.append(tok)
    return " ".join(out).replace(" ! ", " !").replace("( ", "(").replace(" )", ")")


@st.composite
def model_text(draw: st.DrawFn, free_seq: bool = False) -> str:
    """`free_seq`: the sequence number `s` starts free and `t` free, from `s`, or at a constant,
    so that their space is data-independent (engines/seqspace.py) and searched from ISN 0
    alone, its constants opaque."""
    cap = draw(st.integers(1, 2))
    faults = [f for f in ("loss", "duplication", "reordering") if draw(st.integers(0, 3)) == 0]
    with_ = (" with " + ", ".join(f"{f} = true" for f in faults)) if faults else ""
    inits = {
        "x": draw(st.sampled_from(["0", "1", ""])),
        "y": draw(st.sampled_from(["0", "3"])),
        "b": draw(st.sampled_from(["false", "true", ""])),
        "m": draw(st.sampled_from(["A", "C"])),
        "s": draw(st.sampled_from(["0", "15", ""])),
        "t": draw(st.sampled_from(["0", "14", "8"])),
    }
    if free_seq:
        inits["s"] = ""
        inits["t"] = draw(st.sampled_from(["", "s", "s + 1", "s + 8", "0", "14"]))
    types = {"x": "0..3", "y": "0..3", "b": "bool", "m": "Mode", "s": "seq4", "t": "seq4"}
    decls = [f"  var {v}: {types[v]}" + (f" = {inits[v]};" if inits[v] else ";") for v in types]
    trans = [draw(transition(i)) for i in range(draw(st.integers(1, 4)))]
    props = []
    for i in range(draw(st.integers(1, 2))):
        props.append(f"invariant inv{i}: {_qualify(draw(bool_expr()))};")
    for i in range(draw(st.integers(0, 2))):
        props.append(f"reachable goal{i}: {_qualify(draw(bool_expr()))};")
    if draw(st.booleans()):
        props.append(f"step grows: ensure p.x' >= p.x || p.m' == {draw(st.sampled_from(ENUM))};")
    if free_seq:  # a target on the sequence space itself
        op = draw(st.sampled_from(["==", "!=", "<", "<="]))
        props.append(f"reachable seq_goal: {_qualify(draw(seq_expr()))} {op} {_qualify(draw(seq_expr()))};")
    return (
        "enum Mode { A, B, C }\n"
        "message M { v: 0..3 = 0, f: bool = false }\n"
        f"channel ch: M[{cap}]{with_};\n"
        "process P() {\n" + "\n".join(decls) + "\n  " + "\n  ".join(trans) + "\n}\n"
        "instance p = P();\n" + "\n".join(props) + "\n"
    )


# ---------------------------------------------------------------- families of instances

FAM_VARS = {"x": "0..2", "b": "bool", "m": "Mode", "vs": "[0..K-1] -> bool", "s": "set of 0..K-1",
            "cnt": "[Mode] -> 0..2"}


@st.composite
def fam_index(draw: st.DrawFn, k: int, dyn: tuple[str, ...]) -> str:
    """An index into the family: a constant, `self`, or a dynamic one (a parameter, a field)."""
    return draw(st.sampled_from([str(draw(st.integers(0, k - 1))), "self", *dyn]))


@st.composite
def fam_bool(draw: st.DrawFn, k: int, dyn: tuple[str, ...], depth: int = 0) -> str:
    """A bool over the instance's own variables, other members' (`q[j].b`) and quantifiers."""
    kind = draw(st.integers(0, 7 if depth < 1 else 3))
    if kind == 0:
        return draw(st.sampled_from(["b", "!b", "x == 0", "x < 2", "m == A", "m != C", "vs[0]", "0 in s",
                                     "card(s) > 1", "cnt[A] == 0", "m in {A, C}", "s == {}"]))
    if kind == 6:  # maps and sets, indexed at run time
        i = draw(fam_index(k, dyn))
        return draw(st.sampled_from([f"vs[{i}]", f"{i} in s", f"q[{i}].vs[self]", f"cnt[m] < {draw(st.integers(0, 2))}",
                                     f"self in q[{i}].s"]))
    if kind == 7:
        return f"(forall j in q[{draw(fam_index(k, dyn))}].s: q[j].b || j == self)"
    if kind == 1:
        if draw(st.integers(0, 3)) == 0:
            return f"b_of({draw(fam_index(k, dyn))})"  # a top-level def
        return f"q[{draw(fam_index(k, dyn))}].{draw(st.sampled_from(['b', 'x > 0', 'm == B']))}"
    if kind == 2:
        return f"len(ch[{draw(fam_index(k, dyn))}]) {draw(st.sampled_from(['==', '>']))} 0"
    if kind == 3:
        q = draw(st.sampled_from(["forall", "exists"]))
        return f"({q} j in 0..{k - 1}: q[j].b || q[j].x == {draw(st.integers(0, 2))})"
    if kind == 4:
        return f"(count j in 0..{k - 1}: q[j].m == {draw(st.sampled_from(ENUM))}) {draw(st.sampled_from(['==', '>=', '<']))} {draw(st.integers(0, k))}"
    op = draw(st.sampled_from(["&&", "||", "==>"]))
    return f"({draw(fam_bool(k, dyn, depth + 1))} {op} {draw(fam_bool(k, dyn, depth + 1))})"


@st.composite
def fam_int(draw: st.DrawFn, k: int, dyn: tuple[str, ...]) -> str:
    return draw(st.sampled_from(["0", "1", "2", "x", "x + 1", "x - 1", f"q[{draw(fam_index(k, dyn))}].x",
                                 f"count j in 0..{k - 1}: q[j].b"]))


@st.composite
def fam_transition(draw: st.DrawFn, k: int, i: int) -> str:
    kind = draw(st.sampled_from(["plain", "choose", "receive", "send", "loop", "swap", "let", "any"]))
    dyn: tuple[str, ...] = ("n",) if kind in ("choose", "send") else ("r.v", "j") if kind == "any" else (
        ("r.v",) if kind == "receive" else ())
    head = f"transition t{i}"
    if kind in ("choose", "send"):
        head += f" choose n: 0..{k - 1}"
    if kind == "receive":
        head += " receive r from inbox"
    if kind == "any":  # one transition per member of the family, j its index
        head += " receive r from ch[any j]"
    if draw(st.booleans()):
        head += f" when {draw(fam_bool(k, dyn))}"
    body = []
    for _ in range(draw(st.integers(1, 2))):
        target = draw(st.sampled_from(["x", "b", "m", "vs", "s", "cnt"]))
        if target == "vs":
            body.append(f"vs[{draw(fam_index(k, dyn))}] := {draw(fam_bool(k, dyn, 1))};")
        elif target == "s":
            op = draw(st.sampled_from(["+", "-", "*"]))
            body.append(f"s := s {op} {{{draw(fam_index(k, dyn))}}};")
        elif target == "cnt":  # may leave 0..2: a range_ok violation
            body.append(f"cnt[m] := cnt[m] + {draw(st.integers(0, 1))};")
        elif target == "x":
            body.append(f"x := {draw(fam_int(k, dyn))};")
        elif target == "b":
            body.append(f"b := {draw(fam_bool(k, dyn, 1))};")
        else:
            body.append(f"m := {draw(st.sampled_from(ENUM))};")
    if kind == "send":
        body.append(f"send ch[n] M {{ v: self, f: {draw(fam_bool(k, dyn, 1))} }};")
    if kind == "loop":
        body.append(f"for j in 0..{k - 1} {{ if q[j].b {{ b := !b; }} }}")
    if kind == "swap":  # simultaneous: both values from the state before the step
        body.append(f"x, b := {draw(fam_int(k, dyn))}, {draw(fam_bool(k, dyn, 1))};")
    if kind == "let":  # the let keeps the value from before the assignment after it
        body = ["let old = x;", f"x := {draw(fam_int(k, dyn))};", "b := old == 1;"]
    return head + " {\n    " + "\n    ".join(body) + "\n  }"


@st.composite
def family_model_text(draw: st.DrawFn) -> str:
    """A family `q[0..K-1]` of one process over a channel family `ch[K]`: constant and dynamic
    member indices, `self`, quantifiers and `count`, sends to a member chosen at run time."""
    k = draw(st.integers(2, 3))
    faults = [f for f in ("loss", "duplication") if draw(st.integers(0, 4)) == 0]
    with_ = (" with " + ", ".join(f"{f} = true" for f in faults)) if faults else ""
    start = draw(st.sampled_from(["", " = if i == 0 then [M { v: 1, f: true }] else []", " = [M { v: i }]"]))
    inits = {"x": draw(st.sampled_from(["0", "self"])), "b": draw(st.sampled_from(["false", "self == 0"])),
             "m": draw(st.sampled_from(["A", "B"])), "vs": draw(st.sampled_from(["[j in 0..K-1 -> false]",
                                                                               "[j in 0..K-1 -> j == self]"])),
             "s": draw(st.sampled_from(["{}", "{self}"])), "cnt": "[v in Mode -> 0]"}
    decls = [f"  var {v}: {t} = {inits[v]};" for v, t in FAM_VARS.items()]
    trans = [draw(fam_transition(k, i)) for i in range(draw(st.integers(1, 3)))]
    props = []
    for i in range(draw(st.integers(1, 2))):
        props.append(f"invariant inv{i}: {_fam_top(draw(fam_bool(k, ())), k)};")
    for i in range(draw(st.integers(0, 2))):
        props.append(f"reachable goal{i}: {_fam_top(draw(fam_bool(k, ())), k)};")
    return (
        f"const K = {k};\n"
        "enum Mode { A, B, C }\n"
        "message M { v: 0..K-1 = 0, f: bool = false }\n"
        f"channel ch[i in 0..K-1]: M[1]{start}{with_};\n"
        "def b_of(j: 0..K-1): bool = q[j].b;\n"
        "process Q(inbox: chan M) {\n" + "\n".join(decls) + "\n  " + "\n  ".join(trans) + "\n}\n"
        "instance q[i in 0..K-1] = Q(inbox: ch[i]);\n" + "\n".join(props) + "\n"
    )


def _fam_top(expr: str, k: int) -> str:
    """A process-level bool read at top level: about member 0 (`self` and own names qualified)."""
    expr = re.sub(r"\bself\b", "0", expr)
    return re.sub(r"(?<![.\w])(x|b|m|vs|s|cnt)(?!\w)", r"q[0].\1", expr)
