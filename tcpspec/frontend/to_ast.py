"""The lark Transformer that turns a parse tree into `tcpspec.frontend.ast` nodes, with spans.

It checks what the grammar cannot say (literal ranges, fault names, chained comparisons, primes)
and keeps going after such a problem, so that one parse reports all of them; parser.py runs it
on each file's tree.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lark import Token, Transformer, v_args

from tcpspec.frontend import ast, ast_expr
from tcpspec.frontend.grammar import token_span
from tcpspec.core.diagnostics import Diagnostic, Span

INT_LIMIT = 2**62
FAULT_KINDS = ("loss", "duplication", "reordering", "injection")
_CMP_OPS = frozenset(("==", "!=", "<", "<=", ">", ">="))


@dataclasses.dataclass(frozen=True)
class _Tagged:
    """An intermediate result whose role is known by `kind` (optional parts of a rule)."""

    kind: str
    value: Any


@dataclasses.dataclass(frozen=True)
class _Target:
    """An assignment's target while it is being read: the variable and the map keys after it."""

    name: str
    span: Span
    path: tuple[Any, ...]


@v_args(meta=True)
class ToAst(Transformer[Token, Any]):
    """Builds `tcpspec.frontend.ast` nodes; recoverable problems go to `errors`, the walk goes on."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.errors: list[Diagnostic] = []

    def _span(self, meta: Any) -> Span:
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok(self, tok: Token) -> Span:
        return token_span(self.path, tok)

    def _error(self, span: Span, message: str) -> None:
        self.errors.append(Diagnostic(span, message))

    # ---- files and declarations

    def qname(self, meta: Any, c: list[Any]) -> Token:
        return c[0] if len(c) == 1 else Token.new_borrow_pos("NAME", f"{c[0]}.{c[1]}", c[0])

    def variant_decl(self, meta: Any, c: list[Any]) -> ast.Variant:
        if str(c[0]) != "of":
            self._error(self._tok(c[0]), f"unexpected '{c[0]}': expected 'of', as in 'variant of \"../tcp.tcpspec\" {{ ... }}'")
        return ast.Variant(str(c[1])[1:-1], self._tok(c[1]), tuple(c[2:]), self._span(meta))

    def variant_item(self, meta: Any, c: list[Any]) -> Any:
        docs = "\n".join(str(t)[3:].strip() for t in c[:-1])
        item = c[-1]
        if not docs or isinstance(item, ast.Drop):
            return item
        if isinstance(item, ast.Replace):
            return dataclasses.replace(item, decl=dataclasses.replace(item.decl, doc=docs))
        return dataclasses.replace(item, doc=docs)

    def variant_replace(self, meta: Any, c: list[Any]) -> Any:
        word, decl, span = str(c[0]), c[1], self._span(meta)
        if word == "drop" and isinstance(decl, ast.FairDecl):
            return ast.Drop("fair", ", ".join(t.text for t in decl.targets), span, fair=decl)
        if word == "drop":
            self._error(self._tok(c[0]), "'drop' names the item it removes: 'drop transition Endpoint.close;'")
        elif word != "replace":
            self._error(self._tok(c[0]), f"unexpected '{word}': in a variant an item is a declaration (added to "
                        "the base), 'replace DECLARATION' or 'drop KIND NAME;'")
        return ast.Replace(decl, span)

    def variant_drop(self, meta: Any, c: list[Any]) -> ast.Drop:
        if str(c[0]) != "drop":
            self._error(self._tok(c[0]), f"unexpected '{c[0]}': 'drop {c[1]} {c[2]};' removes an item; "
                        "'replace' is followed by the whole new declaration")
        return ast.Drop(str(c[1]), str(c[2]), self._span(meta))

    def start(self, meta: Any, children: list[Any]) -> list[Any]:
        return children

    def import_decl(self, meta: Any, c: list[Any]) -> ast.Import:
        return ast.Import(str(c[0])[1:-1], self._span(meta))

    def top_decl(self, meta: Any, c: list[Any]) -> Any:
        docs = [str(t)[3:].strip() for t in c[:-1]]
        return dataclasses.replace(c[-1], doc="\n".join(docs)) if docs else c[-1]

    process_item = top_decl

    def const_decl(self, meta: Any, c: list[Any]) -> ast.ConstDecl:
        return ast.ConstDecl(str(c[0]), c[1], self._span(meta))

    def type_alias(self, meta: Any, c: list[Any]) -> ast.TypeAlias:
        return ast.TypeAlias(str(c[0]), c[1], self._span(meta))

    def enum_member(self, meta: Any, c: list[Any]) -> tuple[str, Span]:
        return str(c[0]), self._tok(c[0])

    def enum_decl(self, meta: Any, c: list[Any]) -> ast.EnumDecl:
        members = c[1:]
        return ast.EnumDecl(
            str(c[0]),
            tuple(m[0] for m in members),
            tuple(m[1] for m in members),
            self._span(meta),
        )

    def message_decl(self, meta: Any, c: list[Any]) -> ast.MessageDecl:
        return ast.MessageDecl(str(c[0]), tuple(c[1:]), self._span(meta))

    def field_decl(self, meta: Any, c: list[Any]) -> ast.FieldDecl:
        default = c[2] if len(c) > 2 else None
        return ast.FieldDecl(str(c[0]), c[1], default, self._span(meta))

    def channel_decl(self, meta: Any, c: list[Any]) -> ast.ChannelDecl:
        family = c.pop(1) if isinstance(c[1], (ast_expr.Family, ast.Binder)) else None
        init = next((x.value for x in c if isinstance(x, _Tagged) and x.kind == "init"), None)
        faults = tuple(x for x in c[3:] if isinstance(x, ast.Fault))
        return ast.ChannelDecl(str(c[0]), c[1], c[2], faults, self._span(meta), family=family, init=init)

    def chan_init(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("init", c[0])

    def chan_init_if(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("init", ast.InitChoice(c[0], c[1], c[2], self._span(meta)))

    def msg_list(self, meta: Any, c: list[Any]) -> tuple[Any, ...]:
        return tuple(c)

    def chan_any(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("chan", (str(c[0]), ast_expr.Name(str(c[2]), self._tok(c[2])), self._span(meta), True))

    def family(self, meta: Any, c: list[Any]) -> ast_expr.Family:
        return ast_expr.Family(None, c[0], self._span(meta))

    def family_range(self, meta: Any, c: list[Any]) -> ast_expr.Family:
        return ast_expr.Family(c[0], c[1], self._span(meta))

    def binder(self, meta: Any, c: list[Any]) -> ast.Binder:
        self._expect_in(c[1], str(c[0]))
        return ast.Binder(str(c[0]), c[2], c[3], self._span(meta))

    def _expect_in(self, tok: Token, var: str, what: str = "rm[i in 0..N-1]") -> None:
        if str(tok) != "in":
            self._error(self._tok(tok), f"unexpected '{tok}': expected 'in', as in '{what}'")

    def fault(self, meta: Any, c: list[Any]) -> ast.Fault:
        kind = str(c[0])
        if kind not in FAULT_KINDS:
            self._error(
                self._tok(c[0]),
                f"unknown fault '{kind}': expected loss, duplication, reordering or injection",
            )
        return ast.Fault(kind, c[1] if len(c) > 1 else None, self._span(meta))

    def instance_decl(self, meta: Any, c: list[Any]) -> ast.InstanceDecl:
        family = c.pop(1) if isinstance(c[1], ast.Binder) else None
        return ast.InstanceDecl(
            str(c[0]), str(c[1]), self._tok(c[1]), tuple(c[2:]), self._span(meta), family=family
        )

    def arg(self, meta: Any, c: list[Any]) -> ast.Arg:
        return ast.Arg(str(c[0]), c[1], self._span(meta))

    def process_decl(self, meta: Any, c: list[Any]) -> ast.ProcessDecl:
        rest = c[1:]
        props = (ast.Invariant, ast.Reachable, ast.StepProperty, ast.Eventually, ast.LeadsTo, ast.Temporal)
        return ast.ProcessDecl(
            str(c[0]),
            tuple(x for x in rest if isinstance(x, ast.Param)),
            tuple(x for x in rest if isinstance(x, ast.VarDecl)),
            tuple(x for x in rest if isinstance(x, ast.Transition)),
            tuple(x for x in rest if isinstance(x, props)),
            self._span(meta),
            finals=tuple(x for x in rest if isinstance(x, ast.Final)),
            defs=tuple(x for x in rest if isinstance(x, ast.DefDecl)),
        )

    def param(self, meta: Any, c: list[Any]) -> ast.Param:
        return ast.Param(str(c[0]), c[1], self._span(meta))

    def var_decl(self, meta: Any, c: list[Any]) -> ast.VarDecl:
        return ast.VarDecl(str(c[0]), c[1], c[2] if len(c) > 2 else None, self._span(meta))

    def transition(self, meta: Any, c: list[Any]) -> ast.Transition:
        fair = c.pop(0).value if isinstance(c[0], _Tagged) and c[0].kind == "fair" else ""
        parts = {x.kind: x.value for x in c[1:] if isinstance(x, _Tagged)}
        receive = next((x for x in c if isinstance(x, ast.Receive)), None)
        return ast.Transition(
            str(c[0]),
            parts.get("choose", ()),
            receive,
            parts.get("guard"),
            parts["block"],
            self._span(meta),
            fair=fair,
        )

    def choose(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("choose", tuple(c))

    def receive(self, meta: Any, c: list[Any]) -> ast.Receive:
        name, index, _, *any_ = c[1].value
        if any_:
            assert isinstance(index, ast_expr.Name)
            return ast.Receive(str(c[0]), name, self._span(meta), any_var=index.name)
        return ast.Receive(str(c[0]), name, self._span(meta), index=index)

    def chan_ref(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("chan", (str(c[0]), c[1] if len(c) > 1 else None, self._span(meta)))

    def guard(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("guard", c[0])

    # ---- properties

    def invariant(self, meta: Any, c: list[Any]) -> ast.Invariant:
        return ast.Invariant(str(c[0]), c[1], self._span(meta))

    def lemma(self, meta: Any, c: list[Any]) -> ast.Invariant:
        return ast.Invariant(str(c[0]), c[1], self._span(meta), lemma=True)

    def reachable(self, meta: Any, c: list[Any]) -> ast.Reachable:
        return ast.Reachable(str(c[0]), c[1], self._span(meta))

    def eventually(self, meta: Any, c: list[Any]) -> ast.Eventually:
        return ast.Eventually(str(c[0]), c[1], self._span(meta))

    def leads_to(self, meta: Any, c: list[Any]) -> ast.LeadsTo:
        return ast.LeadsTo(str(c[0]), c[1], c[3], self._span(meta))

    def temporal(self, meta: Any, c: list[Any]) -> ast.Temporal:
        return ast.Temporal(str(c[0]), c[1], self._span(meta))

    def final_decl(self, meta: Any, c: list[Any]) -> ast.Final:
        return ast.Final(str(c[0]), c[1], self._span(meta))

    def fairness(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("fair", "strong" if c else "weak")

    def fair_decl(self, meta: Any, c: list[Any]) -> ast.FairDecl:
        return ast.FairDecl(c[0].value, tuple(c[1:]), self._span(meta))

    def depth_decl(self, meta: Any, c: list[Any]) -> ast.DepthDecl:
        return ast.DepthDecl(c[0], tuple(c[1:]), self._span(meta))

    def depth_kind(self, meta: Any, c: list[Any]) -> str:
        return str(c[0])

    def fair_target(self, meta: Any, c: list[Any]) -> ast.FairTarget:
        index = next((x for x in c[1:] if not isinstance(x, Token)), None)
        member = next((str(x) for x in c[1:] if isinstance(x, Token)), None)
        return ast.FairTarget(str(c[0]), index, member, self._span(meta))

    def step_prop(self, meta: Any, c: list[Any]) -> ast.StepProperty:
        parts = {x.kind: x.value for x in c[1:-1]}
        return ast.StepProperty(
            str(c[0]), parts.get("events", ()), parts.get("when"), c[-1], self._span(meta)
        )

    def events(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("events", tuple(c))

    def send_event(self, meta: Any, c: list[Any]) -> ast.SendEvent:
        name, index, span, *any_ = c[1].value
        if any_:
            self._error(span, "'any' is only for a transition's receive: a send names its channel")
        return ast.SendEvent(str(c[0]), name, self._span(meta), index=index)

    def step_when(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("when", c[0])

    # ---- statements

    def block(self, meta: Any, c: list[Any]) -> _Tagged:
        return _Tagged("block", tuple(c))

    def assign(self, meta: Any, c: list[Any]) -> ast_expr.Stmt:
        targets = [x for x in c if isinstance(x, _Target)]
        values = [x for x in c if not isinstance(x, _Target)]
        span = self._span(meta)
        if len(targets) != len(values):
            self._error(span, f"{len(targets)} target{'s' if len(targets) > 1 else ''} but {len(values)} "
                        f"value{'s' if len(values) > 1 else ''}: write one value per target, 'a, b := x, y;'")
        assigns = tuple(ast_expr.Assign(t.name, t.span, v, span, t.path) for t, v in zip(targets, values))
        if len(assigns) == 1:
            return assigns[0]
        return ast_expr.MultiAssign(assigns, span)

    def lvalue_name(self, meta: Any, c: list[Any]) -> _Target:
        return _Target(str(c[0]), self._span(meta), ())

    def lvalue_index(self, meta: Any, c: list[Any]) -> _Target:
        base: _Target = c[0]
        return _Target(base.name, self._span(meta), base.path + (c[1],))

    def lvalue_field(self, meta: Any, c: list[Any]) -> _Target:
        base: _Target = c[0]
        text = f"{base.name}{'[...]' * len(base.path)}.{c[1]}"
        self._error(self._span(meta), f"cannot assign to '{text}': a transition assigns its own instance's "
                    "variables (and map elements, m[k] := e), never another instance's or a message's field")
        return base

    def let_stmt(self, meta: Any, c: list[Any]) -> ast_expr.Let:
        return ast_expr.Let(str(c[0]), c[1], self._span(meta))

    def def_decl(self, meta: Any, c: list[Any]) -> ast.DefDecl:
        params = tuple(x for x in c[1:-2] if isinstance(x, ast.Param))
        return ast.DefDecl(str(c[0]), params, c[-2], c[-1], self._span(meta))

    def send(self, meta: Any, c: list[Any]) -> ast_expr.Send:
        name, index, span, *any_ = c[0].value
        if any_:
            self._error(span, "'any' is only for a transition's receive: a send names its channel")
        return ast_expr.Send(name, span, c[1], self._span(meta), index=index)

    def for_stmt(self, meta: Any, c: list[Any]) -> ast_expr.For:
        self._expect_in(c[1], str(c[0]), f"for {c[0]} in 0..N-1 {{ ... }}")
        hi = c[3] if len(c) > 4 else None
        return ast_expr.For(str(c[0]), c[2], hi, c[-1].value, self._span(meta))

    def skip(self, meta: Any, c: list[Any]) -> ast_expr.Skip:
        return ast_expr.Skip(self._span(meta))

    def if_stmt(self, meta: Any, c: list[Any]) -> ast_expr.If:
        else_: tuple[ast_expr.Stmt, ...] = ()
        if len(c) > 2:
            else_ = c[2].value if isinstance(c[2], _Tagged) else (c[2],)
        return ast_expr.If(c[0], c[1].value, else_, self._span(meta))

    # ---- types

    def type_name(self, meta: Any, c: list[Any]) -> ast_expr.TypeName:
        return ast_expr.TypeName(str(c[0]), self._span(meta))

    def chan_type(self, meta: Any, c: list[Any]) -> ast_expr.ChanType:
        return ast_expr.ChanType(c[0], self._span(meta), c[1] if len(c) > 1 else None)

    def range_type(self, meta: Any, c: list[Any]) -> ast_expr.RangeType:
        return ast_expr.RangeType(c[0], c[1], self._span(meta))

    def map_type(self, meta: Any, c: list[Any]) -> ast_expr.MapTypeExpr:
        return ast_expr.MapTypeExpr(c[0], c[2], self._span(meta))

    def set_type(self, meta: Any, c: list[Any]) -> Any:
        if (str(c[0]), str(c[1])) != ("set", "of"):
            bad = c[0] if str(c[0]) != "set" else c[1]
            self._error(self._tok(bad), f"unexpected '{bad}': a type is a name, LO..HI, [K] -> V or 'set of T'")
        return ast_expr.SetTypeExpr(c[2], self._span(meta))

    # ---- expressions

    def if_expr(self, meta: Any, c: list[Any]) -> ast_expr.IfExpr:
        return ast_expr.IfExpr(c[0], c[1], c[2], self._span(meta))

    def binary(self, meta: Any, c: list[Any]) -> ast_expr.Binary:
        left, op, right = c
        span = self._span(meta)
        if (
            op in _CMP_OPS
            and isinstance(left, ast_expr.Binary)
            and left.op in _CMP_OPS
            and (left.span.line, left.span.col) == (span.line, span.col)
        ):
            self._error(
                self._tok(op),
                f"comparisons cannot be chained: write 'a {left.op} b && b {op} c' "
                "or add parentheses",
            )
        return ast_expr.Binary(str(op), left, right, span)

    def member(self, meta: Any, c: list[Any]) -> ast_expr.Binary:
        if str(c[1]) != "in":
            self._error(self._tok(c[1]), f"unexpected '{c[1]}': expected an operator (or 'in', as in 'x in s')")
        return ast_expr.Binary("in", c[0], c[2], self._span(meta))

    def set_lit(self, meta: Any, c: list[Any]) -> ast_expr.SetLit:
        return ast_expr.SetLit(tuple(c), self._span(meta))

    def map_lit(self, meta: Any, c: list[Any]) -> ast_expr.MapLit:
        self._expect_in(c[1], str(c[0]), f"[{c[0]} in 0..N-1 -> e]")
        hi = c[3] if len(c) == 6 else None
        return ast_expr.MapLit(str(c[0]), c[2], hi, c[-1], self._span(meta))

    def unary(self, meta: Any, c: list[Any]) -> ast_expr.Unary:
        return ast_expr.Unary(str(c[0]), c[1], self._span(meta))

    def field(self, meta: Any, c: list[Any]) -> ast_expr.FieldAccess:
        return ast_expr.FieldAccess(c[0], str(c[1]), self._span(meta))

    def index(self, meta: Any, c: list[Any]) -> ast_expr.Index:
        return ast_expr.Index(c[0], c[1], self._span(meta))

    def quantifier(self, meta: Any, c: list[Any]) -> ast_expr.Quantifier:
        self._expect_in(c[2], str(c[1]), f"{c[0]} {c[1]} in 0..N: ...")
        hi = c[4] if len(c) > 5 else None
        return ast_expr.Quantifier(str(c[0]), str(c[1]), c[3], hi, c[-1], self._span(meta))

    def prime(self, meta: Any, c: list[Any]) -> Any:
        base = c[0]
        if isinstance(base, (ast_expr.Name, ast_expr.FieldAccess)) and not base.primed:
            return dataclasses.replace(base, primed=True, span=self._span(meta))
        what = "twice" if getattr(base, "primed", False) else "after this expression"
        self._error(
            self._tok(c[1]),
            f"a prime (') cannot be written {what}: only a variable can be primed, "
            "e.g. x' or client.state'",
        )
        return base

    def record(self, meta: Any, c: list[Any]) -> ast_expr.RecordLit:
        return ast_expr.RecordLit(str(c[0]), tuple(c[1:]), self._span(meta))

    def field_init(self, meta: Any, c: list[Any]) -> ast_expr.FieldInit:
        return ast_expr.FieldInit(str(c[0]), c[1], self._span(meta))

    def call(self, meta: Any, c: list[Any]) -> ast_expr.Call:
        return ast_expr.Call(str(c[0]), tuple(c[1:]), self._span(meta))

    def name(self, meta: Any, c: list[Any]) -> ast_expr.Name:
        return ast_expr.Name(str(c[0]), self._span(meta))

    def true(self, meta: Any, c: list[Any]) -> ast_expr.BoolLit:
        return ast_expr.BoolLit(True, self._span(meta))

    def false(self, meta: Any, c: list[Any]) -> ast_expr.BoolLit:
        return ast_expr.BoolLit(False, self._span(meta))

    def int(self, meta: Any, c: list[Any]) -> ast_expr.IntLit:
        text = str(c[0])
        span = self._span(meta)
        if len(text) > 40:  # far past 2^62; also keeps int() off Python's 4300-digit limit
            self._error(span, "integer literal too large: literals must lie within ±2^62")
            return ast_expr.IntLit(0, span)
        value = int(text[2:], 16) if text[:2] in ("0x", "0X") else int(text, 10)
        if value > INT_LIMIT:
            self._error(span, "integer literal too large: literals must lie within ±2^62")
        return ast_expr.IntLit(value, span)
