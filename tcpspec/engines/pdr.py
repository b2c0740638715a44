"""IC3/PDR through Z3's Spacer: the transition system as constrained Horn clauses.

One predicate `Inv` over the flattened state (every variable, record field, channel slot and
channel length of `TransitionSystem.state_at`), and per property three clauses:

    Inv(s)  <- Init(s)
    Inv(s') <- Inv(s) /\\ wf(s) /\\ T(s, s') /\\ range_ok /\\ wf(s')
    Err     <- Inv(s) /\\ wf(s) /\\ !P(s)              (step properties: /\\ T /\\ the step breaks P)

The steps are in range, as in BMC (an out-of-range store is `range_ok`'s own violation).
`z3.Fixedpoint` with `engine=spacer`, not `SolverFor("HORN")`: on the seed model the HORN solver
left a property undecided that Fixedpoint proves at once.

Proved: Spacer's interpretation of `Inv` (from `get_answer()`, quantifiers eliminated) is put
back over the state terms and re-checked with fresh solvers by `certificate.recheck` before
anything is reported `proved`; the re-check has caught real errors (see `pdr_theory`). Refuted:
the transition rules along Spacer's trace give the depth; the trace comes from BMC at that depth
(the shortest, decoded and replayed as every other trace). Reachability targets go to BMC.

On models/tcp.tcpspec Spacer proves most invariants and step properties on their own, but not
send_window, una_le_nxt or the cross-endpoint properties, which need the model's lemmas: that
is why `auto` pairs BMC with the Houdini prover, not with PDR (docs/performance.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import z3

from tcpspec.checker import ir
from tcpspec.proof.certificate import CertInvariant, Certificate, recheck, render
from tcpspec.solving.budget import Budget
from tcpspec.solving.query import check
from tcpspec.engines.formula_text import Leaf, show_formula
from tcpspec.engines.state_leaves import consts, part_label, state_leaves
from tcpspec.core.results import STOPPED, PropertyResult, Verdict, steps, stops_run
from tcpspec.encoding.theories import choose_theory
from tcpspec.encoding.transition_system import TransitionSystem
from tcpspec.core.types import Type, composite_parts

ENGINE = "pdr"
NO_LIMIT_MS = 4294967295


# ---------------------------------------------------------------- the state as a tuple


def _leaf_types(model: ir.Model) -> dict[str, object]:
    """Model-syntax name -> type, to print enum members by name."""
    out: dict[str, object] = {}

    def add(label: str, t: Type) -> None:
        out[label] = t
        for f, pt in composite_parts(t) or []:
            add(part_label(label, t, f), pt)

    for v in model.state_vars:
        add(v.name, v.type)
    for c in model.channels:
        for i in range(c.capacity):
            add(f"{c.name}[{i}]", c.message)
    return out


# ---------------------------------------------------------------- one Horn problem


@dataclass
class PdrOutcome:
    """What Spacer said about one property."""

    verdict: str  # "proved" | "refuted" | "unknown"
    detail: str = ""
    invariant: z3.BoolRef | None = None  # over Var(i) = the i-th state leaf
    depth: int | None = None  # refuted: steps of the counterexample Spacer found


class _Horn:
    """The shared part of every property's Horn problem: Inv's signature, init, the step."""

    def __init__(self, model: ir.Model, theory: str):
        self.ts = TransitionSystem(model, choose_theory(model, theory))
        ts = self.ts
        self.s0, self.s1 = state_leaves(ts, 0), state_leaves(ts, 1)
        self.inv = z3.Function("Inv", *[leaf.term.sort() for leaf in self.s0], z3.BoolSort())
        step = ts.step_at(0)
        self.init = ts.init()
        self.step = z3.And(ts.well_formed(0), step.trans, step.range_ok, ts.well_formed(1))

    def bad(self, prop: ir.Property) -> z3.BoolRef:
        ts = self.ts
        if prop.over_states:
            return z3.And(ts.well_formed(0), z3.Not(ts.holds_at(prop, 0)))
        step = ts.step_at(0)
        ok = [] if prop.builtin else [step.range_ok]
        return z3.And(ts.well_formed(0), step.trans, *ok, ts.step_violated(prop, 0))

    def solve(self, prop: ir.Property, budget: Budget) -> PdrOutcome:
        inv0 = self.inv(*[leaf.term for leaf in self.s0])
        inv1 = self.inv(*[leaf.term for leaf in self.s1])
        bad = self.bad(prop)
        # A property no well-formed state (step) can break needs no search: `true` is its
        # invariant (re-checked like any other). Spacer's answer for one can take a minute of
        # quantifier elimination, or be unreadable (abp.tcpspec's slot lemmas at CAP = 1, whose
        # `forall i in 0..CAP - 2` is empty).
        alone = self.ts.th.solver()
        alone.add(bad)
        if check(alone, [], budget).result == z3.unsat:
            return PdrOutcome("proved", invariant=z3.BoolVal(True))
        fp = z3.Fixedpoint()
        fp.set(engine="spacer")
        ms = budget.remaining_ms()
        fp.set("timeout", ms if ms is not None else NO_LIMIT_MS)
        err = z3.Function("Err", z3.BoolSort())
        fp.register_relation(self.inv, err)
        fp.declare_var(*consts(z3.And(self.init, self.step, bad)))
        fp.rule(inv0, self.init)
        fp.rule(inv1, [inv0, self.step])
        fp.rule(err(), [inv0, bad])
        if budget.expired:
            return PdrOutcome("unknown", "timeout")
        try:
            r = fp.query(err())
        except z3.Z3Exception as e:  # Spacer raises "canceled" on timeout and on Ctrl-C
            return self._gave_up(str(e), budget)
        if r == z3.unsat:
            found = answer_invariant(fp.get_answer(), self.inv, [leaf.term for leaf in self.s0])
            found = None if found is None else quantifier_free(found, budget)
            if found is None:
                return PdrOutcome("unknown", "internal error: Spacer's invariant could not be read; please report")
            # Back over Var(i) = the i-th state leaf, so it can be put in any state copy.
            return PdrOutcome("proved", invariant=_abstract(found, self.s0))
        if r == z3.sat:
            depth = _derivation_depth(fp)
            last = 1 if prop.kind is ir.PropertyKind.STEP else 0  # Err's own rule takes the bad step
            return PdrOutcome("refuted", depth=None if depth is None else depth + last)
        return self._gave_up(fp.reason_unknown(), budget)

    @staticmethod
    def _gave_up(reason: str, budget: Budget) -> PdrOutcome:
        left = budget.remaining_ms()
        if "canceled" in reason and (left is None or left > 50):
            raise KeyboardInterrupt  # Z3 turns SIGINT into "canceled": an interrupt, not unknown
        if "canceled" in reason or "timeout" in reason or budget.expired:
            return PdrOutcome("unknown", "timeout")
        return PdrOutcome("unknown", f"Spacer returned unknown: {' '.join(reason.split()[:12])}")


def answer_invariant(answer: z3.ExprRef, inv: z3.FuncDeclRef, args: list[z3.ExprRef]) -> z3.BoolRef | None:
    """Spacer's interpretation of `inv` (from `get_answer()` after unsat) applied to `args`.

    The answer holds `ForAll(xs, Inv(xs) == body)` (or `Inv(..) == body` without arguments).
    Not `get_cover_delta(-1)`: those are only the lemmas pushed to infinity, which were
    not inductive alone (abp.tcpspec, sender_and_receiver_in_step).
    """
    parts = answer.children() if z3.is_and(answer) else [answer]
    for part in parts:
        body = part.body() if z3.is_quantifier(part) else part
        if not z3.is_eq(body) and not (z3.is_app(body) and body.decl().kind() == z3.Z3_OP_IFF):
            if z3.is_app(body) and body.decl() == inv:  # Inv is true everywhere
                return z3.BoolVal(True)
            continue
        lhs, rhs = body.children()
        if not (z3.is_app(lhs) and lhs.decl() == inv):
            continue
        if not z3.is_quantifier(part):
            return rhs if not lhs.children() else None
        n = part.num_vars()
        to: list[z3.ExprRef | None] = [None] * n
        for a, term in zip(lhs.children(), args):
            if not z3.is_var(a):
                return None
            to[z3.get_var_index(a)] = term
        if any(t is None for t in to):
            return None
        return z3.substitute_vars(rhs, *to)  # type: ignore[arg-type]
    return None


def _has_quantifier(e: z3.ExprRef) -> bool:
    todo, seen = [e], set()
    while todo:
        x = todo.pop()
        if x.get_id() in seen:
            continue
        seen.add(x.get_id())
        if z3.is_quantifier(x):
            return True
        if z3.is_app(x):
            todo.extend(x.children())
    return False


def quantifier_free(f: z3.BoolRef, budget: Budget) -> z3.BoolRef | None:
    """Spacer's invariant without quantifiers, or None. When Spacer inlines the step, its `Inv`
    reads `Init(s) or exists pre. L(pre) /\\ T(pre, s)`: fine as a Horn model, but quantified
    invariants leave the re-check's solvers at `unknown` (incomplete quantifiers). Linear
    integer arithmetic has quantifier elimination: `qe-light` first (cheap), then `qe`."""
    if not _has_quantifier(f):
        return f
    ms = budget.remaining_ms()
    tactic = z3.Then(z3.Tactic("qe-light"), z3.Tactic("qe"), z3.Tactic("simplify"))
    goal = z3.Goal()
    goal.add(f)
    try:
        out = (z3.TryFor(tactic, ms) if ms is not None else tactic)(goal).as_expr()
    except z3.Z3Exception:
        return None
    return None if _has_quantifier(out) else out


def _abstract(f: z3.ExprRef, leaves: list[Leaf]) -> z3.BoolRef:
    """`f` over the leaves' constants -> over Var(i), i the leaf's position."""
    pairs = [(leaf.term, z3.Var(i, leaf.term.sort())) for i, leaf in enumerate(leaves)]
    return z3.substitute(f, *pairs)


def _derivation_depth(fp: z3.Fixedpoint) -> int | None:
    """Steps in Spacer's counterexample: the transition rules along its trace (Inv <- Inv /\\ T)."""
    try:
        rules = fp.get_rules_along_trace()
    except z3.Z3Exception:
        return None
    return sum(1 for r in rules if _is_step_rule(r))


def _is_step_rule(rule: z3.ExprRef) -> bool:
    body = rule.body() if z3.is_quantifier(rule) else rule
    if not z3.is_implies(body):
        return False
    pre, head = body.children()
    return _applies_inv(head) and any(_applies_inv(c) for c in (pre.children() if z3.is_and(pre) else [pre]))


def _applies_inv(e: z3.ExprRef) -> bool:
    return z3.is_app(e) and e.decl().name() == "Inv"


# ---------------------------------------------------------------- certificates

_NOTE = (
    "Found by IC3/PDR (Z3 Spacer), in the solver's reading of the state: a seqN/bvN is its value\n"
    "0..2^N-1 with plain (unwrapped) + and -, an enum compared by order is ord(e). The re-check ran\n"
    "on the solver's formula itself."
)


def certificate_of(model: ir.Model, horn: _Horn, invariant: z3.BoolRef, proved: list[str]) -> Certificate:
    """Spacer's invariant, one conjunct per certificate line, rebuilt per transition system."""
    names = _leaf_types(model)
    stem = "pdr_" + "_".join(proved).replace(".", "_")
    conjuncts = list(invariant.children()) if z3.is_and(invariant) else [invariant]
    invs: list[CertInvariant] = []
    for i, c in enumerate(conjuncts):
        text = show_formula(z3.substitute_vars(c, *[leaf.term for leaf in horn.s0]), horn.s0, names)
        invs.append(CertInvariant(f"{stem}_inv{i}", text, _builder(c), "pdr"))
    return Certificate(invs, k=1, model_path=model.path, proved=proved, note=_NOTE)


def _builder(formula: z3.ExprRef):  # type: ignore[no-untyped-def]
    """The conjunct in state k of any transition system of the same model and theory."""
    return lambda ts, k: z3.substitute_vars(formula, *[leaf.term for leaf in state_leaves(ts, k)])


# ---------------------------------------------------------------- the engine


def pdr_theory(theory: str) -> str:
    """`auto` means integers for PDR, whatever the model: Spacer is at home in linear integer
    arithmetic, and under bit-vectors (abp.tcpspec, z3 4.x/5.x) it returned invariants that are
    not inductive (both the Fixedpoint answer and the HORN solver's model; the re-check caught it)."""
    return "int" if theory == "auto" else theory


# Without --timeout, Spacer gets this long per property: on tcp.tcpspec it was measured to run
# for hours on the properties it cannot do (docs/performance.md), with nothing on the screen.
DEFAULT_SECONDS = 120.0


def run_pdr(
    model: ir.Model, props: list[ir.Property], timeout: float | None, theory: str = "auto", depth: int = 20,
    keep_going: bool = True, on_progress: Callable[[str], None] | None = None,
) -> list[PropertyResult]:
    """Spacer per property; `depth` bounds BMC on reachability targets. In the order of `props`.
    Without `keep_going` the first violation ends the run (the rest: `unknown`, STOPPED).
    `on_progress` is told which property Spacer is on. A property Spacer gives up on is
    `unknown` with a hint of what to try instead (`advice`)."""
    from tcpspec.engines.bmc import run_bmc

    horn = _Horn(model, pdr_theory(theory))
    results: dict[str, PropertyResult] = {}
    targets = [p for p in props if not (p.over_states or p.kind is ir.PropertyKind.STEP)]
    stopped = False
    safety = [p for p in props if p not in targets]
    hint: str | None = None
    for i, p in enumerate(safety, 1):
        if stopped:
            results[p.name] = _result(p, Verdict.UNKNOWN, None, 0.0, STOPPED)
            continue
        if on_progress is not None:
            on_progress(f"IC3/PDR on {p.name} ({i} of {len(safety)})")
        r = _check_one(model, horn, p, DEFAULT_SECONDS if timeout is None else timeout, theory)  # BMC keeps `theory`
        if r.verdict is Verdict.UNKNOWN and r.detail.startswith("IC3/PDR gave up"):
            hint = advice(model, pdr_theory(theory)) if hint is None else hint
            r.detail += f"; {hint}"
        results[p.name] = r
        stopped = not keep_going and stops_run(results[p.name])
    if targets:
        if stopped:
            results.update({p.name: _result(p, Verdict.UNKNOWN, None, 0.0, STOPPED) for p in targets})
        else:
            for r in run_bmc(model, targets, depth, timeout, theory):
                results[r.property] = r
    return [results[p.name] for p in props]


def advice(model: ir.Model, theory: str, seconds: float = 5.0) -> str:
    """What to try when Spacer gives up, from what was measured (docs/performance.md): a
    finite model (the explicit search sees every state within `seconds`) is decided by
    `--engine explicit`; else the other number theory, and the inductive prover of `auto`."""
    from tcpspec.engines.explicit import ExplicitOptions, explore

    try:
        safety = [p for p in model.properties if p.kind is not ir.PropertyKind.REACHABLE]
        plan, outcome, _ = explore(model, safety, 1 << 20, seconds, ExplicitOptions(max_states=200_000))
        if outcome.complete and plan.exhaustive:
            return (f"the model is finite ({outcome.states} states): --engine explicit decides it exhaustively")
    except Exception:  # noqa: BLE001 - only a hint
        pass
    why = ("in bit-vectors Spacer learns facts bit by bit" if theory == "bv"
           else "bit-vectors can suit small ranges and enums")
    other = "int" if theory == "bv" else "bv"
    return f"try --theory {other} ({why}), or --engine auto (BMC with the inductive prover and its lemmas)"


def _check_one(model: ir.Model, horn: _Horn, p: ir.Property, timeout: float | None, theory: str) -> PropertyResult:
    t0 = time.perf_counter()
    budget = Budget(timeout)
    out = horn.solve(p, budget)
    if out.verdict == "proved" and out.invariant is not None:
        cert = certificate_of(model, horn, out.invariant, [p.name])
        left = budget.seconds_left()
        try:
            problem = recheck(model, cert, [p], pdr_theory(theory), left)
        except z3.Z3Exception as e:  # e.g. a quantified invariant the QF_BV solver refuses
            problem = f"the solver could not read it: {' '.join(str(e).split()[:8])}"
        secs = round(time.perf_counter() - t0, 3)
        if problem is not None:
            return _result(p, Verdict.UNKNOWN, None, secs,
                           f"internal error: Spacer's invariant failed the independent re-check ({problem}); please report")
        detail = f"IC3/PDR (Spacer): inductive invariant of {len(cert.invariants)} conjuncts; certificate re-checked"
        return _result(p, Verdict.PROVED, None, secs, detail, render(cert))
    if out.verdict == "refuted":
        return _trace_for(model, p, out.depth, budget, theory, t0)
    return _result(p, Verdict.UNKNOWN, None, round(time.perf_counter() - t0, 3), f"IC3/PDR gave up: {out.detail}")


def _trace_for(
    model: ir.Model, p: ir.Property, depth: int | None, budget: Budget, theory: str, t0: float
) -> PropertyResult:
    """BMC at Spacer's depth: the shortest counterexample, decoded and replayed like BMC's."""
    from tcpspec.engines.bmc import run_bmc

    if depth is None:
        return _result(p, Verdict.UNKNOWN, None, round(time.perf_counter() - t0, 3),
                       "IC3/PDR found a violation but gave no derivation to replay; run --engine bmc")
    left = budget.seconds_left()
    r = run_bmc(model, [p], depth, left, theory)[0]
    if r.verdict is Verdict.HOLDS:
        # Spacer's trace can hide steps (a step rule it inlined: `k := 1` in one step under
        # --theory bv counted 0): deeper, BMC still gives the shortest counterexample.
        left = budget.seconds_left()
        r = run_bmc(model, [p], max(2 * depth + 8, 20), left, theory)[0]
    r.engine = ENGINE
    r.seconds = round(time.perf_counter() - t0, 3)
    if r.verdict is Verdict.HOLDS:
        r.verdict = Verdict.UNKNOWN
        r.detail = f"internal error: IC3/PDR refuted the property in {steps(depth)} but BMC found no violation; please report"
    elif r.verdict is Verdict.VIOLATED:
        r.detail = f"IC3/PDR refuted it; shortest counterexample by BMC (Spacer's was {steps(depth)})"
    return r


def _result(p: ir.Property, verdict: Verdict, depth: int | None, secs: float, detail: str, cert: str = "") -> PropertyResult:
    return PropertyResult(property=p.name, kind=p.kind.value, verdict=verdict, engine=ENGINE, depth=depth,
                          seconds=secs, doc=p.doc, detail=detail, certificate=cert)
