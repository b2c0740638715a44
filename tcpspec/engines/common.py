"""What every symbolic engine needs: reading runs out of Z3 models, small-value preference,
replay on the concrete semantics, and solver checks that never mistake `unknown` for an answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import z3

from tcpspec.checker import ir
from tcpspec.core.diagnostics import Diagnostic, ModelError
from tcpspec.encoding.encoder import ChanSym, Sym
from tcpspec.encoding.theories import choose_theory
from tcpspec.engines import interrupts
from tcpspec.engines.budget import Budget  # the engines import it from here too
from tcpspec.core.trace import Trace, TraceStep, changed_keys
from tcpspec.encoding.transition_system import TransitionSystem
from tcpspec.core.types import Type, Value, composite_parts, default_value


class QueryCut(Exception):
    """A query cut short by `Solver.interrupt` (engines/bmc.py: LiveSteering) because its
    answer no longer matters: never a verdict. Z3 says "interrupted" then, or sometimes
    "canceled" as for Ctrl-C: LiveSteering tells the two apart."""


@dataclass
class CheckOutcome:
    result: z3.CheckSatResult
    reason: str = ""


# An incremental query Z3 cannot settle in this many seconds is asked again in a fresh solver.
FRESH_AFTER_SECONDS = 3.0


def check_or_fresh(
    solver: z3.Solver, assumptions: list[z3.BoolRef], fresh: Callable[[], z3.Solver], budget: Budget,
) -> CheckOutcome:
    """`check`, and when Z3 cannot settle the query quickly, again in `fresh()` with the solver's
    assertions and the assumptions all asserted outright.

    Why: on tcp.tcpspec's pair lemmas, under assumptions in a long-lived solver, Z3 runs for
    minutes (or says unknown) on consecution queries that a fresh solver, seeing every formula
    in preprocessing, answers in seconds. The fresh solver's model is not kept.
    """
    left = budget.remaining_ms()
    first = FRESH_AFTER_SECONDS if left is None else min(FRESH_AFTER_SECONDS, left / 1000)
    out = check(solver, assumptions, Budget(first))
    if out.result != z3.unknown or budget.expired:
        return out
    return check_fresh(solver, assumptions, fresh, budget)


def check_fresh(
    solver: z3.Solver, assumptions: list[z3.BoolRef], fresh: Callable[[], z3.Solver], budget: Budget,
) -> CheckOutcome:
    """The query of `solver` under `assumptions`, asked in `fresh()` with everything asserted."""
    s = fresh()
    s.add(solver.assertions())
    s.add(assumptions)
    return check(s, [], budget)


def require_initial_state(solver: z3.Solver, ts: TransitionSystem) -> None:
    """Assert state 0 initial in `solver`; a model with no initial state is the user's error."""
    solver.add(ts.init())
    if check(solver, [], Budget(None)).result == z3.unsat:
        raise ModelError([Diagnostic(None, f"{ts.model.path}: the model has no initial state (the initial "
                                     "values contradict the variables' types)")])


def require_model_initial_state(model: ir.Model, theory: str) -> None:
    """A model without an initial state has no runs: every invariant would be "proved" and every
    target unreached, vacuously. That is the user's error (ModelError), whichever the engine:
    the pipeline asks before any engine runs, and `tcpspec recheck` before any obligation."""
    ts = TransitionSystem(model, choose_theory(model, theory))
    require_initial_state(ts.th.solver(), ts)


def is_ctrl_c(reason: str) -> bool:
    """Z3's reason for a query it cut short on SIGINT: "canceled", or "interrupted from keyboard"
    (a query in a thread, as the certificate's re-check asks them). Within the query's time limit
    that is Ctrl-C, never a verdict."""
    return "canceled" in reason or "keyboard" in reason


def check(solver: z3.Solver, assumptions: list[z3.BoolRef], budget: Budget) -> CheckOutcome:
    """One solver call within the budget. `unknown` comes back with the solver's reason."""
    ms = budget.remaining_ms()
    solver.set("timeout", ms if ms is not None else 4294967295)
    interrupts.raise_if_pending()
    if budget.expired:
        return CheckOutcome(z3.unknown, "timeout")
    with interrupts.asking(solver.ctx):
        r = solver.check(*assumptions)
    interrupts.raise_if_pending()
    reason = " ".join(solver.reason_unknown().split()[:12]) if r == z3.unknown else ""
    if reason == "interrupted":
        raise QueryCut
    if r == z3.unknown and is_ctrl_c(reason):
        left = budget.remaining_ms()
        if left is None or left > 50:
            # Z3 catches SIGINT itself and returns unknown ("canceled"): that is Ctrl-C, not a
            # verdict, so it becomes the interrupt it was (exit 130, never "unknown", exit 3).
            raise KeyboardInterrupt
    if r == z3.unknown and ("timeout" in reason or is_ctrl_c(reason) or budget.expired):
        reason = "timeout"
    elif r == z3.unknown and "memory" in reason:
        reason = "memory limit reached (--memory-limit)"
    return CheckOutcome(r, reason)


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
