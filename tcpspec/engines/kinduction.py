"""k-induction with simple-path constraints, strengthened by proved lemmas: one of the searches
of the induction prover (engines/prover.py, `--engine kind`), which asks it for what Houdini's
1-inductive certificate leaves open. Not an engine of its own.

For k = 1, 2, ... up to `k_max`, a property P is proved when
- base: no run from an initial state breaks P within its first k-1 steps (BMC to k-1), and
- step: no path s0 -> ... -> sk of in-range steps, with P in s0..s(k-1), every lemma in every
  state, and all states pairwise different (simple path), has P false in sk
  (step properties: P on steps 0..k-2, broken on step k-1).
Both solvers are incremental: one unrolling of one TransitionSystem, deepened a step at a time;
properties are asked under assumptions. Without the simple-path constraints k-induction is
incomplete even on finite systems: a self-loop in a non-reachable bad-adjacent state defeats
every k (tests/engines/test_kinduction.py pins this).

The certificate of a k-inductive proof is not a 1-inductive invariant ("P holds for the next
k-1 steps" is not a state predicate without unrolling). So the check is option (b): `recheck_k`
re-asks every obligation (base depths, step case, and the lemmas' own 1-inductive certificate)
with a fresh TransitionSystem and fresh, non-incremental solvers before anything is `proved`,
and the rendered certificate says that it is k-inductive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

from tcpspec.checker import ir
from tcpspec.proof.certificate import CertInvariant, Certificate, recheck
from tcpspec.solving.budget import Budget
from tcpspec.solving.query import check
from tcpspec.engines.state_leaves import state_leaves
from tcpspec.core.results import steps
from tcpspec.encoding.theories import choose_theory
from tcpspec.encoding.transition_system import TransitionSystem

DEFAULT_K_MAX = 4
# One step-case query Z3 cannot settle in this long leaves that property open (not proved) rather
# than stalling the whole proof: on a broken copy of tcp.tcpspec, single k = 2..4 queries over
# hundreds of lemmas per state do not finish. Without a --timeout the whole
# k-induction phase also stops after KIND_TOTAL_SECONDS; what it leaves open goes to BMC.
KIND_QUERY_SECONDS = 20.0
KIND_TOTAL_SECONDS = 90.0


@dataclass
class KOutcome:
    proved: bool
    detail: str
    k: int | None = None
    certificate: Certificate | None = None


@dataclass
class _Unrolling:
    """States 0..n of one TransitionSystem, in-range steps, lemmas, optionally a simple path."""

    ts: TransitionSystem
    solver: z3.Solver
    lemmas: list[CertInvariant]
    simple: bool
    n: int = 0
    leaves: list[list[z3.ExprRef]] = field(default_factory=list)

    def start(self, init: bool) -> None:
        self.solver.add(self.ts.well_formed(0))
        if init:
            self.solver.add(self.ts.init())
        self._add_state(0)

    def extend(self) -> None:
        """One more step: n -> n+1."""
        step = self.ts.step_at(self.n)
        self.solver.add(step.trans, step.range_ok, self.ts.well_formed(self.n + 1))
        self.n += 1
        self._add_state(self.n)

    def _add_state(self, k: int) -> None:
        self.solver.add([c.build(self.ts, k) for c in self.lemmas])
        mine = [leaf.term for leaf in state_leaves(self.ts, k)]
        if self.simple:
            for other in self.leaves:
                self.solver.add(z3.Or([a != b for a, b in zip(mine, other)]))
        self.leaves.append(mine)


def good_at(ts: TransitionSystem, p: ir.Property, i: int) -> z3.BoolRef:
    """P in state i (invariants) or on step i (step properties, in range)."""
    if p.over_states:
        return ts.holds_at(p, i)
    return z3.Not(ts.step_violated(p, i))


def _span(p: ir.Property, k: int) -> tuple[list[int], int]:
    """Which positions the step case assumes good, and which one it asks about."""
    return (list(range(k)), k) if p.over_states else (list(range(k - 1)), k - 1)


def k_induction(
    model: ir.Model, props: list[ir.Property], k_max: int, timeout: float | None, theory: str = "auto",
    lemmas: list[CertInvariant] | None = None, simple_path: bool = True,
) -> dict[str, KOutcome]:
    """Try k = 1..k_max for each of `props` (invariants and non-builtin step properties)."""
    budget = Budget(KIND_TOTAL_SECONDS if timeout is None else timeout)
    ts = TransitionSystem(model, choose_theory(model, theory))
    base = _Unrolling(ts, ts.th.solver(), [], False)
    step = _Unrolling(ts, ts.th.solver(), list(lemmas or []), simple_path)
    base.start(init=True)
    step.start(init=False)
    open_ = [p for p in props if p.over_states or (p.kind is ir.PropertyKind.STEP and not p.builtin)]
    out = {p.name: KOutcome(False, f"not k-inductive for k <= {k_max}") for p in props}
    for p in props:
        if p not in open_:
            out[p.name] = KOutcome(False, "k-induction covers invariants and step properties")
    for k in range(1, k_max + 1):
        while step.n < k:
            step.extend()
        while base.n < k - 1:
            base.extend()
        for p in list(open_):
            verdict = _try(base, step, p, k, budget)
            if verdict == "base":  # a real violation within k-1 steps: BMC reports it
                open_.remove(p)
                out[p.name] = KOutcome(False, f"violated within {steps(k - 1)}")
            elif verdict == "unknown":
                open_.remove(p)
                out[p.name] = KOutcome(False, f"k-induction gave up at k = {k}: " + (
                    "timeout" if budget.expired else f"no answer within {KIND_QUERY_SECONDS:g} s"))
            elif verdict == "proved":
                open_.remove(p)
                out[p.name] = _certify(model, p, k, list(lemmas or []), theory, budget, simple_path)
        if not open_:
            break
    return out


def _try(base: _Unrolling, step: _Unrolling, p: ir.Property, k: int, budget: Budget) -> str:
    """'proved', 'base' (fails from init within k-1 steps), 'open' or 'unknown'."""
    ts = base.ts
    left = budget.remaining_ms()
    budget = Budget(KIND_QUERY_SECONDS if left is None else min(KIND_QUERY_SECONDS, left / 1000))
    # Base: only depth k-1 is new (smaller k asked before; a failure there ended the search).
    last = k - 1 if p.over_states else k - 2
    if last >= 0:
        r = check(base.solver, [z3.Not(good_at(ts, p, last))], budget).result
        if r != z3.unsat:
            return "base" if r == z3.sat else "unknown"
    assumed, asked = _span(p, k)
    r = check(step.solver, [good_at(ts, p, i) for i in assumed] + [z3.Not(good_at(ts, p, asked))], budget).result
    if r == z3.unsat:
        return "proved"
    return "open" if r == z3.sat else "unknown"


def _certify(
    model: ir.Model, p: ir.Property, k: int, lemmas: list[CertInvariant], theory: str, budget: Budget,
    simple_path: bool,
) -> KOutcome:
    left = budget.seconds_left()
    problem = recheck_k(model, p, k, lemmas, theory, left, simple_path)
    if problem is not None:
        return KOutcome(False, f"k-induction certificate re-check failed: {problem}")
    note = (
        f"{p.name} is {k}-inductive (simple-path k-induction) relative to the invariants below,\n"
        "whose conjunction is 1-inductive. Re-checked with fresh solvers: the base case (no\n"
        f"violation within {steps(k - 1)}), the step case, and the invariants' own certificate."
    )
    cert = Certificate(lemmas, k=k, model_path=model.path, proved=[p.name], note=note)
    what = f"{k}-inductive (simple path) with {len(lemmas)} proved lemmas; k-induction obligations re-checked"
    return KOutcome(True, what, k, cert)


def recheck_k(
    model: ir.Model, p: ir.Property, k: int, lemmas: list[CertInvariant], theory: str = "auto",
    timeout: float | None = None, simple_path: bool = True,
) -> str | None:
    """None when every k-induction obligation holds, asked afresh; else the first that fails."""
    budget = Budget(timeout)
    if lemmas:
        problem = recheck(model, Certificate(lemmas), [], theory, timeout)
        if problem is not None:
            return f"lemmas: {problem}"
    ts = TransitionSystem(model, choose_theory(model, theory))
    last = k - 1 if p.over_states else k - 2
    for j in range(last + 1):
        u = _Unrolling(ts, ts.th.solver(), [], False)
        u.start(init=True)
        while u.n < (j if p.over_states else j + 1):
            u.extend()
        r = check(u.solver, [z3.Not(good_at(ts, p, j))], budget).result
        if r != z3.unsat:
            return f"base case at {j}: {'counterexample' if r == z3.sat else 'solver unknown'}"
    u = _Unrolling(ts, ts.th.solver(), lemmas, simple_path)
    u.start(init=False)
    while u.n < k:
        u.extend()
    assumed, asked = _span(p, k)
    r = check(u.solver, [good_at(ts, p, i) for i in assumed] + [z3.Not(good_at(ts, p, asked))], budget).result
    if r != z3.unsat:
        return f"step case (k = {k}): {'counterexample' if r == z3.sat else 'solver unknown'}"
    return None
