"""The only translation from the checked model (ir) to Z3: a `TransitionSystem`.

Representation of values as Z3 terms:
- bool: a Bool;
- an integer-typed *expression*: a 64-bit bit-vector read as signed (exact within +-2^62);
  an integer *stored* in a variable or message field: the smallest bit-vector holding its
  range (zero- or sign-extended when read), so that bit-blasting stays small;
- bvN / seqN: an N-bit bit-vector; enums: their member index as a small bit-vector;
- records: dict field -> stored term; channels: `ChanSym` (slots head first, and a length).

Every step k has its own copy of the state (`state_at(k)`) and of the step's choices
(`step_at(k)`: which transition fired and its parameters). Copies are made once and cached, so
engines that deepen reuse the same terms. Names like `client.state@3` only make SMT dumps
readable; nothing recovers meaning by parsing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import z3

from tcpspec import ir
from tcpspec.types import BitVecType, BoolType, EnumType, IntType, RecordType, Type, Value

INT_WIDTH = 64

Sym = Union[z3.ExprRef, dict[str, z3.ExprRef]]


@dataclass
class ChanSym:
    slots: list[dict[str, z3.ExprRef]]
    length: z3.BitVecRef


State = dict[str, Union[Sym, ChanSym]]


# ---------------------------------------------------------------- sorts and storage


def _bits(n: int) -> int:
    return max(1, n.bit_length())


def storage(t: Type) -> tuple[int, bool]:
    """(width, signed) of the stored form of a non-record, non-bool type."""
    if isinstance(t, IntType):
        if not t.bounded:
            return INT_WIDTH, True
        assert t.lo is not None and t.hi is not None
        if t.lo >= 0:
            return _bits(t.hi), False
        return max(_bits(-t.lo - 1), _bits(max(t.hi, 0))) + 1, True
    if isinstance(t, BitVecType):
        return t.width, False
    if isinstance(t, EnumType):
        return _bits(len(t.members) - 1), False
    raise TypeError(t)


def fresh(name: str, t: Type) -> Sym:
    if isinstance(t, BoolType):
        return z3.Bool(name)
    if isinstance(t, RecordType):
        return {f: fresh(f"{name}.{f}", ft) for f, ft in t.fields}  # type: ignore[misc]
    return z3.BitVec(name, storage(t)[0])


def well_formed(sym: Sym, t: Type) -> list[z3.BoolRef]:
    """Constraints that a stored term holds a legal value of `t` (ranges, enum members)."""
    if isinstance(t, RecordType):
        assert isinstance(sym, dict)
        return [c for f, ft in t.fields for c in well_formed(sym[f], ft)]
    if isinstance(t, IntType) and t.bounded:
        v = widen(sym, t)
        return [v >= z3.BitVecVal(t.lo, INT_WIDTH), v <= z3.BitVecVal(t.hi, INT_WIDTH)]  # signed
    if isinstance(t, EnumType):
        w = storage(t)[0]
        if len(t.members) < (1 << w):
            return [z3.ULT(sym, z3.BitVecVal(len(t.members), w))]  # type: ignore[arg-type]
    return []


def widen(stored: Sym, t: Type) -> Sym:
    """Stored form -> expression form (only integers differ)."""
    if isinstance(t, IntType):
        w, signed = storage(t)
        assert isinstance(stored, z3.BitVecRef)
        if w == INT_WIDTH:
            return stored
        return z3.SignExt(INT_WIDTH - w, stored) if signed else z3.ZeroExt(INT_WIDTH - w, stored)
    return stored


def narrow(value: Sym, t: Type) -> tuple[Sym, z3.BoolRef | None]:
    """Expression form -> stored form, and the range condition when `t` is a bounded int."""
    if isinstance(t, IntType) and t.bounded:
        assert isinstance(value, z3.BitVecRef) and t.lo is not None and t.hi is not None
        ok = z3.And(value >= z3.BitVecVal(t.lo, INT_WIDTH), value <= z3.BitVecVal(t.hi, INT_WIDTH))  # signed
        w = storage(t)[0]
        return z3.Extract(w - 1, 0, value), ok
    return value, None


def constant(v: Value, t: Type) -> Sym:
    """A model value as a stored term."""
    if isinstance(t, BoolType):
        return z3.BoolVal(bool(v))
    if isinstance(t, RecordType):
        assert isinstance(v, dict)
        return {f: constant(v[f], ft) for f, ft in t.fields}  # type: ignore[misc]
    w = storage(t)[0]
    if isinstance(t, EnumType):
        assert isinstance(v, str)
        return z3.BitVecVal(t.index(v), w)
    assert isinstance(v, int)
    return z3.BitVecVal(v % (1 << w), w)


def zero(t: Type) -> Sym:
    """The canonical content of an empty channel slot."""
    if isinstance(t, BoolType):
        return z3.BoolVal(False)
    if isinstance(t, RecordType):
        return {f: zero(ft) for f, ft in t.fields}  # type: ignore[misc]
    return z3.BitVecVal(0, storage(t)[0])


def sym_eq(a: Sym, b: Sym) -> z3.BoolRef:
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return z3.And([sym_eq(a[f], b[f]) for f in a])
    return a == b  # type: ignore[return-value]


def sym_ite(c: z3.BoolRef, a: Sym, b: Sym) -> Sym:
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return {f: sym_ite(c, a[f], b[f]) for f in a}  # type: ignore[misc]
    if z3.eq(a, b):
        return a
    return z3.If(c, a, b)


def same(a: Sym, b: Sym) -> bool:
    """Syntactic identity: a variable a transition leaves alone keeps its very term."""
    if isinstance(a, dict):
        return isinstance(b, dict) and all(z3.eq(a[f], b[f]) for f in a)
    return not isinstance(b, dict) and z3.eq(a, b)


# ---------------------------------------------------------------- channels


def _len_width(cap: int) -> int:
    return _bits(cap)


def chan_append(ch: ChanSym, msg: dict[str, z3.ExprRef], cap: int) -> ChanSym:
    w = _len_width(cap)
    slots = [sym_ite(ch.length == z3.BitVecVal(i, w), msg, s) for i, s in enumerate(ch.slots)]
    return ChanSym(slots, ch.length + z3.BitVecVal(1, w))  # type: ignore[arg-type]


def chan_pop(ch: ChanSym, empty: dict[str, z3.ExprRef]) -> ChanSym:
    w = ch.length.size()
    return ChanSym(ch.slots[1:] + [empty], ch.length - z3.BitVecVal(1, w))


def chan_select(ch: ChanSym, i: z3.BitVecRef) -> dict[str, z3.ExprRef]:
    """The message at symbolic position `i` (i is an expression-form int)."""
    msg = ch.slots[0]
    for p in range(1, len(ch.slots)):
        msg = sym_ite(i == z3.BitVecVal(p, INT_WIDTH), ch.slots[p], msg)  # type: ignore[assignment]
    return msg


def chan_ite(c: z3.BoolRef, a: ChanSym, b: ChanSym) -> ChanSym:
    slots = [sym_ite(c, x, y) for x, y in zip(a.slots, b.slots)]
    return ChanSym(slots, sym_ite(c, a.length, b.length))  # type: ignore[arg-type]


def chan_same(a: ChanSym, b: ChanSym) -> bool:
    return z3.eq(a.length, b.length) and all(same(x, y) for x, y in zip(a.slots, b.slots))


# ---------------------------------------------------------------- expressions


@dataclass
class Env:
    """What names mean while evaluating: the state(s), parameters and bound messages."""

    pre: State
    post: State | None = None
    params: dict[str, Sym] = field(default_factory=dict)
    msgs: dict[str, dict[str, z3.ExprRef]] = field(default_factory=dict)


def _lt(a: z3.BitVecRef, b: z3.BitVecRef, t: Type) -> z3.BoolRef:
    if isinstance(t, IntType):
        return a < b
    if isinstance(t, BitVecType) and t.serial:
        return (a - b) < 0  # type: ignore[operator,return-value]
    return z3.ULT(a, b)


def eval_expr(e: ir.Expr, env: Env) -> Sym:
    """An ir expression as a Z3 term, in expression form."""
    if isinstance(e, ir.Lit):
        return widen(constant(e.value, e.type), e.type) if not isinstance(e.type, RecordType) else constant(e.value, e.type)
    if isinstance(e, ir.Var):
        state = env.post if e.primed else env.pre
        assert state is not None, "primed variable outside a step"
        return widen(state[e.var.name], e.var.type)  # type: ignore[arg-type]
    if isinstance(e, ir.Param):
        return widen(env.params[e.name], e.type)
    if isinstance(e, ir.Msg):
        return env.msgs[e.name]
    if isinstance(e, ir.Field):
        base = eval_expr(e.base, env)
        assert isinstance(base, dict)
        return widen(base[e.field], e.type)
    if isinstance(e, ir.Unary):
        a = eval_expr(e.arg, env)
        return z3.Not(a) if e.op == "not" else -a  # type: ignore[operator,arg-type]
    if isinstance(e, ir.Binary):
        return _eval_binary(e, env)
    if isinstance(e, ir.Convert):
        a = eval_expr(e.arg, env)
        assert isinstance(a, z3.BitVecRef)
        if isinstance(e.type, BitVecType):
            return z3.Extract(e.type.width - 1, 0, a) if e.type.width < a.size() else a
        return z3.ZeroExt(INT_WIDTH - a.size(), a) if a.size() < INT_WIDTH else a
    if isinstance(e, ir.Ite):
        return sym_ite(eval_expr(e.cond, env), eval_expr(e.then, env), eval_expr(e.else_, env))  # type: ignore[arg-type]
    if isinstance(e, ir.RecordLit):
        out: dict[str, z3.ExprRef] = {}
        for (f, fe), (_, ft) in zip(e.fields, e.type.fields):
            out[f] = narrow(eval_expr(fe, env), ft)[0]  # type: ignore[assignment]
        return out
    if isinstance(e, ir.ChanLen):
        ch = env.pre[e.channel.name]
        assert isinstance(ch, ChanSym)
        return z3.ZeroExt(INT_WIDTH - ch.length.size(), ch.length)
    raise TypeError(f"unknown expression {e!r}")


def _eval_binary(e: ir.Binary, env: Env) -> Sym:
    a, b = eval_expr(e.left, env), eval_expr(e.right, env)
    op = e.op
    if op == "and":
        return z3.And(a, b)
    if op == "or":
        return z3.Or(a, b)
    if op == "implies":
        return z3.Implies(a, b)
    if op == "eq":
        return sym_eq(a, b)
    if op == "ne":
        return z3.Not(sym_eq(a, b))
    if op == "lt":
        return _lt(a, b, e.left.type)  # type: ignore[arg-type]
    if op == "le":
        return z3.Or(a == b, _lt(a, b, e.left.type))  # type: ignore[arg-type]
    if op == "add":
        return a + b  # type: ignore[operator]
    if op == "sub":
        return a - b  # type: ignore[operator]
    if op == "mul":
        return a * b  # type: ignore[operator]
    if op == "seqdiff":
        d = a - b  # type: ignore[operator]
        return z3.SignExt(INT_WIDTH - d.size(), d) if d.size() < INT_WIDTH else d
    raise TypeError(f"unknown operator {op}")


def range_conditions(e: ir.Expr, env: Env) -> list[z3.BoolRef]:
    """Range checks of the bounded-int fields of the record literals inside `e`."""
    out: list[z3.BoolRef] = []
    if isinstance(e, ir.RecordLit):
        for (_, fe), (_, ft) in zip(e.fields, e.type.fields):
            ok = narrow(eval_expr(fe, env), ft)[1]
            if ok is not None:
                out.append(ok)
            out.extend(range_conditions(fe, env))
    elif isinstance(e, ir.Ite):
        c = eval_expr(e.cond, env)
        out.extend(z3.Implies(c, x) for x in range_conditions(e.then, env))
        out.extend(z3.Implies(z3.Not(c), x) for x in range_conditions(e.else_, env))
    return out


# ---------------------------------------------------------------- transitions


@dataclass
class Effect:
    """What one transition does from a given state: symbolically executed once per step."""

    enabled: list[z3.BoolRef]
    range_ok: list[z3.BoolRef]
    post: State
    received: tuple[str, dict[str, z3.ExprRef]] | None = None  # (channel, message)
    sends: dict[str, tuple[z3.BoolRef, dict[str, z3.ExprRef]]] = field(default_factory=dict)


class _Executor:
    """Sequential semantics of a transition body by symbolic execution with path conditions."""

    def __init__(self, model: ir.Model, env: Env, effect: Effect):
        self.model = model
        self.env = env  # env.pre is the *current* state while executing
        self.effect = effect

    def run(self, stmts: tuple[ir.Stmt, ...], pc: z3.BoolRef) -> None:
        for s in stmts:
            self.stmt(s, pc)

    def stmt(self, s: ir.Stmt, pc: z3.BoolRef) -> None:
        cur = self.env.pre
        if isinstance(s, ir.Assign):
            value = eval_expr(s.value, self.env)
            stored, ok = narrow(value, s.target.type)
            if ok is not None:
                self.effect.range_ok.append(z3.Implies(pc, ok))
            self.effect.range_ok.extend(z3.Implies(pc, c) for c in range_conditions(s.value, self.env))
            self.env.pre = {**cur, s.target.name: stored}
        elif isinstance(s, ir.Send):
            msg = eval_expr(s.message, self.env)
            assert isinstance(msg, dict)
            self.effect.range_ok.extend(z3.Implies(pc, c) for c in range_conditions(s.message, self.env))
            ch = cur[s.channel.name]
            assert isinstance(ch, ChanSym)
            cap = s.channel.capacity
            self.effect.enabled.append(z3.Implies(pc, z3.ULT(ch.length, z3.BitVecVal(cap, ch.length.size()))))
            self.env.pre = {**cur, s.channel.name: chan_append(ch, msg, cap)}
            self.effect.sends[s.channel.name] = (pc, msg)
        elif isinstance(s, ir.If):
            c = eval_expr(s.cond, self.env)
            assert isinstance(c, z3.BoolRef)
            sends_before = dict(self.effect.sends)
            self.run(s.then, z3.And(pc, c))
            then_state, then_sends = self.env.pre, self.effect.sends
            self.env.pre, self.effect.sends = cur, dict(sends_before)
            self.run(s.else_, z3.And(pc, z3.Not(c)))
            self.env.pre = merge_states(c, then_state, self.env.pre)
            self.effect.sends = _merge_sends(then_sends, self.effect.sends)
        else:
            raise TypeError(f"unknown statement {s!r}")


def _merge_sends(
    a: dict[str, tuple[z3.BoolRef, dict[str, z3.ExprRef]]], b: dict[str, tuple[z3.BoolRef, dict[str, z3.ExprRef]]]
) -> dict[str, tuple[z3.BoolRef, dict[str, z3.ExprRef]]]:
    out = dict(b)
    for ch, (fa, ma) in a.items():
        if ch in b and b[ch] is not a.get(ch):
            fb, mb = b[ch]
            if z3.eq(fa, fb) and all(z3.eq(ma[f], mb[f]) for f in ma):
                continue
            out[ch] = (z3.Or(fa, fb), sym_ite(fa, ma, mb))  # type: ignore[assignment]
        else:
            out[ch] = (fa, ma)
    return out


def merge_states(c: z3.BoolRef, a: State, b: State) -> State:
    out: State = {}
    for k, va in a.items():
        vb = b[k]
        if isinstance(va, ChanSym):
            assert isinstance(vb, ChanSym)
            out[k] = va if chan_same(va, vb) else chan_ite(c, va, vb)
        else:
            out[k] = va if same(va, vb) else sym_ite(c, va, vb)  # type: ignore[arg-type]
    return out


def execute(model: ir.Model, t: ir.AnyTransition, pre: State, params: dict[str, Sym]) -> Effect:
    """The effect of transition `t` taken from `pre` with the given (stored) parameters."""
    if isinstance(t, ir.NetworkTransition):
        return _network_effect(t, pre, params)
    effect = Effect(enabled=[], range_ok=[], post=pre)
    env = Env(pre=dict(pre), params=params)
    if t.receive is not None:
        binding, chan = t.receive
        ch = pre[chan.name]
        assert isinstance(ch, ChanSym)
        effect.enabled.append(z3.UGT(ch.length, z3.BitVecVal(0, ch.length.size())))
        msg = ch.slots[0]
        env.msgs[binding] = msg
        effect.received = (chan.name, msg)
    guard = eval_expr(t.guard, env)
    assert isinstance(guard, z3.BoolRef)
    effect.enabled.append(guard)
    if t.receive is not None:
        binding, chan = t.receive
        ch = env.pre[chan.name]
        assert isinstance(ch, ChanSym)
        env.pre = {**env.pre, chan.name: chan_pop(ch, zero(chan.message))}  # type: ignore[arg-type]
    _Executor(model, env, effect).run(t.body, z3.BoolVal(True))
    effect.post = env.pre
    return effect


def _network_effect(t: ir.NetworkTransition, pre: State, params: dict[str, Sym]) -> Effect:
    c = t.channel
    ch = pre[c.name]
    assert isinstance(ch, ChanSym)
    w = ch.length.size()
    length64 = z3.ZeroExt(INT_WIDTH - w, ch.length) if w < INT_WIDTH else ch.length
    empty: dict[str, z3.ExprRef] = zero(c.message)  # type: ignore[assignment]
    enabled: list[z3.BoolRef] = []
    if t.kind == "injection":
        msg = {f: params[f] for f, _ in c.message.fields}
        enabled.append(z3.ULT(ch.length, z3.BitVecVal(c.capacity, w)))
        new = chan_append(ch, msg, c.capacity)  # type: ignore[arg-type]
    else:
        i = widen(params["i"], t.params[0][1])
        assert isinstance(i, z3.BitVecRef)
        if t.kind == "loss":
            enabled.append(i < length64)
            nxt = ch.slots[1:] + [empty]
            slots = [sym_ite(i <= p, nxt[p], s) for p, s in enumerate(ch.slots)]
            new = ChanSym(slots, ch.length - z3.BitVecVal(1, w))  # type: ignore[arg-type]
        elif t.kind == "duplication":
            enabled += [i < length64, z3.ULT(ch.length, z3.BitVecVal(c.capacity, w))]
            new = chan_append(ch, chan_select(ch, i), c.capacity)
        elif t.kind == "reordering":
            enabled.append(i + 1 < length64)
            slots = []
            for p, s in enumerate(ch.slots):
                cand = s
                if p + 1 < len(ch.slots):
                    cand = sym_ite(i == p, ch.slots[p + 1], cand)  # type: ignore[arg-type]
                if p > 0:
                    cand = sym_ite(i == p - 1, ch.slots[p - 1], cand)  # type: ignore[arg-type]
                slots.append(cand)
            new = ChanSym(slots, ch.length)  # type: ignore[arg-type]
        else:
            raise ValueError(f"unknown fault {t.kind}")
    return Effect(enabled=enabled, range_ok=[], post={**pre, c.name: new})
