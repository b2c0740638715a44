"""What every symbolic engine needs: reading runs out of Z3 models, small-value preference,
replay on the concrete semantics, and solver checks that never mistake `unknown` for an answer."""

from __future__ import annotations


import z3

from tcpspec.checker import ir
from tcpspec.encoding.encoder import ChanSym, Sym
from tcpspec.solving.budget import Budget
from tcpspec.solving.query import check
from tcpspec.core.trace import Trace, TraceStep, changed_keys
from tcpspec.encoding.transition_system import TransitionSystem
from tcpspec.core.types import Type, Value, composite_parts, default_value


# ---------------------------------------------------------------- decoding


def fast_or(terms: list[z3.BoolRef]) -> z3.BoolRef:
    """`Or(terms)` through the C API: z3py's `Or` coerces and sort-checks every argument, which
    was a third of the prover's time with a thousand lemma candidates per round."""
    if not terms:
        return z3.BoolVal(False)
    ctx = terms[0].ctx
    arr = (z3.Ast * len(terms))(*[t.as_ast() for t in terms])
    return z3.BoolRef(z3.Z3_mk_or(ctx.ref(), len(terms), arr), ctx)


def fast_not(t: z3.BoolRef) -> z3.BoolRef:
    return z3.BoolRef(z3.Z3_mk_not(t.ctx.ref(), t.as_ast()), t.ctx)


def true_in(zm: z3.ModelRef, terms: list[z3.BoolRef]) -> list[bool]:
    """Which of `terms` are true in `zm` (model completion on), through the C API: the z3py
    wrapper of `eval` costs ~20 us a call, and the prover asks thousands per round."""
    ctx = zm.ctx.ref()
    out: list[bool] = []
    r = (z3.Ast * 1)()
    for t in terms:
        ok = z3.Z3_model_eval(ctx, zm.model, t.as_ast(), True, r)
        out.append(bool(ok) and z3.Z3_get_bool_value(ctx, r[0]) == z3.Z3_L_TRUE)
    return out


def decode_state(zm: z3.ModelRef, ts: TransitionSystem, k: int) -> dict[str, Value | list[Value]]:
    state = ts.state_at(k)
    out: dict[str, Value | list[Value]] = {}
    for v in ts.model.state_vars:
        out[v.name] = ts.th.decode(zm, state[v.name], v.type)  # type: ignore[arg-type]
    for c in ts.model.channels:
        ch = state[c.name]
        assert isinstance(ch, ChanSym)
        n = zm.eval(ch.length, model_completion=True).as_long()  # type: ignore[attr-defined]
        out[c.name] = [ts.th.decode(zm, ch.slots[i], c.message) for i in range(min(n, c.capacity))]
    return out


def fired(zm: z3.ModelRef, ts: TransitionSystem, k: int) -> int:
    n = ts.th.decode(zm, ts.step_at(k).act, ts.act_type)
    assert isinstance(n, int)
    return n


def extract_trace(zm: z3.ModelRef, ts: TransitionSystem, length: int) -> Trace:
    """The run of `length` steps that a Z3 model describes, in model values."""
    steps = [TraceStep(index=0, state=decode_state(zm, ts, 0))]
    for k in range(length):
        i = fired(zm, ts, k)
        t = ts.transitions[i]
        step = ts.step_at(k)
        eff = step.effects[i]
        params = {p: ts.th.decode(zm, step.params[i][p], pt) for p, pt in t.params}
        state = decode_state(zm, ts, k + 1)
        received: list[tuple[str, Value]] = []
        if eff.received is not None:
            ch = ts.model.channel(eff.received[0])
            received.append((ch.name, ts.th.decode(zm, eff.received[1], ch.message)))
        sent: list[tuple[str, Value]] = []
        for cname, (flag, msg) in eff.sends.items():
            if z3.is_true(zm.eval(flag, model_completion=True)):
                sent.append((cname, ts.th.decode(zm, msg, ts.model.channel(cname).message)))
        steps.append(
            TraceStep(
                index=k + 1,
                state=state,
                transition=t.name,
                params=params,
                changed=changed_keys(steps[-1].state, state),
                received=received,
                sent=sent,
            )
        )
    return Trace(steps)


# ---------------------------------------------------------------- small values


def _leaves(sym: Sym, t: Type) -> list[tuple[z3.ExprRef, Type]]:
    parts = composite_parts(t)
    if parts is not None:  # a record, a map or a set: one term per part
        assert isinstance(sym, dict)
        return [leaf for f, ft in parts for leaf in _leaves(sym[f], ft)]
    return [(sym, t)]  # type: ignore[list-item]


def free_inputs(zm: z3.ModelRef, ts: TransitionSystem, length: int) -> list[tuple[z3.ExprRef, Type]]:
    """The choices a run is made of: initial values left open, and the taken steps' parameters."""
    s0 = ts.state_at(0)
    out = [leaf for v in ts.model.state_vars if v.name not in ts.model.init for leaf in _leaves(s0[v.name], v.type)]
    for k in range(length):
        i = fired(zm, ts, k)
        step = ts.step_at(k)
        for p, pt in ts.transitions[i].params:
            out.extend(_leaves(step.params[i][p], pt))
    return out


def prefer_small_values(
    solver: z3.Solver, ts: TransitionSystem, length: int, assumptions: list[z3.BoolRef], budget: Budget,
    max_checks: int = 64, start: z3.ModelRef | None = None,
) -> z3.ModelRef:
    """Among runs of this length, pick one like the seed's: ISNs 0, the smallest lengths.

    Fixes the transition sequence found (`start`, a model of `solver`'s assertions and the
    assumptions; default: its last model), then greedily pins each free input to its type's
    smallest value whenever the property still fails. Solver answers other than sat keep the
    previous model: the run found is already a correct counterexample.
    """
    zm = solver.model() if start is None else start
    fixed = [ts.fires(ts.step_at(k).act, fired(zm, ts, k)) for k in range(length)]
    pinned = list(assumptions) + fixed
    for sym, t in free_inputs(zm, ts, length)[:max_checks]:
        if budget.expired:
            break
        small = ts.th.constant(default_value(t), t)
        if z3.is_true(zm.eval(sym == small, model_completion=True)):
            pinned.append(sym == small)  # type: ignore[arg-type]
            continue
        trial = pinned + [sym == small]  # type: ignore[list-item]
        if check(solver, trial, budget).result == z3.sat:
            pinned = trial
            zm = solver.model()
    return zm


# ---------------------------------------------------------------- replay


def replay_or_explain(model: ir.Model, trace: Trace, prop: ir.Property) -> str | None:
    """Replay a run on the explicit-state semantics; None when it replays, else why not."""
    from tcpspec.interp.search import replay

    outcome = replay(model, trace, prop)
    return None if outcome.ok else outcome.message
