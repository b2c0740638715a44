"""A checked model as a symbolic transition system: per-step state copies, init, T, properties.

Built on `encoder` (which turns expressions and statements into terms). Everything is created
lazily per step and cached, so an engine that deepens from k to k+1 only pays for step k.

Step k is the transition from state k to state k+1. Its choice of transition is `act@k`, one
small bit-vector (the transition's index); each transition's parameters have their own copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import z3

from tcpspec.encoding import encoder as enc
from tcpspec.checker import ir
from tcpspec.encoding.encoder import ChanSym, Effect, Env, State
from tcpspec.encoding.theories import Sym, Theory, choose_theory
from tcpspec.core.types import IntType


@dataclass
class StepSyms:
    """The terms of step k: choice, parameters, the effect of each transition, constraints."""

    act: z3.ExprRef
    params: list[dict[str, Sym]]  # per transition index: param name -> stored term
    effects: list[Effect]
    trans: z3.BoolRef  # act is legal, the chosen transition is enabled, state k+1 is its result
    range_ok: z3.BoolRef  # the chosen transition stores only in-range values


ENUMERATE_PARAMS = 64  # parameter combinations enumerated by `disabled_at`; more: a quantifier


def _leaf_terms(sym: Sym) -> list[z3.ExprRef]:
    if isinstance(sym, dict):
        return [x for v in sym.values() for x in _leaf_terms(v)]
    return [sym]


class TransitionSystem:
    """The Z3 view of one model. `state_at(k)`, `step_at(k)` are cached, terms shared."""

    def __init__(self, model: ir.Model, theory: Theory | None = None):
        self.model = model
        self.th = theory if theory is not None else choose_theory(model)
        self.transitions = list(model.transitions)
        self.act_type = IntType(0, max(0, len(self.transitions) - 1))
        self._states: dict[int, State] = {}
        self._wf: dict[int, list[z3.BoolRef]] = {}
        self._steps: dict[int, StepSyms] = {}
        self._consts: dict[int, list[z3.ExprRef]] = {}  # state k's constants, in a fixed order
        self._named: dict[int, dict[str, list[z3.ExprRef]]] = {}  # the same, per variable / channel
        self._shifts: dict[int, list[tuple[z3.ExprRef, z3.ExprRef]]] = {}  # step 0 -> step k
        self._step_subs: dict[int, Callable[[z3.ExprRef], z3.ExprRef]] = {}
        self._state_subs: dict[int, Callable[[z3.ExprRef], z3.ExprRef]] = {}
        # Per property (by identity; the property is kept so that its id stays its own): its
        # term in state 0 / on step 0, the originals every other depth is renamed from.
        self._holds0: dict[int, tuple[ir.Property, z3.BoolRef]] = {}
        self._viol0: dict[int, tuple[ir.Property, z3.BoolRef]] = {}
        self._disabled: dict[tuple[int, int], z3.BoolRef] = {}

    # ------------------------------------------------------------ state copies

    def state_at(self, k: int) -> State:
        if k not in self._states:
            state: State = {}
            stored_of: dict[str, z3.ExprRef] = {}
            wf: list[z3.BoolRef] = []
            for v in self.model.state_vars:
                sym = self.th.fresh(f"{v.name}@{k}", v.type)
                state[v.name] = sym
                wf += self.th.well_formed(sym, v.type)
            for c in self.model.channels:
                slots = []
                for i in range(c.capacity):
                    slot = self.th.fresh(f"{c.name}[{i}]@{k}", c.message)
                    assert isinstance(slot, dict)
                    slots.append(slot)
                    wf += self.th.well_formed(slot, c.message)
                len_type = IntType(0, c.capacity)
                stored_len = self.th.fresh(f"{c.name}.len@{k}", len_type)
                assert isinstance(stored_len, z3.ExprRef)
                stored_of[c.name] = stored_len
                wf += self.th.well_formed(stored_len, len_type)
                length = self.th.counter(stored_len, len_type)  # type: ignore[arg-type]
                # Slots past the length are empty: one term per state, so equal states are equal.
                for i, slot in enumerate(slots):
                    empty = enc.sym_eq(slot, self.th.zero(c.message))
                    wf.append(z3.Implies(z3.Not(self.th.counter_lt(self.th.counter_lit(i), length)), empty))
                state[c.name] = ChanSym(slots, length)
            self._states[k] = state
            self._wf[k] = wf
            named = {v.name: _leaves(state[v.name]) for v in self.model.state_vars}
            for c in self.model.channels:
                ch = state[c.name]
                assert isinstance(ch, ChanSym)
                named[c.name] = [leaf for slot in ch.slots for leaf in _leaves(slot)] + [stored_of[c.name]]
            self._named[k] = named
            self._consts[k] = [leaf for leaves in named.values() for leaf in leaves]
        return self._states[k]

    def constants(self, k: int) -> dict[str, list[z3.ExprRef]]:
        """State k's constants per state variable and channel (slots' fields, then the length)."""
        self.state_at(k)
        return self._named[k]

    def well_formed(self, k: int) -> z3.BoolRef:
        """State k holds legal values (ranges, enum members, channel lengths, empty slots)."""
        self.state_at(k)
        return z3.And(self._wf[k])

    def init(self) -> z3.BoolRef:
        """State 0 is initial: declared initial values, any value elsewhere, channels empty or
        holding their declared initial messages."""
        s0 = self.state_at(0)
        cs: list[z3.BoolRef] = [self.well_formed(0)]
        env = Env(th=self.th, pre=s0)
        for v in self.model.state_vars:
            e = self.model.init.get(v.name)
            if e is None:
                continue
            value = enc.eval_expr(e, env)
            stored, ok = self.th.narrow(value, v.type)
            cs.append(enc.sym_eq(s0[v.name], stored))  # type: ignore[arg-type]
            if ok is not None:
                cs.append(ok)
            cs.extend(enc.range_conditions(e, env))  # a literal's parts (record fields, map values) too
        for c in self.model.channels:  # empty, or holding the channel's initial messages
            ch = s0[c.name]
            assert isinstance(ch, ChanSym)
            cs.append(ch.length == self.th.counter_lit(len(c.init)))
            cs.extend(enc.sym_eq(slot, self.th.constant(m, c.message)) for slot, m in zip(ch.slots, c.init))
        return z3.And(cs)

    # ------------------------------------------------------------ steps

    def step_at(self, k: int) -> StepSyms:
        """Step k. Only step 0 is encoded from the model; step k is step 0 with every constant of
        states 0, 1 and of step 0 renamed to those of states k, k+1 and step k (`z3.substitute`,
        one pass in C): far cheaper per step than re-running the encoder, and the same terms."""
        if k not in self._steps:
            self._steps[k] = self._encode_step(0) if k == 0 else self._shifted_step(k)
        return self._steps[k]

    def _shifted_step(self, k: int) -> StepSyms:
        base = self.step_at(0)
        act = self.th.fresh(f"act@{k}", self.act_type)
        assert isinstance(act, z3.ExprRef)
        params: list[dict[str, Sym]] = []
        pairs: list[tuple[z3.ExprRef, z3.ExprRef]] = [(base.act, act)]
        for t, ps0 in zip(self.transitions, base.params):
            ps: dict[str, Sym] = {}
            for pname, ptype in t.params:
                ps[pname] = self.th.fresh(f"{t.name}.{pname}@{k}", ptype)
                pairs += zip(_leaves(ps0[pname]), _leaves(ps[pname]))
            params.append(ps)
        self.state_at(k + 1)
        pairs += self._state_pairs(0, k) + self._state_pairs(1, k + 1)
        self._shifts[k] = pairs

        sub = _substituter(pairs)
        effects = [_map_effect(e, sub) for e in base.effects]
        return StepSyms(act, params, effects, sub(base.trans), sub(base.range_ok))  # type: ignore[arg-type]

    def _state_pairs(self, src: int, dst: int) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
        self.state_at(src)
        self.state_at(dst)
        return list(zip(self._consts[src], self._consts[dst]))

    def _encode_step(self, k: int) -> StepSyms:
        pre, post = self.state_at(k), self.state_at(k + 1)
        act = self.th.fresh(f"act@{k}", self.act_type)
        assert isinstance(act, z3.ExprRef)
        params: list[dict[str, Sym]] = []
        effects: list[Effect] = []
        cs: list[z3.BoolRef] = list(self.th.well_formed(act, self.act_type))
        oks: list[z3.BoolRef] = []
        if len(self.transitions) == 0:
            cs = [z3.BoolVal(False)]
        for i, t in enumerate(self.transitions):
            ps: dict[str, Sym] = {}
            for pname, ptype in t.params:
                ps[pname] = self.th.fresh(f"{t.name}.{pname}@{k}", ptype)
                cs.extend(z3.Implies(self.fires(act, i), c) for c in self.th.well_formed(ps[pname], ptype))
            params.append(ps)
            eff = enc.execute(self.th, self.model, t, pre, ps)
            effects.append(eff)
            cs.append(z3.Implies(self.fires(act, i), z3.And(eff.enabled)))
            if eff.range_ok:
                oks.append(z3.Implies(self.fires(act, i), z3.And(eff.range_ok)))
        cs += self._next_state(act, pre, post, effects)
        return StepSyms(act, params, effects, z3.And(cs), z3.And(oks) if oks else z3.BoolVal(True))

    def fires(self, act: z3.ExprRef, i: int) -> z3.BoolRef:
        """Step `act` takes transition number i."""
        return act == self.th.constant(i, self.act_type)  # type: ignore[return-value]

    def _next_state(self, act: z3.ExprRef, pre: State, post: State, effects: list[Effect]) -> list[z3.BoolRef]:
        """State k+1 as an if-chain over the transitions that change each variable (frames)."""
        cs: list[z3.BoolRef] = []
        for v in self.model.state_vars:
            value: Sym = pre[v.name]  # type: ignore[assignment]
            for i, eff in enumerate(effects):
                nv = eff.post[v.name]
                if not enc.same(nv, pre[v.name]):  # type: ignore[arg-type]
                    value = enc.sym_ite(self.fires(act, i), nv, value)  # type: ignore[arg-type]
            cs.append(enc.sym_eq(post[v.name], value))  # type: ignore[arg-type]
        for c in self.model.channels:
            cur = pre[c.name]
            assert isinstance(cur, ChanSym)
            chv = cur
            for i, eff in enumerate(effects):
                nch = eff.post[c.name]
                assert isinstance(nch, ChanSym)
                if not enc.chan_same(nch, cur):
                    chv = enc.chan_ite(self.fires(act, i), nch, chv)
            nxt = post[c.name]
            assert isinstance(nxt, ChanSym)
            cs.append(nxt.length == chv.length)
            cs.extend(enc.sym_eq(a, b) for a, b in zip(nxt.slots, chv.slots))
        return cs

    # ------------------------------------------------------------ enabledness (deadlock, fairness)

    def disabled_at(self, i: int, k: int) -> z3.BoolRef:
        """Transition number i cannot fire in state k, whatever its parameters.

        A universal statement: parameters with few values are enumerated (quantifier-free);
        others are bound by a `ForAll`, which Z3 handles by model-based instantiation.
        """
        key = (i, k)
        if key not in self._disabled:
            self._disabled[key] = self._encode_disabled(self.transitions[i], k)
        return self._disabled[key]

    def _encode_disabled(self, t: ir.AnyTransition, k: int) -> z3.BoolRef:
        from tcpspec.interp.values import all_values, cardinality

        pre = self.state_at(k)
        combos = 1
        for _, ptype in t.params:
            combos *= cardinality(ptype)
        if combos <= ENUMERATE_PARAMS:
            import itertools

            names = [p for p, _ in t.params]
            values = itertools.product(*(all_values(pt) for _, pt in t.params))
            cases = []
            for combo in values:
                ps = {n: self.th.constant(v, pt) for n, v, (_, pt) in zip(names, combo, t.params)}
                cases.append(z3.Not(z3.And(enc.execute(self.th, self.model, t, pre, ps).enabled)))
            return z3.And(cases)
        ps = {p: self.th.fresh(f"disabled.{t.name}.{p}@{k}", pt) for p, pt in t.params}
        eff = enc.execute(self.th, self.model, t, pre, ps)
        wf = [c for p, pt in t.params for c in self.th.well_formed(ps[p], pt)]
        leaves = [x for p, _ in t.params for x in _leaf_terms(ps[p])]
        return z3.ForAll(leaves, z3.Implies(z3.And(wf), z3.Not(z3.And(eff.enabled))))

    # ------------------------------------------------------------ properties

    def holds_at(self, prop: ir.Property, k: int) -> z3.BoolRef:
        """The invariant's predicate (or the reachability target) in state k (state 0's, renamed)."""
        if k == 0:
            if id(prop) not in self._holds0:
                value = enc.eval_expr(prop.expr, Env(th=self.th, pre=self.state_at(0)))
                assert isinstance(value, z3.BoolRef)
                self._holds0[id(prop)] = (prop, value)
            return self._holds0[id(prop)][1]
        if k not in self._state_subs:
            self._state_subs[k] = _substituter(self._state_pairs(0, k))
        return self._state_subs[k](self.holds_at(prop, 0))  # type: ignore[return-value]

    def step_violated(self, prop: ir.Property, k: int) -> z3.BoolRef:
        """Step k (state k -> k+1) is one the property applies to, and it breaks it (step 0's
        term, renamed like the step itself)."""
        if id(prop) not in self._viol0:
            self._viol0[id(prop)] = (prop, self._encode_step_violated(prop, 0))
        term = self._viol0[id(prop)][1]
        if k == 0:
            return term
        self.step_at(k)
        if k not in self._step_subs:
            self._step_subs[k] = _substituter(self._shifts[k])
        return self._step_subs[k](term)  # type: ignore[return-value]

    def _encode_step_violated(self, prop: ir.Property, k: int) -> z3.BoolRef:
        """`step_violated` straight from the encoder (for step 0; tests compare the others)."""
        step = self.step_at(k)
        if prop.builtin:  # range_ok: the chosen transition is enabled but stores out of range
            return z3.Not(step.range_ok)
        cases: list[z3.BoolRef] = []
        for i, t in enumerate(self.transitions):
            env = self._bind_events(prop, t, step.effects[i], step.params[i], k)
            if env is None:
                continue
            env_, applies = env
            when = enc.eval_expr(prop.when, env_) if prop.when is not None else z3.BoolVal(True)
            ensure = enc.eval_expr(prop.expr, env_)
            cases.append(z3.And(self.fires(step.act, i), applies, when, z3.Not(ensure)))  # type: ignore[arg-type]
        return z3.Or(cases) if cases else z3.BoolVal(False)

    def _bind_events(
        self, prop: ir.Property, t: ir.AnyTransition, eff: Effect, params: dict[str, Sym], k: int
    ) -> tuple[Env, z3.BoolRef] | None:
        """The messages the property's events bind when transition t fires, and when it applies."""
        if isinstance(t, ir.NetworkTransition):
            if prop.events or prop.instance is not None:
                return None
        elif prop.instance is not None and t.instance != prop.instance:
            return None
        env = Env(th=self.th, pre=self.state_at(k), post=self.state_at(k + 1), params=params)
        applies: list[z3.BoolRef] = []
        for ev in prop.events:
            if ev.kind == "receive":
                if eff.received is None or eff.received[0] != ev.channel.name:
                    return None
                env.msgs[ev.binding] = eff.received[1]
            else:
                sent = eff.sends.get(ev.channel.name)
                if sent is None:
                    return None
                applies.append(sent[0])
                env.msgs[ev.binding] = sent[1]
        return env, z3.And(applies) if applies else z3.BoolVal(True)


def _substituter(pairs: list[tuple[z3.ExprRef, z3.ExprRef]]) -> Callable[[z3.ExprRef], z3.ExprRef]:
    """`z3.substitute(t, *pairs)` through the C API with the arrays built once: z3py re-checks
    and re-packs every pair on each call, 30x the cost of the substitution itself here."""
    n = len(pairs)
    if n == 0:
        return lambda t: t
    src = (z3.Ast * n)(*[a.as_ast() for a, _ in pairs])
    dst = (z3.Ast * n)(*[b.as_ast() for _, b in pairs])
    ctx = pairs[0][0].ctx
    # By AST id, with the term kept alive: Z3 reuses the id of a freed term for a new one.
    memo: dict[int, tuple[z3.ExprRef, z3.ExprRef]] = {}

    def sub(t: z3.ExprRef) -> z3.ExprRef:
        key = t.get_id()
        if key not in memo:
            memo[key] = (t, z3.z3._to_expr_ref(z3.Z3_substitute(ctx.ref(), t.as_ast(), n, src, dst), ctx))
        return memo[key][1]

    return sub


def _leaves(sym: Sym | ChanSym) -> list[z3.ExprRef]:
    if isinstance(sym, dict):
        return [leaf for f in sym for leaf in _leaves(sym[f])]
    assert isinstance(sym, z3.ExprRef)
    return [sym]


def _map_sym(sym: Sym, f: Callable[[z3.ExprRef], z3.ExprRef]) -> Sym:
    if isinstance(sym, dict):
        return {n: _map_sym(t, f) for n, t in sym.items()}
    return f(sym)


def _map_effect(eff: Effect, f: Callable[[z3.ExprRef], z3.ExprRef]) -> Effect:
    """The same effect with `f` applied to every term (renaming one step into another)."""
    post: State = {}
    for name, v in eff.post.items():
        if isinstance(v, ChanSym):
            post[name] = ChanSym([_map_sym(m, f) for m in v.slots], f(v.length))  # type: ignore[misc]
        else:
            post[name] = _map_sym(v, f)
    received = None if eff.received is None else (eff.received[0], _map_sym(eff.received[1], f))
    sends = {c: (f(flag), _map_sym(m, f)) for c, (flag, m) in eff.sends.items()}
    return Effect(
        [f(c) for c in eff.enabled], [f(c) for c in eff.range_ok], post, received, sends,  # type: ignore[arg-type]
    )
