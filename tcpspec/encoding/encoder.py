"""The only translation from the checked model (ir) to Z3 terms: expressions and transitions.

Numbers are represented by a `theories.Theory` (integers or bit-vectors, chosen per model);
this module handles everything else: records as dict field -> term, channels as `ChanSym`
(slots head first, and a length), and the symbolic execution of transition bodies.
Names like `client.state@3` only make SMT dumps readable; nothing parses them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import z3

from tcpspec.checker import ir
from tcpspec.checker.const import decided
from tcpspec.encoding.theories import Sym, Theory
from tcpspec.core.types import INT, BitVecType, MapType, SetType, Type, key_text


@dataclass
class ChanSym:
    """A channel's contents: stored message terms, and the length in expression form."""

    slots: list[dict[str, z3.ExprRef]]
    length: z3.ExprRef


State = dict[str, Union[Sym, ChanSym]]


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
        return isinstance(b, dict) and all(same(a[f], b[f]) for f in a)
    return not isinstance(b, dict) and z3.eq(a, b)


# ---------------------------------------------------------------- channels


def chan_append(th: Theory, ch: ChanSym, msg: dict[str, z3.ExprRef]) -> ChanSym:
    slots = [sym_ite(ch.length == th.counter_lit(i), msg, s) for i, s in enumerate(ch.slots)]
    return ChanSym(slots, ch.length + th.counter_lit(1))  # type: ignore[arg-type,operator]


def chan_pop(th: Theory, ch: ChanSym, empty: dict[str, z3.ExprRef]) -> ChanSym:
    return ChanSym(ch.slots[1:] + [empty], ch.length - th.counter_lit(1))  # type: ignore[operator]


def chan_select(th: Theory, ch: ChanSym, i: z3.ExprRef) -> dict[str, z3.ExprRef]:
    """The message at symbolic position `i`."""
    msg = ch.slots[0]
    for p in range(1, len(ch.slots)):
        msg = sym_ite(i == th.counter_lit(p), ch.slots[p], msg)  # type: ignore[assignment]
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

    th: Theory
    pre: State
    post: State | None = None
    params: dict[str, Sym] = field(default_factory=dict)
    msgs: dict[str, dict[str, z3.ExprRef]] = field(default_factory=dict)
    locals: dict[str, Sym] = field(default_factory=dict)  # `let` values, in expression form
    # The range checks of the record literals in each `let`'s value, as computed there: they
    # apply where the value is stored (assigned or sent), as for a literal written in place.
    local_ranges: dict[str, list[z3.BoolRef]] = field(default_factory=dict)


def eval_expr(e: ir.Expr, env: Env) -> Sym:
    """An ir expression as a Z3 term, in expression form."""
    th = env.th
    if isinstance(e, ir.Lit):
        return th.widen(th.constant(e.value, e.type), e.type)
    if isinstance(e, ir.Var):
        state = env.post if e.primed else env.pre
        assert state is not None, "primed variable outside a step"
        return th.widen(state[e.var.name], e.var.type)  # type: ignore[arg-type]
    if isinstance(e, ir.Param):
        return th.widen(env.params[e.name], e.type)
    if isinstance(e, ir.Msg):
        return env.msgs[e.name]
    if isinstance(e, ir.Field):
        base = eval_expr(e.base, env)
        assert isinstance(base, dict)
        return th.widen(base[e.field], e.type)
    if isinstance(e, ir.Unary):
        a = eval_expr(e.arg, env)
        if e.op == "not":
            return z3.Not(a)
        return th.neg(a, e.type)  # type: ignore[arg-type]
    if isinstance(e, ir.Binary):
        return _eval_binary(e, env)
    if isinstance(e, ir.Convert):
        return th.convert(eval_expr(e.arg, env), e.arg.type, e.type)  # type: ignore[arg-type]
    if isinstance(e, ir.Ite):
        return sym_ite(eval_expr(e.cond, env), eval_expr(e.then, env), eval_expr(e.else_, env))  # type: ignore[arg-type]
    if isinstance(e, ir.RecordLit):
        out: dict[str, z3.ExprRef] = {}
        for (f, fe), (_, ft) in zip(e.fields, e.type.fields):
            out[f] = th.narrow(eval_expr(fe, env), ft)[0]  # type: ignore[assignment]
        return out
    if isinstance(e, ir.ChanLen):
        ch = env.pre[e.channel.name]
        assert isinstance(ch, ChanSym)
        return env.th.counter_to_int(ch.length)
    if isinstance(e, ir.Local):
        return env.locals[e.name]
    if isinstance(e, (ir.MapRead, ir.MapStore, ir.MapLit, ir.SetLit, ir.SetOp, ir.Member, ir.Card)):
        return _eval_collection(e, env)
    if isinstance(e, ir.ChanSlot):  # empty slots are held at zero (TransitionSystem.state_at)
        ch = env.pre[e.channel.name]
        assert isinstance(ch, ChanSym)
        return ch.slots[e.index]
    raise TypeError(f"unknown expression {e!r}")


def _key_term(th: Theory, v: object, t: Type) -> z3.ExprRef:
    """A key or element as an expression-form term, to compare with a key expression."""
    return th.widen(th.constant(v, t), t)  # type: ignore[arg-type,return-value]


def _cases(env: Env, key: ir.Expr, key_type: Type, values: list[object]) -> list[tuple[object, z3.BoolRef | None]]:
    """For each key value `key` may be, the condition that it is (None: a constant key, the
    checker folded it to a literal; so `m[0] := v` leaves every other element's very term)."""
    if isinstance(key, ir.Lit):
        return [(key.value, None)]
    k = eval_expr(key, env)
    return [(v, k == _key_term(env.th, v, key_type)) for v in values]  # type: ignore[operator]


def _eval_collection(e: ir.Expr, env: Env) -> Sym:
    """Maps and sets are dicts of stored terms, one per key (`key_text`) or element (a bool)."""
    th = env.th
    if th.arrays and _array_typed(th, e):
        from tcpspec.encoding import theory_arrays

        return theory_arrays.eval_collection(e, th, lambda x: eval_expr(x, env))
    if isinstance(e, ir.MapLit):
        return {key_text(k): th.narrow(eval_expr(v, env), e.type.value)[0] for k, v in zip(e.type.keys(), e.values)}
    if isinstance(e, ir.SetLit):
        elems = [eval_expr(x, env) for x in e.elems]
        return {key_text(k): z3.Or([x == _key_term(th, k, e.type.elem) for x in elems])  # type: ignore[operator]
                for k in e.type.elems()}
    if isinstance(e, ir.SetOp):
        a, b = eval_expr(e.left, env), eval_expr(e.right, env)
        assert isinstance(a, dict) and isinstance(b, dict)
        op = {"union": lambda x, y: z3.Or(x, y), "minus": lambda x, y: z3.And(x, z3.Not(y)),
              "inter": lambda x, y: z3.And(x, y)}[e.op]
        return {k: op(a[k], b[k]) for k in a}
    if isinstance(e, ir.Card):
        s = eval_expr(e.set, env)
        assert isinstance(s, dict)
        one, zero = th.widen(th.constant(1, e.type), e.type), th.widen(th.constant(0, e.type), e.type)
        total: Sym = zero
        for bit in s.values():
            total = th.arith("add", total, z3.If(bit, one, zero), INT)  # type: ignore[arg-type]
        return total
    if isinstance(e, ir.Member):
        s = eval_expr(e.set, env)
        assert isinstance(s, dict) and isinstance(e.set.type, SetType)
        elems = e.set.type.elems()
        if isinstance(e.elem, ir.Lit) and not any(type(x) is type(e.elem.value) and x == e.elem.value for x in elems):
            return z3.BoolVal(False)  # a constant outside the element type is in no such set
        return z3.Or([s[key_text(k)] if c is None else z3.And(c, s[key_text(k)])
                      for k, c in _cases(env, e.elem, e.set.type.elem, elems)])
    if isinstance(e, ir.MapRead):
        m = eval_expr(e.map, env)
        assert isinstance(m, dict) and isinstance(e.map.type, MapType)
        mt = e.map.type
        cases = _cases(env, e.key, mt.key, mt.keys())
        out: Sym = th.widen(m[key_text(cases[-1][0])], mt.value)
        for k, c in reversed(cases[:-1]):
            out = sym_ite(c, th.widen(m[key_text(k)], mt.value), out)  # type: ignore[arg-type]
        return out
    assert isinstance(e, ir.MapStore)
    m = eval_expr(e.map, env)
    assert isinstance(m, dict)
    value = th.narrow(eval_expr(e.value, env), e.type.value)[0]
    out_map = dict(m)
    for k, c in _cases(env, e.key, e.type.key, e.type.keys()):
        name = key_text(k)
        out_map[name] = value if c is None else sym_ite(c, value, m[name])  # type: ignore[arg-type]
    return out_map


def _array_typed(th: Theory, e: ir.Expr) -> bool:
    """Whether the map or set this expression works on is stored as a Z3 array."""
    t = e.map.type if isinstance(e, (ir.MapRead,)) else e.set.type if isinstance(e, (ir.Member, ir.Card)) else e.type
    return th._array(t)


def _eval_binary(e: ir.Binary, env: Env) -> Sym:
    a, b = eval_expr(e.left, env), eval_expr(e.right, env)
    op = e.op
    if op in ("eq", "ne") and env.th._array(e.left.type):
        from tcpspec.encoding import theory_arrays

        same_keys = theory_arrays.equal(env.th, a, b, e.left.type)  # type: ignore[arg-type]
        return same_keys if op == "eq" else z3.Not(same_keys)
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
    th = env.th
    if op == "lt":
        return th.lt(a, b, e.left.type)  # type: ignore[arg-type]
    if op == "le":
        return z3.Or(a == b, th.lt(a, b, e.left.type))  # type: ignore[arg-type]
    if op == "seqdiff":
        lt = e.left.type
        assert isinstance(lt, BitVecType)
        return th.seqdiff(a, b, lt.width)  # type: ignore[arg-type]
    if op in ("add", "sub", "mul"):
        return th.arith(op, a, b, e.type)  # type: ignore[arg-type]
    raise TypeError(f"unknown operator {op}")


def range_conditions(e: ir.Expr, env: Env) -> list[z3.BoolRef]:
    """Range checks of the bounded-int fields of the record literals inside `e`."""
    out: list[z3.BoolRef] = []
    if isinstance(e, ir.Local):
        return list(env.local_ranges.get(e.name, []))
    if isinstance(e, ir.MapLit):
        for v in e.values:
            ok = env.th.narrow(eval_expr(v, env), e.type.value)[1]
            out += ([ok] if ok is not None else []) + range_conditions(v, env)
    elif isinstance(e, ir.MapStore):
        ok = env.th.narrow(eval_expr(e.value, env), e.type.value)[1]
        out += ([ok] if ok is not None else []) + range_conditions(e.value, env) + range_conditions(e.map, env)
    if isinstance(e, ir.RecordLit):
        for (_, fe), (_, ft) in zip(e.fields, e.type.fields):
            ok = env.th.narrow(eval_expr(fe, env), ft)[1]
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
            stored, ok = self.env.th.narrow(value, s.target.type)
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
            self.effect.enabled.append(z3.Implies(pc, self.env.th.counter_lt(ch.length, self.env.th.counter_lit(cap))))
            self.env.pre = {**cur, s.channel.name: chan_append(self.env.th, ch, msg)}
            self.effect.sends[s.channel.name] = (pc, msg)
        elif isinstance(s, ir.Let):
            self.env.locals[s.name] = eval_expr(s.value, self.env)
            self.env.local_ranges[s.name] = range_conditions(s.value, self.env)
        elif isinstance(s, ir.If):
            fixed = decided(s.cond)
            if fixed is not None:  # an option's branch: only the one the constants take
                self.run(s.then if fixed else s.else_, pc)
                return
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
            if z3.eq(fa, fb) and same(ma, mb):
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


def execute(th: Theory, model: ir.Model, t: ir.AnyTransition, pre: State, params: dict[str, Sym]) -> Effect:
    """The effect of transition `t` taken from `pre` with the given (stored) parameters."""
    if isinstance(t, ir.NetworkTransition):
        return _network_effect(th, t, pre, params)
    effect = Effect(enabled=[], range_ok=[], post=pre)
    env = Env(th=th, pre=dict(pre), params=params)
    if t.receive is not None:
        binding, chan = t.receive
        ch = pre[chan.name]
        assert isinstance(ch, ChanSym)
        effect.enabled.append(th.counter_lt(th.counter_lit(0), ch.length))
        msg = ch.slots[0]
        env.msgs[binding] = msg
        effect.received = (chan.name, msg)
    if decided(t.guard) is False:  # an option that is off: never enabled, the body never run
        effect.enabled.append(z3.BoolVal(False))
        return effect
    guard = eval_expr(t.guard, env)
    assert isinstance(guard, z3.BoolRef)
    effect.enabled.append(guard)
    if t.receive is not None:
        binding, chan = t.receive
        ch = env.pre[chan.name]
        assert isinstance(ch, ChanSym)
        env.pre = {**env.pre, chan.name: chan_pop(th, ch, th.zero(chan.message))}  # type: ignore[arg-type]
    _Executor(model, env, effect).run(t.body, z3.BoolVal(True))
    effect.post = env.pre
    return effect


def _network_effect(th: Theory, t: ir.NetworkTransition, pre: State, params: dict[str, Sym]) -> Effect:
    c = t.channel
    ch = pre[c.name]
    assert isinstance(ch, ChanSym)
    empty: dict[str, z3.ExprRef] = th.zero(c.message)  # type: ignore[assignment]
    n, lt = th.counter_lit, th.counter_lt
    room = lt(ch.length, n(c.capacity))
    enabled: list[z3.BoolRef] = []
    if t.kind == "injection":
        msg = {f: params[f] for f, _ in c.message.fields}
        enabled.append(room)
        new = chan_append(th, ch, msg)  # type: ignore[arg-type]
    else:
        i = th.counter(params["i"], t.params[0][1])  # type: ignore[arg-type]
        if t.kind == "loss":
            enabled.append(lt(i, ch.length))
            nxt = ch.slots[1:] + [empty]
            slots = [sym_ite(z3.Not(lt(n(p), i)), nxt[p], s) for p, s in enumerate(ch.slots)]
            new = ChanSym(slots, ch.length - n(1))  # type: ignore[arg-type,operator]
        elif t.kind == "duplication":
            enabled += [lt(i, ch.length), room]
            new = chan_append(th, ch, chan_select(th, ch, i))
        elif t.kind == "reordering":
            enabled.append(lt(i + n(1), ch.length))  # type: ignore[operator]
            slots = []
            for p, s in enumerate(ch.slots):
                cand = s
                if p + 1 < len(ch.slots):
                    cand = sym_ite(i == n(p), ch.slots[p + 1], cand)  # type: ignore[arg-type]
                if p > 0:
                    cand = sym_ite(i == n(p - 1), ch.slots[p - 1], cand)  # type: ignore[arg-type]
                slots.append(cand)
            new = ChanSym(slots, ch.length)  # type: ignore[arg-type]
        else:
            raise ValueError(f"unknown fault {t.kind}")
    return Effect(enabled=enabled, range_ok=[], post={**pre, c.name: new})
