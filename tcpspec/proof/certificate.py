"""Proof certificates as the engines build them, and their independent re-check.

Every engine that reports `proved` (the prover's Houdini and k-induction, PDR, the explicit
search) hands over a `Certificate`: Z3 predicates over the state, built afresh for any
TransitionSystem. This module checks one (`recheck`) and writes it as model text (`render`);
reading such a text back (`tcpspec recheck`, the proof cache) is proof/recheck.py.

A certificate is a list of state predicates whose conjunction Inv is 1-inductive. `recheck`
builds a fresh TransitionSystem and fresh solvers (nothing shared with the prover) and checks
every obligation: init => Inv; Inv /\\ T => Inv'; Inv => P for each proved invariant;
Inv /\\ T => the step property for each proved step property (range_ok included).
The steps taken are in range (the semantics every engine uses: an out-of-range store is the
`range_ok` violation itself), except in the obligation for `range_ok`. Where two instances
are mirrors (solving/symmetry.py, verified by Z3 in the same fresh context), consecution is
asked for one transition of each mirror pair with the goal and its mirror.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Callable

import z3

from tcpspec.checker import ir
from tcpspec.solving import symmetry
from tcpspec.solving.budget import Budget
from tcpspec.solving.query import CheckOutcome, QueryCut, check, check_fresh, check_or_fresh
from tcpspec.encoding.theories import choose_theory
from tcpspec.encoding.transition_system import TransitionSystem

Builder = Callable[[TransitionSystem, int], z3.BoolRef]


def property_builder(p: ir.Property) -> Builder:
    """A model invariant (or lemma) as a certificate predicate: its expression in state k."""
    return lambda ts, k: ts.holds_at(p, k)


@dataclass(frozen=True)
class CertInvariant:
    name: str
    text: str
    build: Builder  # the predicate in state k of a given transition system
    origin: str = "lemma"  # "lemma" (auto-generated) or "property" (the model's own)


@dataclass
class Certificate:
    invariants: list[CertInvariant]
    k: int = 1
    model_path: str = ""
    proved: list[str] = field(default_factory=list)  # property names it proves
    note: str = ""  # how to read the invariants (e.g. PDR's integer reading of sequence numbers)

    @property
    def lemma_count(self) -> int:
        return sum(1 for i in self.invariants if i.origin == "lemma")


def _said(out: CheckOutcome) -> tuple[bool, str]:
    """A query's outcome as (holds, why not)."""
    if out.result == z3.unsat:
        return True, ""
    return False, "counterexample" if out.result == z3.sat else f"solver unknown ({out.reason})"


def _unsat(s: z3.Solver, assumptions: list[z3.BoolRef], timeout_ms: int | None) -> tuple[bool, str]:
    # query.check: Ctrl-C within the time limit is an interrupt, never a failed obligation.
    return _said(check(s, assumptions, Budget(None if timeout_ms is None else timeout_ms / 1000)))


JOINT_SECONDS = 30.0  # for the all-invariants-at-once query; unsettled by then: one by one


def _joint_seconds() -> float:
    """JOINT_SECONDS of an idle machine's time: Z3's timeout is the clock's, and on a machine
    loaded beyond its cores a joint query that takes 10 s idle ran past 30 s, fell back to one
    query per invariant (hundreds, each slower than the joint one) and a 30 s check took 10
    minutes. So the cap grows with the load per core."""
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:
        load = 1.0
    return JOINT_SECONDS * max(1.0, load)


def _cap_ms(ms: int | None) -> int:
    cap = int(_joint_seconds() * 1000)
    return cap if ms is None else min(ms, cap)


def _unsat_step(s: z3.Solver, assumptions: list[z3.BoolRef], ts: TransitionSystem, timeout: float | None) -> tuple[bool, str]:
    """`_unsat` for a one-step obligation, in a fresh solver when it is hard."""
    return _said(check_or_fresh(s, assumptions, ts.th.solver, Budget(timeout)))


# Threads for the consecution query's cases (one per transition), each with its own Z3 context
# (ctypes releases the GIL during a check): the cases are small and a queue keeps both cores
# busy, where one joint query keeps one.
CASE_THREADS = 2


def _each_transition(ts: TransitionSystem, formula: z3.BoolRef, seconds: float | None, threads: int,
                     spare: threading.Event | None = None, cases: list[z3.BoolRef] | None = None) -> z3.CheckSatResult:
    """Is `formula` (which holds step 0's transition relation) unsatisfiable? Asked once per
    transition taken at step 0 (`act@0 == i` added): the cases cover every step, since the
    relation allows only those values of act@0. unsat when every case is unsat; otherwise
    sat or unknown, and the cases still open are not asked. `spare`: one more thread joins
    once it is set (a core that has become free), for the cases still open then. `cases`:
    the terms to add instead (the caller answers for their covering every step)."""
    step = ts.step_at(0)
    if cases is None:
        cases = [ts.fires(step.act, i) for i in range(len(ts.transitions))]
    threads = max(1, min(threads, os.cpu_count() or 1, len(cases)))
    late = 1 if spare is not None and threads < min(os.cpu_count() or 1, len(cases)) else 0
    # Terms move to a thread's own context here, in this thread: a context is not thread-safe
    # (cheap next to the query, so the late thread's terms are made up front).
    contexts: list[z3.Context | None] = [None] + [z3.Context() for _ in range(threads - 1 + late)]
    work = [(formula, cases)] + [(formula.translate(c), [t.translate(c) for t in cases]) for c in contexts[1:]]
    budget = Budget(seconds)
    lock = threading.Lock()
    todo = list(range(len(cases)))
    outcome: list[tuple[z3.CheckSatResult, bool]] = []  # the first case not unsat; was it Ctrl-C?
    running: list[z3.Solver] = []

    def give_up(result: z3.CheckSatResult, ctrl_c: bool = False) -> None:
        with lock:
            if not outcome:
                outcome.append((result, ctrl_c))
            for other in running:
                other.interrupt()  # query.check raises QueryCut there

    def worker(k: int) -> None:
        f, mine = work[k]
        while True:
            with lock:
                if outcome or not todo:
                    return
                i = todo.pop(0)
                s = ts.th.solver(contexts[k])
                running.append(s)
            s.add(f, mine[i])
            try:
                r = check(s, [], budget).result
            except QueryCut:
                return  # another case decided
            except KeyboardInterrupt:  # Z3 caught SIGINT (Ctrl-C) in this thread: not a verdict
                give_up(z3.unknown, ctrl_c=True)
                return
            except Exception:  # noqa: BLE001 - a helper that died silently would leave its case unasked
                r = z3.unknown  # never unsat: the joint query is then not taken as settled
            finally:
                with lock:
                    running.remove(s)
            if r != z3.unsat:
                give_up(r)
                return

    finished = threading.Event()  # this thread has no case left to take

    def join_when_spare(k: int) -> None:
        while not finished.is_set():
            if spare is not None and spare.wait(0.05):
                worker(k)
                return

    helpers = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(1, threads)]
    helpers += [threading.Thread(target=join_when_spare, args=(threads,), daemon=True)] if late else []
    for h in helpers:
        h.start()
    try:
        worker(0)
    except BaseException:
        give_up(z3.unknown)  # stops the helpers
        raise
    finally:
        finished.set()
        for h in helpers:
            h.join()
    if not outcome:
        return z3.unsat
    result, ctrl_c = outcome[0]
    if ctrl_c:
        raise KeyboardInterrupt
    return result


def recheck(
    model: ir.Model, certificate: Certificate, props: list[ir.Property], theory: str = "auto",
    timeout: float | None = None, quick: bool = False, threads: int = CASE_THREADS,
    spare: threading.Event | None = None, use_symmetry: bool = True,
) -> str | None:
    """None when every obligation holds; else the first failing obligation, in words.

    `quick`: a joint query that fails is not followed by one query per invariant to name the
    failing one (those are the slow part of a failing re-check): for the prover's trial certificates.
    `threads`: 1 asks the consecution query whole, in this thread (for the prover, whose
    re-check runs beside BMC, which has the other core);
    more splits it by transition over that many threads (`_each_transition`). `spare`: split
    it even in 1 thread, and add a thread once the event is set (the portfolio's BMC has left
    its core): the cases in one thread take little longer than the whole query.
    `use_symmetry`: when Z3 verifies that swapping two instances maps the model and Inv onto
    themselves (solving/symmetry.py), the consecution query is asked for one transition of
    each mirror pair, with the goal and its mirror: half the cases."""
    if certificate.k != 1:
        return f"only 1-inductive certificates can be re-checked (k = {certificate.k})"
    ms = None if timeout is None else max(1, int(timeout * 1000))
    ts = TransitionSystem(model, choose_theory(model, theory))
    inv0 = [(c, c.build(ts, 0)) for c in certificate.invariants]
    inv1 = [(c, c.build(ts, 1)) for c in certificate.invariants]

    base = ts.th.solver()
    base.add(ts.init())
    # A model with no initial state makes every obligation below hold vacuously: whatever a
    # certificate's file added to the model, a proof needs a state to start from.
    has_init = check(base, [], Budget(_cap_ms(ms) / 1000)).result
    if has_init != z3.sat:
        return ("initiation: the model has no initial state" if has_init == z3.unsat else
                "initiation: solver unknown (is there an initial state?)")
    # Each obligation is first asked for all invariants at once (the usual inductiveness
    # check); one by one only to name the one that fails, or when Z3 cannot settle the joint
    # query quickly (one by one is far slower on hundreds of invariants).
    if not _unsat(base, [z3.Not(z3.And([t for _, t in inv0]))], _cap_ms(ms))[0]:
        if quick:
            return "initiation: the joint query did not come back unsat"
        for c, t in inv0:
            ok, why = _unsat(base, [z3.Not(t)], ms)
            if not ok:
                return f"initiation: init => {c.name} ({c.text}): {why}"

    step = ts.th.solver()
    step0 = ts.step_at(0)
    # well_formed(1) only for in-range steps: else range_ok's own violation would be impossible.
    step.add(ts.well_formed(0), step0.trans, z3.Implies(step0.range_ok, ts.well_formed(1)))
    step.add([t for _, t in inv0])
    in_range = ts.step_at(0).range_ok
    # The joint query is asked with everything asserted, where Z3's preprocessing sees it: under
    # assumptions in `step` Z3 does not settle it on tcp.tcpspec. With
    # `threads` it is split by the transition taken, the cases in parallel (`_each_transition`).
    # The step properties (those taken in range) are asked in the same query, not one query
    # per step property after it.
    in_joint = [p for p in props if p.kind is ir.PropertyKind.STEP and not p.builtin]
    goal = z3.Or([z3.Not(z3.And([t for _, t in inv1]))] + [ts.step_violated(p, 0) for p in in_joint])
    sym = symmetry.find(ts, Budget(timeout)) if use_symmetry else None
    if sym is not None and not symmetry.closed(ts, sym, [t for _, t in inv0], Budget(timeout)):
        sym = None  # Inv is not closed under the swap: its mirror cases are not its own
    if sym is not None:
        cases = [z3.And(ts.fires(step0.act, i), symmetry.mirrored_goal(ts, sym, goal, i)) for i in sym.representatives]
        joint = _each_transition(ts, z3.And(list(step.assertions()) + [in_range]), _cap_ms(ms) / 1000, threads,
                                 spare, cases)
    elif threads > 1 or spare is not None:
        joint = _each_transition(ts, z3.And(list(step.assertions()) + [in_range, goal]), _cap_ms(ms) / 1000, threads,
                                 spare)
    else:
        joint = check_fresh(step, [in_range, goal], ts.th.solver, Budget(_cap_ms(ms) / 1000)).result
    if joint == z3.unsat:
        props = [p for p in props if p not in in_joint]  # settled by the joint query
    else:
        if quick:
            return f"consecution: the joint query came back {joint}"
        for c, t in inv1:
            ok, why = _unsat_step(step, [in_range, z3.Not(t)], ts, timeout)
            if not ok:
                return f"consecution: Inv /\\ T => {c.name}' ({c.text}): {why}"

    implied = ts.th.solver()
    implied.add(ts.well_formed(0), z3.And([t for _, t in inv0]))
    over_states = [p for p in props if p.over_states]
    if over_states and _unsat(implied, [z3.Or([z3.Not(ts.holds_at(p, 0)) for p in over_states])], _cap_ms(ms))[0]:
        props = [p for p in props if not p.over_states]  # Inv implies them all, in one query
    for p in props:
        if p.over_states:
            ok, why = _unsat(implied, [z3.Not(ts.holds_at(p, 0))], ms)
            if not ok:
                return f"Inv => {p.name}: {why}"
        elif p.kind is ir.PropertyKind.STEP:
            assume = [] if p.builtin else [in_range]
            ok, why = _unsat_step(step, assume + [ts.step_violated(p, 0)], ts, timeout)
            if not ok:
                return f"Inv /\\ T => step property {p.name}: {why}"
        else:
            return f"{p.name}: a reachable target cannot be proved by an invariant"
    return None


def render(certificate: Certificate) -> str:
    """The certificate as model-syntax invariants, one per line, with a header comment."""
    lines = [
        f"// tcpspec proof certificate for {certificate.model_path or 'the model'}",
        "// The conjunction of these invariants holds initially and is preserved by every",
        "// transition (1-inductive); it implies the proved properties:" if certificate.k == 1 else
        f"// transition (1-inductive); with them, {certificate.k}-induction proves the properties:",
    ]
    for name in certificate.proved:
        lines.append(f"//   {name}")
    lines.append(f"// {len(certificate.invariants)} invariants, {certificate.lemma_count} of them generated lemmas.")
    lines += [f"// {n}" for n in certificate.note.splitlines()]
    for c in certificate.invariants:
        lines.append(f"invariant {c.name}: {c.text};")
    return "\n".join(lines) + "\n"
