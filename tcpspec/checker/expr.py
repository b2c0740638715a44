"""Typing expressions: names resolved in a scope, operators mapped to typed `ir` nodes.

The checker (check.py) builds one `Scope` (scope.py) per context (constant, process instance,
property) and asks an `ExprChecker` to turn surface expressions into `ir.Expr`. Its parts live in
defs.py, coll.py and index.py, typed against expr_protocol.py, and are composed here. A
sub-expression that has already been reported comes back as None, and callers stay silent about
it, so one mistake gives one diagnostic.
"""

from __future__ import annotations

from dataclasses import replace


from tcpspec.frontend import ast_expr

from tcpspec.checker import ir
from tcpspec.checker.const import const_value
from tcpspec.checker.conversions import coerce, is_num, is_seq, join, pair, retype
from tcpspec.checker.defs import BUILTINS, DefMixin
from tcpspec.checker.coll import CollMixin
from tcpspec.checker.index import IndexMixin
from tcpspec.checker.scope import Reporter, Scope, suggest
from tcpspec.core.diagnostics import Span
from tcpspec.core.types import BOOL, INT, IntType, MapType, RecordType, SetType, Type

INT_LIMIT = 1 << 62

ARITH_OPS = {"+": "add", "-": "sub", "*": "mul"}
ORDER_OPS = {"<": ("lt", False), "<=": ("le", False), ">": ("lt", True), ">=": ("le", True)}
EQ_OPS = {"==": "eq", "!=": "ne"}
LOGIC_OPS = {"&&": "and", "||": "or", "==>": "implies"}


class ExprChecker(IndexMixin, DefMixin, CollMixin):
    """Turns surface expressions into typed `ir` expressions in one scope."""

    def __init__(self, rep: Reporter, scope: Scope) -> None:
        self.rep = rep
        self.scope = scope

    # ------------------------------------------------------------ entry points

    def check(self, e: ast_expr.Expr) -> ir.Expr | None:
        if isinstance(e, ast_expr.IntLit):
            return self._int_lit(e)
        if isinstance(e, ast_expr.BoolLit):
            return ir.Lit(e.value, BOOL, e.span)
        if isinstance(e, ast_expr.Name):
            return self._name(e)
        if isinstance(e, ast_expr.FieldAccess):
            return self._field(e)
        if isinstance(e, ast_expr.Unary):
            return self._unary(e)
        if isinstance(e, ast_expr.Binary):
            return self._binary(e)
        if isinstance(e, ast_expr.IfExpr):
            return self._ite(e)
        if isinstance(e, ast_expr.RecordLit):
            return self._record(e)
        if isinstance(e, ast_expr.Call):
            return self._call(e)
        if isinstance(e, ast_expr.Index):
            return self._index(e)
        if isinstance(e, ast_expr.Quantifier):
            return self._quantifier(e)
        if isinstance(e, ast_expr.SetLit):
            return self.set_lit(e)
        if isinstance(e, ast_expr.MapLit):
            return self.map_lit(e)
        self.rep.error(getattr(e, "span", None), "not an expression")
        return None

    def check_bool(self, e: ast_expr.Expr, what: str) -> ir.Expr | None:
        out = self.check(e)
        if out is not None and out.type != BOOL:
            self.rep.error(e.span, f"{what} must be a bool, not {out.type}")
            return None
        return out

    def check_as(self, e: ast_expr.Expr, target: Type, what: str) -> ir.Expr | None:
        """Check `e` as a value stored into `what` of type `target`."""
        out = self.check(e)
        if out is None:
            return None
        conv = coerce(out, target)
        if conv is None:
            self.rep.error(e.span, f"type mismatch: cannot assign {out.type} to {what} of type {target}")
        return conv

    # ------------------------------------------------------------ leaves

    def _int_lit(self, e: ast_expr.IntLit) -> ir.Expr | None:
        if not -INT_LIMIT <= e.value <= INT_LIMIT:
            self.rep.error(e.span, f"integer {e.value} is out of range (literals must lie within ±2^62)")
            return None
        return ir.Lit(e.value, INT, e.span)

    def _name(self, e: ast_expr.Name) -> ir.Expr | None:
        out = self._lookup(e.name, e.span)
        if out is None or not e.primed:
            return out
        return self._prime(out, e.name, e.span)

    def _prime(self, out: ir.Expr, text: str, span: Span) -> ir.Expr | None:
        if not isinstance(out, ir.Var):
            self.rep.error(span, f"only a state variable can be primed, not '{text}'")
            return None
        if not self.scope.primes:
            self.rep.error(span, "a primed variable is only allowed in step properties")
            return None
        return ir.Var(out.var, True, out.type, span)

    def _lookup(self, name: str, span: Span) -> ir.Expr | None:
        s = self.scope
        if name in s.broken:
            return None
        if name in s.params:
            return ir.Param(name, s.params[name], span)
        if name in s.msgs:
            return ir.Msg(name, s.msgs[name], span)
        if name in s.exprs:
            return s.exprs[name]
        if name in s.locals:
            local = s.locals[name]
            return ir.Local(local.name, local.type, span, local.bound)
        if name in s.vars:
            var = s.vars[name]
            return ir.Var(var, False, var.type, span)
        if name in s.hidden:
            self.rep.error(span, s.hidden[name])
            return None
        if name in s.values:
            lit = s.values[name]
            return ir.Lit(lit.value, lit.type, span)
        if name in s.chans or name in s.chan_families:
            what = "a channel" if name in s.chans else "a family of channels"
            self.rep.error(span, f"'{name}' is {what}, not a value")
            return None
        if name == "self" and name not in s.env.kinds:
            if s.self_index is None:
                self.rep.error(span, "'self' is only defined inside a process instantiated as a family "
                               "(instance rm[i in 0..N-1] = ...), where it is the member's index")
                return None
            return ir.Lit(s.self_index.value, s.self_index.type, span)
        return self._lookup_global(name, span)

    def _lookup_global(self, name: str, span: Span) -> ir.Expr | None:
        env = self.scope.env
        if name in env.broken:
            return None
        if name in env.constants:
            value, typ = env.constants[name]
            return ir.Lit(value, typ, span)
        if name in env.members:
            return ir.Lit(name, env.members[name], span)
        kind = env.kinds.get(name)
        if kind is None:
            self.rep.error(span, f"unknown name '{name}'{self._hint(name)}")
        elif kind == "constant":
            self.rep.error(span, f"constant '{name}' is used before its definition")
        elif kind == "instance":
            self.rep.error(span, f"'{name}' is an instance, not a value; write {name}.<variable>")
        elif kind == "instance family":
            self.rep.error(span, f"'{name}' is a family of instances, not a value; write {name}[i].<variable>")
        else:
            self.rep.error(span, f"'{name}' is a {kind}, not a value")
        return None

    def _hint(self, name: str) -> str:
        """At top level a bare variable name most likely meant some instance's variable."""
        if self.scope.top_level:
            for inst, variables in self.scope.env.instance_vars.items():
                if name in variables:
                    return f"; did you mean '{inst}.{name}'?"
        return suggest(name, self._value_names())

    def _value_names(self) -> set[str]:
        """What an unknown name may have meant; at top level, `inst.var` too."""
        env = self.scope.env
        names = self.scope.local_names() | set(env.constants) | set(env.members)
        if self.scope.top_level:
            names |= {v.name for vs in env.instance_vars.values() for v in vs.values()}
        return names - set(self.scope.chans)

    # ------------------------------------------------------------ fields

    def _field(self, e: ast_expr.FieldAccess) -> ir.Expr | None:
        base = e.base
        if isinstance(base, ast_expr.Name) and self._names_instance(base.name):
            return self._instance_var(base, e)
        if isinstance(base, ast_expr.Index) and isinstance(base.base, ast_expr.Name) and self.names_family(base.base.name):
            return self.member_var(base.base.name, base.index, e)
        if isinstance(base, ast_expr.Name) and self.names_family(base.name):
            fam = self.scope.env.families[base.name]
            self.rep.error(e.span, f"'{base.name}' is a family of instances: name a member, e.g. "
                           f"'{base.name}[{fam.lo}].{e.field}'")
            return None
        out = self.check(base)
        if out is None:
            return None
        if not isinstance(out.type, RecordType):
            self.rep.error(e.span, f"a value of type {out.type} has no fields (no '.{e.field}')")
            return None
        ftype = out.type.field_type(e.field)
        if ftype is None:
            names = [f for f, _ in out.type.fields]
            self.rep.error(
                e.span, f"message {out.type} has no field '{e.field}'{suggest(e.field, names)}"
            )
            return None
        if e.primed:
            self.rep.error(e.span, "only a state variable can be primed, not a message field")
            return None
        return ir.Field(out, e.field, ftype, e.span)

    def _names_instance(self, name: str) -> bool:
        env = self.scope.env
        return name not in self.scope.local_names() and env.kinds.get(name) == "instance"

    def _instance_var(self, base: ast_expr.Name, e: ast_expr.FieldAccess) -> ir.Expr | None:
        if not self._may_read_instances(e, f"{base.name}.{e.field}"):
            return None
        return self.instance_var_named(base.name, e)

    def _may_read_instances(self, e: ast_expr.Expr, text: str) -> bool:
        if self.scope.reads_instances:
            return True
        if self.scope.instance is not None:
            where = "an initial value may only read this instance's variables declared before it"
        else:
            where = "a constant expression is expected here"
        self.rep.error(e.span, f"'{text}': {where}")
        return False

    def instance_var_named(self, inst: str, e: ast_expr.FieldAccess) -> ir.Expr | None:
        """Variable `e.field` of instance `inst` (`client`, `rm[2]`), primed if `e` is."""
        if inst in self.scope.env.broken:
            return None
        variables = self.scope.env.instance_vars.get(inst, {})
        var = variables.get(e.field)
        if var is None and f"{inst}.{e.field}" in self.scope.env.broken:
            return None
        value = self.scope.env.instance_values.get(inst, {}).get(e.field)
        if var is None and value is not None:
            if e.primed:
                self.rep.error(e.span, f"'{inst}.{e.field}' is a parameter of the instance, fixed for "
                               "the run: it has no primed value")
                return None
            return replace(value, span=e.span)
        if var is None:
            self.rep.error(
                e.span,
                f"instance '{inst}' has no variable '{e.field}'{suggest(e.field, set(variables))}",
            )
            return None
        out = ir.Var(var, False, var.type, e.span)
        return self._prime(out, f"{inst}.{e.field}", e.span) if e.primed else out

    # ------------------------------------------------------------ operators

    def _unary(self, e: ast_expr.Unary) -> ir.Expr | None:
        if e.op in ("always", "eventually"):
            self.rep.error(e.span, f"'{e.op}' is a temporal operator: it belongs in a `temporal` property "
                           f"(`temporal NAME: {e.op} ...;`), not in an expression about one state or step")
            return None
        arg = self.check(e.arg)
        if arg is None:
            return None
        if e.op == "!":
            if arg.type != BOOL:
                self.rep.error(e.span, f"operator '!' needs a bool, not {arg.type}")
                return None
            return ir.Unary("not", arg, BOOL, e.span)
        if e.op == "-" and is_num(arg.type) and not is_seq(arg.type):
            typ = INT if isinstance(arg.type, IntType) else arg.type
            return ir.Unary("neg", arg, typ, e.span)
        self.rep.error(e.span, f"operator '{e.op}' cannot be applied to {arg.type}")
        return None

    def _binary(self, e: ast_expr.Binary) -> ir.Expr | None:
        if e.op == "in":
            return self.member(e)
        left = self.check(e.left)
        right = self.check(e.right)
        if left is None or right is None:
            return None
        if e.op in ARITH_OPS and (isinstance(left.type, SetType) or isinstance(right.type, SetType)):
            return self.set_op(e, left, right)
        if e.op in ARITH_OPS:
            return self._arith(e, left, right)
        if e.op in ORDER_OPS:
            return self._order(e, left, right)
        if e.op in EQ_OPS:
            return self._equal(e, left, right)
        if e.op in LOGIC_OPS:
            return self._logic(e, left, right)
        self.rep.error(e.span, f"unknown operator '{e.op}'")
        return None

    def _arith(self, e: ast_expr.Binary, left: ir.Expr, right: ir.Expr) -> ir.Expr | None:
        for side in (left, right):
            if not is_num(side.type):
                self.rep.error(side.span, f"operator '{e.op}' needs numbers, not {side.type}")
                return None
        lt, rt = left.type, right.type
        if is_seq(lt) or is_seq(rt):
            problem = self._seq_problem(e.op, lt, rt)
            if problem:
                self.rep.error(e.span, problem)
                return None
            if e.op == "-" and lt == rt:
                return ir.Binary("seqdiff", left, right, INT, e.span)
        paired = pair(left, right)
        if paired is None:
            self.rep.error(e.span, f"type mismatch: cannot apply '{e.op}' to {lt} and {rt}")
            return None
        pl, pr, typ = paired
        return ir.Binary(ARITH_OPS[e.op], pl, pr, typ, e.span)

    @staticmethod
    def _seq_problem(op: str, lt: Type, rt: Type) -> str:
        """What is wrong with arithmetic on a sequence number, or '' if nothing."""
        if op == "*":
            return "cannot multiply sequence numbers"
        if op == "+" and is_seq(lt) and is_seq(rt):
            return "cannot add two sequence numbers; did you mean seq + length?"
        if op == "-" and isinstance(lt, IntType):
            return f"cannot subtract a sequence number ({rt}) from an int"
        return ""

    def _order(self, e: ast_expr.Binary, left: ir.Expr, right: ir.Expr) -> ir.Expr | None:
        for side in (left, right):
            if not is_num(side.type):
                self.rep.error(side.span, f"operator '{e.op}' is not defined on {side.type}")
                return None
        paired = pair(left, right)
        if paired is None:
            self.rep.error(e.span, f"type mismatch: cannot compare {left.type} with {right.type}")
            return None
        pl, pr, _ = paired
        op, swap = ORDER_OPS[e.op]
        if swap:
            pl, pr = pr, pl
        return ir.Binary(op, pl, pr, BOOL, e.span)

    def _equal(self, e: ast_expr.Binary, left: ir.Expr, right: ir.Expr) -> ir.Expr | None:
        if isinstance(left.type, (SetType, MapType)) or isinstance(right.type, (SetType, MapType)):
            both = self.same_collection(e.span, left, right, f"'{e.op}'")
            return None if both is None else ir.Binary(EQ_OPS[e.op], *both, BOOL, e.span)
        paired = pair(left, right) if is_num(left.type) and is_num(right.type) else None
        if paired is None and left.type == right.type:
            paired = left, right, left.type
        if paired is None:
            self.rep.error(e.span, f"type mismatch: cannot compare {left.type} with {right.type}")
            return None
        pl, pr, _ = paired
        return ir.Binary(EQ_OPS[e.op], pl, pr, BOOL, e.span)

    def _logic(self, e: ast_expr.Binary, left: ir.Expr, right: ir.Expr) -> ir.Expr | None:
        for side in (left, right):
            if side.type != BOOL:
                self.rep.error(side.span, f"operator '{e.op}' needs bools, not {side.type}")
                return None
        return ir.Binary(LOGIC_OPS[e.op], left, right, BOOL, e.span)

    def _ite(self, e: ast_expr.IfExpr) -> ir.Expr | None:
        cond = self.check_bool(e.cond, "the condition of 'if'")
        then = self.check(e.then)
        other = self.check(e.else_)
        if cond is None or then is None or other is None:
            return None
        then, other = retype(then, other.type) or then, retype(other, then.type) or other
        typ = join(then.type, other.type)
        if typ is None:
            paired = pair(then, other) if is_num(then.type) and is_num(other.type) else None
            if paired is None:
                self.rep.error(
                    e.span, f"type mismatch: 'if' branches have types {then.type} and {other.type}"
                )
                return None
            then, other, typ = paired
        return ir.Ite(cond, then, other, typ, e.span)

    # ------------------------------------------------------------ literals and calls

    def _record(self, e: ast_expr.RecordLit) -> ir.Expr | None:
        rtype = self._message_type(e.type_name, e.span)
        if rtype is None:
            return None
        given = self._record_fields(e, rtype)
        if given is None:
            return None
        defaults = self.scope.env.defaults.get(rtype.name, {})
        fields: list[tuple[str, ir.Expr]] = []
        missing = []
        for fname, _ in rtype.fields:
            value = given.get(fname, defaults.get(fname))
            if value is None:
                missing.append(fname)
            else:
                fields.append((fname, value))
        if missing:
            names = ", ".join(f"'{m}'" for m in missing)
            self.rep.error(e.span, f"{rtype} literal is missing field{'s' if len(missing) > 1 else ''} {names}")
            return None
        return ir.RecordLit(tuple(fields), rtype, e.span)

    def _message_type(self, name: str, span: Span) -> RecordType | None:
        env = self.scope.env
        if name in env.broken:
            return None
        typ = env.types.get(name)
        if isinstance(typ, RecordType):
            return typ
        if name in env.kinds:
            self.rep.error(span, f"'{name}' is a {env.kinds[name]}, not a message type")
        else:
            messages = {n for n, t in env.types.items() if isinstance(t, RecordType)}
            self.rep.error(span, f"unknown message type '{name}'{suggest(name, messages)}")
        return None

    def _record_fields(self, e: ast_expr.RecordLit, rtype: RecordType) -> dict[str, ir.Expr] | None:
        """The given fields, checked against the message; None when any is wrong."""
        given: dict[str, ir.Expr] = {}
        seen: dict[str, Span] = {}
        ok = True
        names = [f for f, _ in rtype.fields]
        for init in e.fields:
            ftype = rtype.field_type(init.name)
            if ftype is None:
                self.rep.error(init.span, f"message {rtype} has no field '{init.name}'{suggest(init.name, names)}")
                ok = False
                continue
            if init.name in seen:
                self.rep.error(init.span, f"field '{init.name}' is given twice", f"first given at {seen[init.name]}")
                ok = False
                continue
            seen[init.name] = init.span
            value = self.check_as(init.value, ftype, f"field '{init.name}'")
            if value is None:
                ok = False
            else:
                given[init.name] = value
        return given if ok else None

    def _call(self, e: ast_expr.Call) -> ir.Expr | None:
        sig = self.find_def(e.func)
        if sig is not None:
            return self.call_def(sig, e)
        if e.func == "card":
            return self.card(e)
        if e.func != "len":
            names = [*BUILTINS, *self.scope.defs, *self.scope.env.defs]
            hint = "; did you mean 'card'?" if e.func in ("size", "cardinality", "Cardinality") else suggest(e.func, names)
            self.rep.error(e.span, f"unknown function '{e.func}'{hint}")
            return None
        if len(e.args) != 1 or not isinstance(e.args[0], (ast_expr.Name, ast_expr.Index)):
            self.rep.error(e.span, "len takes one channel: len(ch)")
            return None
        return self.chan_value(e.args[0], e.span, lambda ch: ir.ChanLen(ch, IntType(0, ch.capacity), e.span))

    def const_int(self, e: ast_expr.Expr, what: str) -> int | None:
        out = self.check(e)
        if out is None:
            return None
        value = const_value(out)
        if not isinstance(value, int) or isinstance(value, bool):
            self.rep.error(e.span, f"{what} must be a constant integer (constants, literals and "
                           "quantified names only)")
            return None
        return value

    def _index(self, e: ast_expr.Index) -> ir.Expr | None:
        base = e.base
        if isinstance(base, ast_expr.Name) and self.names_family(base.name):
            self.rep.error(e.span, f"'{base.name}[...]' is an instance, not a value; write {base.name}[i].<variable>")
            return None
        if isinstance(base, ast_expr.Name) and self.scope.chan_family(base.name) is not None:
            self.rep.error(e.span, f"'{base.name}[...]' is a channel, not a value")
            return None
        if not self.is_chan_expr(base):
            coll = self.check(base)
            if coll is None:
                return None
            if isinstance(coll.type, MapType):
                return self.map_read(coll, e.index, e.span)
            self.rep.error(e.span, f"a {coll.type} cannot be indexed: only a map (m[k]) or a channel (ch[i], "
                           "the i-th message from its head)")
            return None
        index = self.const_int(e.index, "a channel index")
        if index is None:
            return None

        def slot(chan: ir.Channel) -> ir.Expr | None:
            if not 0 <= index < chan.capacity:
                self.rep.error(e.index.span, f"index {index} is outside channel '{chan.name}' "
                               f"(capacity {chan.capacity}: 0..{chan.capacity - 1})")
                return None
            return ir.ChanSlot(chan, index, chan.message, e.span)

        return self.chan_value(base, e.span, slot)

    def channel(self, name: str, span: Span) -> ir.Channel | None:
        """A channel parameter or a global channel, or a reported error."""
        chan = self.scope.channel(name)
        if chan is not None:
            return chan
        env = self.scope.env
        if name in self.scope.broken or name in env.broken:
            return None
        local = self.scope.local_names() - set(self.scope.chans)
        if env.kinds.get(name) == "channel" and name not in local:
            self.rep.error(span, f"channel '{name}' cannot be used here")
        elif name in local or name in env.kinds:
            what = "a local name" if name in local else f"a {env.kinds[name]}"
            self.rep.error(span, f"'{name}' is {what}, not a channel")
        else:
            names = set(self.scope.chans) | set(env.channels)
            self.rep.error(span, f"unknown channel '{name}'{suggest(name, names)}")
        return None
