"""Houdini: the largest inductive subset of the candidate invariants, by dropping until nothing fails.

Candidates: the model's invariant and step properties (the selected ones and every other one
as a helper) and the lemmas of `lemmas.generate`. First every invariant candidate that fails
in some initial state is dropped; then, in one solver holding one step from an arbitrary
state 0 (state 0 satisfying every surviving invariant, via indicator assumptions), every
candidate that can fail in state 1 (invariants) or on the step (step properties) is dropped,
all that one counterexample falsifies at once, and all that the interpreter's steps from its
state 0 falsify (engines/concrete_ctis.py), until nothing fails. The survivors hold in
every reachable state: the surviving invariants' conjunction is a 1-inductive invariant. A
model with `lemma`s gets a second phase over them (see `houdini`). Where two instances are
verified mirrors (solving/symmetry.py), phase 1's rounds take one transition of each mirror
pair and drop each candidate with its mirror: about half the rounds, each with half the queries.

This module only finds the survivors; the prover (engines/prover.py) turns them into a
certificate, has it re-checked, and reports.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import z3

from tcpspec.checker import ir
from tcpspec.engines import lemmas as lm
from tcpspec.solving import symmetry
from tcpspec.proof.certificate import Builder, property_builder
from tcpspec.solving.budget import Budget
from tcpspec.engines.common import decode_state, extract_trace, fast_not, fast_or, true_in
from tcpspec.solving.query import CheckOutcome, check
from tcpspec.engines.concrete_ctis import explore
from tcpspec.interp.values import InterpError
from tcpspec.encoding.theories import choose_theory
from tcpspec.core.trace import Trace
from tcpspec.encoding.transition_system import TransitionSystem

# Phase 2 asks one query per candidate; one the solver cannot decide in this time is dropped
# (sound: Houdini may drop any candidate) rather than stalling the whole proof.
PHASE2_QUERY_SECONDS = 120.0
# Phase 2 first asks for all candidates at once; a joint query unsettled after this long is
# split into one query per candidate.
PHASE2_JOINT_SECONDS = 60.0


@dataclass
class InvCandidate:
    """One candidate invariant: a property or a generated lemma, its terms in states 0 and 1, and
    the indicator that assumes it in state 0."""

    name: str
    text: str
    build: Builder
    origin: str
    t0: z3.BoolRef | None = None
    t1: z3.BoolRef | None = None
    flag: z3.BoolRef | None = None
    expr: ir.Expr | None = None  # for the interpreter's counterexamples (engines/concrete_ctis.py)


def _lemma_builder(c: lm.Candidate):  # type: ignore[no-untyped-def]
    return lambda ts, k: lm.holds(ts, c.expr, k)


def _is_true(zm: z3.ModelRef, t: z3.BoolRef) -> bool:
    return z3.is_true(zm.eval(t, model_completion=True))


@dataclass
class HoudiniStats:
    candidates: int = 0
    after_base: int = 0
    rounds: int = 0
    invariants: int = 0
    lemmas: int = 0
    # Property name -> the counterexample to induction that dropped it: state 0 satisfies every
    # candidate still alive then (so every final survivor), state 1 breaks the property.
    ctis: dict[str, Trace] = field(default_factory=dict)
    undecided: list[str] = field(default_factory=list)  # phase 2 candidates dropped on a solver timeout
    concrete_drops: int = 0  # candidates dropped by the interpreter's counterexamples (phase 1)
    settled_by_recheck: bool = False  # phase 2 was settled by the certificate's re-check (`houdini`)
    symmetric: bool = False  # phase 1 asked one transition of each mirror pair (`_fixpoint`)


def houdini(
    model: ir.Model, budget: Budget, theory: str = "auto", use_lemmas: bool = True, cap: int = lm.DEFAULT_CAP,
    intervals: bool = False, settle: Callable[[list[InvCandidate], list[ir.Property], set[str]], bool] | None = None,
    use_symmetry: bool = True,
) -> tuple[list[InvCandidate], list[ir.Property], HoudiniStats, str]:
    """The surviving invariants and step properties; reason is non-empty if the search gave up.

    `settle(invs, steps, unsure)`, if given, is asked before phase 2 whether phase 1's survivors
    with every phase 2 candidate (that holds initially) are already an inductive whole -- by the
    certificate's re-check, which asks the same joint query in fresh solvers. If so, phase 2's
    own query (as long as the re-check's) is not asked at all. `unsure`
    names the candidates phase 1 dropped (they are in the trial only on trust).

    A model with `lemma`s is proved in two phases. Phase 1 is Houdini over the model's other
    properties and the generated lemmas; phase 2 is Houdini over the user lemmas and whatever
    phase 1 dropped, with phase 1's survivors assumed outright. Both survivor sets together are
    inductive (phase 1's on their own, phase 2's relative to them). Not one joint Houdini over
    everything: on tcp.tcpspec it does not finish, because every round's query then mixes
    hundreds of weak generated candidates with the channel-slot lemmas that carry the proof.
    """
    ts = TransitionSystem(model, choose_theory(model, theory))
    stats = HoudiniStats()
    users = [p for p in model.properties if p.kind is ir.PropertyKind.LEMMA]
    first = [p for p in model.properties if p.over_states and p.kind is not ir.PropertyKind.LEMMA]
    invs = [InvCandidate(p.name, lm.show(p.expr), property_builder(p), "property", expr=p.expr) for p in first]
    sym = symmetry.find(ts, budget) if use_symmetry else None
    if use_lemmas:
        # With mirrored instances a lemma survives only with its mirror (`_paired`), as if the
        # mirrors of the sampled states were sampled too: half the runs filter as well.
        left = budget.seconds_left(floor=0.0)
        states = lm.sample_states(model, seconds=None if left is None else min(lm.SAMPLE_SECONDS, left),
                                  limit=None if sym is None else SYMMETRIC_SAMPLES)
        generated = lm.generate(model, cap)
        if intervals:  # off by default: no fewer rounds on the repo's models, and slower ones
            generated += lm.interval_candidates(model, states, len(generated))
        for c in lm.sample_filter(model, generated, states):
            invs.append(InvCandidate(c.name, c.text, _lemma_builder(c), "lemma", expr=c.expr))
    if budget.expired:  # sampling and filtering do not ask the solver, which would say so
        return [], [], stats, "timeout"
    steps = [p for p in model.properties if p.kind is ir.PropertyKind.STEP]
    stats.candidates = len(invs) + len(steps) + len(users)
    kept, proved, reason = _fixpoint(ts, invs, steps, budget, stats, sym)
    if reason or not users:
        return kept, proved, stats, reason
    names = {c.name for c in kept}
    again = [p for p in model.properties if p.over_states and p.name not in names]
    for p in again:
        stats.ctis.pop(p.name, None)  # phase 2's counterexample is the one to show
    later = [p for p in steps if p not in proved]
    for p in later:
        stats.ctis.pop(p.name, None)
    more = [InvCandidate(p.name, lm.show(p.expr), property_builder(p), "property", expr=p.expr) for p in again]
    if settle is not None:
        for c in more:
            c.t0, c.t1 = c.build(ts, 0), c.build(ts, 1)
        initial, reason = _initiation(ts, more, budget)
        if reason:
            return [], [], stats, reason
        if settle(kept + initial, proved + later, {c.name for c in more} | {p.name for p in later}):
            stats.invariants = len(kept) + len(initial)
            stats.lemmas = sum(1 for c in kept + initial if c.origin == "lemma")
            stats.settled_by_recheck = True
            return kept + initial, proved + later, stats, ""
    kept2, proved2, reason = _fixpoint_fresh(ts, kept, more, later, budget, stats)
    if reason:
        return [], [], stats, reason
    invs = kept + kept2
    stats.invariants = len(invs)
    stats.lemmas = sum(1 for c in invs if c.origin == "lemma")
    return invs, proved + proved2, stats, ""


def _initiation(ts: TransitionSystem, invs: list[InvCandidate], budget: Budget) -> tuple[list[InvCandidate], str]:
    """Drop every invariant some initial state falsifies; reason is non-empty if Z3 gave up."""
    base = ts.th.solver()
    base.add(ts.init())
    while invs:
        out = check(base, [fast_or([fast_not(c.t0) for c in invs])], budget)  # type: ignore[arg-type]
        if out.result == z3.unknown:
            return [], out.reason or "unknown"
        if out.result == z3.unsat:
            break
        alive = true_in(base.model(), [c.t0 for c in invs])  # type: ignore[misc]
        invs = [c for c, ok in zip(invs, alive) if ok]
    return invs, ""


def _fixpoint(
    ts: TransitionSystem, invs: list[InvCandidate], steps: list[ir.Property], budget: Budget, stats: HoudiniStats,
    sym: symmetry.Symmetry | None = None,
) -> tuple[list[InvCandidate], list[ir.Property], str]:
    """Houdini: the largest inductive subset of `invs` and `steps`, one solver, indicator literals."""
    for c in invs:
        c.t0, c.t1 = c.build(ts, 0), c.build(ts, 1)

    invs, reason = _initiation(ts, invs, budget)
    if reason:
        return [], [], reason
    stats.after_base += len(invs) + len(steps)
    partner: dict[str, str] = {}
    if sym is not None:
        invs, partner = _paired(ts, sym, invs, budget)
        if not partner:
            sym = None
        stats.symmetric = sym is not None

    evaluator = _evaluator(invs)
    # Consecution, to a fixpoint.
    s = ts.th.solver()
    ok0 = z3.Bool("__kind_range_ok0")
    step0 = ts.step_at(0)
    # State 1 is well formed only when the step stores in range (as in BMC): asserted outright,
    # the out-of-range step would be impossible under the int theory and range_ok unfalsifiable.
    s.add(ts.well_formed(0), step0.trans, z3.Implies(step0.range_ok, ts.well_formed(1)), z3.Implies(ok0, step0.range_ok))
    for i, c in enumerate(invs):
        c.flag = z3.Bool(f"__kind_h{i}")
        s.add(z3.Implies(c.flag, c.t0))
    normal = [p for p in steps if not p.builtin]
    ranged = [p for p in steps if p.builtin]
    viol = {p.name: ts.step_violated(p, 0) for p in steps}
    fails1 = {id(c): fast_not(c.t1) for c in invs}  # type: ignore[arg-type]
    # With a verified swap of two instances (solving/symmetry.py) and a candidate set closed
    # under it (`partner`), the rounds take only one transition of each mirror pair (`half`):
    # a counterexample through the other one is the mirror of one through this one, which
    # breaks the partners of what it breaks, and is dropped with them. A step property's goal
    # also asks its mirror (`symmetry.mirrored_goal`, per transition).
    assume = [ok0]
    if sym is not None:
        half = z3.Bool("__kind_half")
        s.add(z3.Implies(half, fast_or([ts.fires(step0.act, i) for i in sym.representatives])))
        assume.append(half)
        viol_goal = {p.name: fast_or([z3.And(ts.fires(step0.act, i), symmetry.mirrored_goal(ts, sym, viol[p.name], i))
                                      for i in sym.representatives]) for p in normal}
    else:
        viol_goal = {p.name: viol[p.name] for p in normal}
    while True:
        stats.rounds += 1
        goals = [fails1[id(c)] for c in invs] + [viol_goal[p.name] for p in normal]
        hyps = [c.flag for c in invs]
        if goals:
            r = z3.Bool(f"__kind_round{stats.rounds}")
            s.add(z3.Implies(r, fast_or(goals)))
            out = check(s, assume + [r] + hyps, budget)  # type: ignore[list-item]
            if out.result == z3.unknown:
                return [], [], out.reason or "unknown"
            if out.result == z3.sat:
                zm = s.model()
                alive = true_in(zm, [c.t1 for c in invs])  # type: ignore[misc]
                broken = true_in(zm, [viol_goal[p.name] for p in normal])
                dropped = [c.name for c, ok in zip(invs, alive) if not ok and c.origin == "property"]
                _keep_cti(stats, zm, ts, dropped + [p.name for p, bad in zip(normal, broken) if bad])
                invs = _with_partners(invs, [c for c, ok in zip(invs, alive) if ok], partner)
                normal = [p for p, bad in zip(normal, broken) if not bad]
                if evaluator is not None:
                    invs = _with_partners(invs, _concrete_drops(ts, zm, evaluator, invs, stats), partner)
                continue
        # Nothing else fails: range_ok, asked without the in-range assumption.
        bad = [p for p in ranged]
        for p in bad:
            out = check(s, hyps + [viol[p.name]], budget)  # type: ignore[list-item]
            if out.result == z3.unknown:
                return [], [], out.reason or "unknown"
            if out.result == z3.sat:
                _keep_cti(stats, s.model(), ts, [p.name])
                ranged.remove(p)
        break
    stats.invariants = len(invs)
    stats.lemmas = sum(1 for c in invs if c.origin == "lemma")
    return invs, normal + ranged, ""


def _paired(ts: TransitionSystem, sym: symmetry.Symmetry, invs: list[InvCandidate], budget: Budget) -> tuple[list[InvCandidate], dict[str, str]]:
    """`invs` closed under the swap, and each one's mirror among them (by name; itself when Z3
    says it is its own mirror, as in a property written for both sides at once). A generated
    lemma without its mirror is dropped: the mirror was falsified on a reachable state (the
    sampling filter), whose mirror falsifies the lemma. {} (no symmetry) when a model property
    has no mirror: it cannot be dropped."""
    by_id = {c.t0.get_id(): c for c in invs}  # type: ignore[union-attr]
    partner: dict[str, str] = {}
    for c in invs:
        m = sym.apply(c.t0)  # type: ignore[arg-type]
        other = by_id.get(m.get_id())
        if other is not None:
            partner[c.name] = other.name
            continue
        if c.origin == "property":
            if not symmetry.own_mirrors(ts, sym, [c.t0], budget):  # type: ignore[list-item]
                return invs, {}
            partner[c.name] = c.name
    kept = [c for c in invs if c.name in partner and partner[c.name] in partner]
    return kept, {c.name: partner[c.name] for c in kept}


def _with_partners(before: list[InvCandidate], kept: list[InvCandidate], partner: dict[str, str]) -> list[InvCandidate]:
    """`kept` less the partners of what was dropped from `before` (keeps the set closed)."""
    if not partner:
        return kept
    names = {c.name for c in kept}
    gone = {partner[c.name] for c in before if c.name not in names}
    return [c for c in kept if c.name not in gone]


SYMMETRIC_SAMPLES = lm.SAMPLE_STATES // 2

CTI_SECONDS = 0.1  # the interpreter's search from one solver counterexample
CTI_STATES = 10  # states expanded; more cost more per round than the rounds they save


def _evaluator(invs: list[InvCandidate]) -> lm.CandidateEvaluator | None:
    """The interpreter's view of every candidate; None (no interpreter search) if one has none:
    a state it cannot judge might break that candidate, and would not be a counterexample's start."""
    if any(c.expr is None for c in invs):
        return None
    try:
        return lm.CandidateEvaluator({c.name: c.expr for c in invs if c.expr is not None})
    except (InterpError, KeyError, TypeError, ValueError):
        return None


def _concrete_drops(
    ts: TransitionSystem, zm: z3.ModelRef, evaluator: lm.CandidateEvaluator, invs: list[InvCandidate], stats: HoudiniStats,
) -> list[InvCandidate]:
    """`invs` less what the interpreter breaks from the model's state 0, which satisfies them all
    (see engines/concrete_ctis.py): a solver counterexample breaks only a few candidates, the
    interpreter's successors of it many more, so phase 1 needs about half the solver rounds."""
    alive: set[Hashable] = {c.name for c in invs}
    found = explore(ts.model, decode_state(zm, ts, 0), evaluator, alive, CTI_SECONDS, CTI_STATES)
    origin = {c.name: c.origin for c in invs}
    for cti in found:
        props = [n for n in cti.broken if origin[n] == "property"]  # type: ignore[index]
        if props:
            trace = cti.trace()
            for n in props:
                stats.ctis.setdefault(n, trace)  # type: ignore[arg-type]
    kept = [c for c in invs if c.name in alive]
    stats.concrete_drops += len(invs) - len(kept)
    return kept


def _fixpoint_fresh(
    ts: TransitionSystem, fixed: list[InvCandidate], invs: list[InvCandidate], steps: list[ir.Property], budget: Budget,
    stats: HoudiniStats,
) -> tuple[list[InvCandidate], list[ir.Property], str]:
    """Houdini for phase 2, in fresh solvers in which `fixed` and every candidate still alive
    are asserted outright: first one joint query for all candidates ("can any of them fail?"),
    and only if Z3 cannot settle that within PHASE2_JOINT_SECONDS, one query per candidate.

    Why fresh solvers: with tcp.tcpspec's pair lemmas behind indicator assumptions in one
    incremental solver (as in phase 1), Z3 returns `unknown` on queries a fresh solver answers
    in seconds; and one joint query is cheaper than one per candidate when, as usual, nothing
    fails (figures: docs/performance.md). A candidate the
    solver cannot decide within PHASE2_QUERY_SECONDS is dropped (sound: Houdini may drop any).
    """
    for c in invs:
        c.t0, c.t1 = c.build(ts, 0), c.build(ts, 1)
    invs, reason = _initiation(ts, invs, budget)
    if reason:
        return [], [], reason
    step0 = ts.step_at(0)
    frame = [ts.well_formed(0), step0.trans, z3.Implies(step0.range_ok, ts.well_formed(1))] + [c.t0 for c in fixed]
    normal = [p for p in steps if not p.builtin]
    ranged = [p for p in steps if p.builtin]
    viol = {p.name: ts.step_violated(p, 0) for p in steps}

    def ask(goal: z3.BoolRef, in_range: bool, seconds: float) -> tuple[CheckOutcome, z3.Solver]:
        # Everything asserted, nothing assumed: assumptions hide formulas from Z3's preprocessing.
        s = ts.th.solver()
        s.add(frame + [c.t0 for c in invs] + ([step0.range_ok] if in_range else []) + [goal])  # type: ignore[operator]
        return check(s, [], budget.capped(seconds)), s

    def falsified(zm: z3.ModelRef, also: list[ir.Property]) -> tuple[list[InvCandidate], list[ir.Property]]:
        """What a counterexample to induction breaks (and `also`); it becomes their CTI."""
        dropped_invs = [c for c, ok in zip(invs, true_in(zm, [c.t1 for c in invs])) if not ok]  # type: ignore[misc]
        dropped_steps = [p for p, bad in zip(normal, true_in(zm, [viol[p.name] for p in normal])) if bad] + also
        _keep_cti(stats, zm, ts, [c.name for c in dropped_invs if c.origin == "property"] + [p.name for p in dropped_steps])
        return dropped_invs, dropped_steps

    settled = False  # every invariant candidate and normal step property left is inductive
    while invs or normal:
        stats.rounds += 1
        goal = fast_or([fast_not(c.t1) for c in invs] + [viol[p.name] for p in normal])  # type: ignore[arg-type]
        out, s = ask(goal, True, PHASE2_JOINT_SECONDS)
        if out.result == z3.unknown:
            if budget.expired:
                return [], [], out.reason or "unknown"
            break  # too hard at once: one query per candidate below
        if out.result == z3.unsat:
            settled = True
            break
        dropped_invs, dropped_steps = falsified(s.model(), [])
        invs = [c for c in invs if c not in dropped_invs]
        normal = [p for p in normal if p not in dropped_steps]

    changed = True
    while changed:
        changed = False
        stats.rounds += 1
        for item in ranged if settled else [*invs, *normal, *ranged]:
            if id(item) not in {id(x) for x in (*invs, *normal, *ranged)}:
                continue  # dropped earlier in this pass by another candidate's counterexample
            is_inv = isinstance(item, InvCandidate)
            goal = fast_not(item.t1) if is_inv else viol[item.name]  # type: ignore[union-attr, arg-type]
            out, s = ask(goal, not (not is_inv and item.builtin), PHASE2_QUERY_SECONDS)  # type: ignore[union-attr]
            if out.result == z3.unsat:
                continue
            if out.result == z3.unknown:
                if budget.expired:
                    return [], [], out.reason or "unknown"
                stats.undecided.append(item.name)
                dropped_invs = [item] if is_inv else []
                dropped_steps = [] if is_inv else [item]
            else:
                ranged_item = [item] if not is_inv and item.builtin else []  # type: ignore[union-attr]
                dropped_invs, dropped_steps = falsified(s.model(), ranged_item)  # type: ignore[arg-type]
            invs = [c for c in invs if c not in dropped_invs]
            normal = [p for p in normal if p not in dropped_steps]
            ranged = [p for p in ranged if p not in dropped_steps]
            changed = True  # the others of this pass are still asked; another pass re-asks all
    return invs, normal + ranged, ""


def _keep_cti(stats: HoudiniStats, zm: z3.ModelRef, ts: TransitionSystem, names: list[str]) -> None:
    """The one-step run of `zm` as the counterexample to induction of `names` (decoded once)."""
    if names:
        trace = extract_trace(zm, ts, 1)
        for n in names:
            stats.ctis.setdefault(n, trace)


def vacuous(c: InvCandidate, texts: set[str]) -> bool:
    """A lemma `e == V ==> ...` beside a surviving `e != V`: implied by it, so a certificate may
    leave it out and stay equivalent."""
    if c.origin != "lemma" or " ==> " not in c.text:
        return False
    cond = c.text.split(" ==> ", 1)[0]
    return " == " in cond and cond.replace(" == ", " != ", 1) in texts
