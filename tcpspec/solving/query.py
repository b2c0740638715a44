"""Asking Z3 a question: within a budget, stoppable by Ctrl-C at once, and never mistaking
`unknown` for an answer. Below the engines and the certificates' re-check, which both ask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import z3

from tcpspec.checker import ir
from tcpspec.core.diagnostics import Diagnostic, ModelError
from tcpspec.encoding.theories import choose_theory
from tcpspec.encoding.transition_system import TransitionSystem
from tcpspec.solving import interrupts
from tcpspec.solving.budget import Budget


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
