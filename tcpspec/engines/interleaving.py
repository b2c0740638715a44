"""Partial-order reduction for BMC: of the runs that differ only in the order of commuting
steps, search one.

Why: in tcp.tcpspec the client's and the server's user calls (OPEN, SEND, CLOSE, the 2MSL
timer) touch disjoint state, so a run in which they happen in some order reaches the same state
as every reordering of them; an unrolling of k steps holds all those orders, and Z3 has to
refute each of them at every depth.

Two transitions a, b are *independent* when neither writes a state variable or channel the
other reads or writes (their footprints, read off the symbolic execution of step 0). Then from
any state, a;b and b;a are both possible or both impossible, with the same parameters, and end
in the same state with the same range verdicts. Each transition gets a rank; the *normal-form*
constraint on steps j, j+1 forbids "a, then an independent b of lower rank". Every run of k
steps can be rewritten into one that obeys it: swapping such a pair keeps the run legal and its
end state, and lowers the run's sequence of ranks lexicographically, so the rewriting ends. So
"some run of exactly k steps ends in a bad state" has the same answer with the constraint, and
the shortest depth of every violation or target is unchanged. A step property is about the last
step, whose order the rewriting may change: BMC leaves the last step out of the constraint for
those (`engines/bmc.py`).

The footprints are read off the very terms that define the step (its enabling condition,
range checks and new values, `encoder.Effect`), so they cannot be wrong for one model and right
for another; `verified` asks Z3 whether each pair really commutes (one query, too slow for
every run, so the tests ask it: tests/engines/test_interleaving.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from tcpspec.encoding.encoder import ChanSym, Effect
from tcpspec.solving.budget import Budget
from tcpspec.solving.query import check
from tcpspec.encoding.transition_system import TransitionSystem, _leaves, _map_effect, _substituter

CHECK_SECONDS = 10.0  # the commutation query; a model where it is slower gets no reduction


@dataclass(frozen=True)
class Interleaving:
    """For each transition a, the transitions that may not directly follow it (`blocked[a]`:
    independent of a and of lower rank)."""

    blocked: tuple[tuple[int, ...], ...]

    @property
    def pairs(self) -> int:
        return sum(len(b) for b in self.blocked)

    def between(self, ts: TransitionSystem, j: int) -> z3.BoolRef:
        """Steps j and j+1 are in normal form."""
        first, second = ts.step_at(j).act, ts.step_at(j + 1).act
        cs = [
            z3.Implies(ts.fires(first, a), z3.And([z3.Not(ts.fires(second, b)) for b in later]))
            for a, later in enumerate(self.blocked) if later
        ]
        return z3.And(cs) if cs else z3.BoolVal(True)


def footprints(ts: TransitionSystem) -> list[tuple[frozenset[str], frozenset[str]]]:
    """(reads, writes) of each transition, as names of state variables and channels: what its
    guard, range checks and new values mention, and what it may change."""
    state = ts.state_at(0)
    owner = {c.get_id(): name for name, consts in ts.constants(0).items() for c in consts}
    out = []
    for eff in ts.step_at(0).effects:
        writes = {name for name in ts.constants(0) if not _unchanged(state[name], eff.post[name])}  # type: ignore[arg-type]
        terms = list(eff.enabled) + list(eff.range_ok)
        for name in writes:
            terms += _leaf_terms(eff.post[name])  # type: ignore[arg-type]
        out.append((frozenset(_mentioned(terms, owner)), frozenset(writes)))
    return out


def find(ts: TransitionSystem) -> Interleaving | None:
    """The normal form for `ts` (transitions rank by index), or None when no two transitions
    are independent."""
    n = len(ts.transitions)
    fp = footprints(ts)
    blocked: list[list[int]] = [[] for _ in range(n)]
    for a in range(n):
        ra, wa = fp[a]
        for b in range(a):
            rb, wb = fp[b]
            if not (wa & (rb | wb)) and not (wb & ra):
                blocked[a].append(b)
    found = Interleaving(tuple(tuple(b) for b in blocked))
    return found if found.pairs else None


def verified(ts: TransitionSystem, il: Interleaving, budget: Budget | None, rlimit: int | None = None) -> bool:
    """Z3 says: whenever a then b (blocked after a) is a legal pair of in-range steps from a
    well-formed state, b then a with the same parameters is too, through a well-formed state,
    to the same state. One query over all pairs: unsat iff every pair commutes.

    `rlimit` bounds Z3's own count of its work instead of the clock (CHECK_SECONDS): the same
    answer on a busy machine as on an idle one (the tests ask it that way)."""
    from tcpspec.solving.symmetry import fixed_act

    st0, st1 = ts.step_at(0), ts.step_at(1)
    mid, end = 3, 4  # scratch states of the swapped run
    to_mid = _substituter(list(zip(_flat(ts, 0), _flat(ts, mid))))
    params0 = [x for ps in st0.params for p in ps.values() for x in _leaves(p)]
    params1 = [x for ps in st1.params for p in ps.values() for x in _leaves(p)]
    to_step1 = _substituter(list(zip(_flat(ts, 0) + _flat(ts, 1) + params0, _flat(ts, 1) + _flat(ts, 2) + params1)))
    cases = []
    steps: dict[int, z3.BoolRef] = {}  # b's step 1, act fixed
    for a, later in enumerate(il.blocked):
        if not later:
            continue
        first = z3.simplify(fixed_act(ts, a)(z3.And(st0.trans, st0.range_ok)))
        eff_a = _map_effect(st0.effects[a], to_mid)
        for b in later:
            if b not in steps:
                steps[b] = to_step1(z3.simplify(fixed_act(ts, b)(z3.And(st0.trans, st0.range_ok))))
            second = steps[b]
            # b first, with its parameters of step 1.
            eff_b = _map_effect(st0.effects[b], _substituter(list(zip(params0, params1))))
            ok = z3.And(*eff_b.enabled, *eff_b.range_ok, ts.well_formed(mid), *eff_a.enabled, *eff_a.range_ok,
                        *[x == y for x, y in zip(_flat(ts, end), _flat(ts, 2))])
            cases.append(z3.And(first, second, *_result(ts, eff_b, mid), *_result(ts, eff_a, end), z3.Not(ok)))
    solver = ts.th.solver()
    solver.add(ts.well_formed(0), ts.well_formed(1), ts.well_formed(2), z3.Or(cases))
    if rlimit is not None:
        solver.set("rlimit", rlimit)
        return check(solver, [], budget or Budget(None)).result == z3.unsat
    return check(solver, [], (budget or Budget(None)).capped(CHECK_SECONDS)).result == z3.unsat


def _result(ts: TransitionSystem, eff: Effect, k: int) -> list[z3.BoolRef]:
    """State k is what `eff` makes of its pre-state."""
    from tcpspec.encoding import encoder as enc

    post = ts.state_at(k)
    cs: list[z3.BoolRef] = []
    for v in ts.model.state_vars:
        cs.append(enc.sym_eq(post[v.name], eff.post[v.name]))  # type: ignore[arg-type]
    for c in ts.model.channels:
        nxt, new = post[c.name], eff.post[c.name]
        assert isinstance(nxt, ChanSym) and isinstance(new, ChanSym)
        cs.append(nxt.length == new.length)
        cs.extend(enc.sym_eq(x, y) for x, y in zip(nxt.slots, new.slots))
    return cs


def _flat(ts: TransitionSystem, k: int) -> list[z3.ExprRef]:
    return [c for consts in ts.constants(k).values() for c in consts]


def _unchanged(pre, post) -> bool:  # type: ignore[no-untyped-def]
    return all(z3.eq(x, y) for x, y in zip(_leaf_terms(pre), _leaf_terms(post)))


def _leaf_terms(sym) -> list[z3.ExprRef]:  # type: ignore[no-untyped-def]
    if isinstance(sym, ChanSym):
        return [leaf for slot in sym.slots for leaf in _leaves(slot)] + [sym.length]
    return _leaves(sym)


def _mentioned(terms: list[z3.ExprRef], owner: dict[int, str]) -> set[str]:
    """The state variables and channels whose state-0 constants occur in `terms`."""
    found: set[str] = set()
    seen: set[int] = set()
    stack = list(terms)
    while stack:
        t = stack.pop()
        tid = t.get_id()
        if tid in seen:
            continue
        seen.add(tid)
        if tid in owner:
            found.add(owner[tid])
        else:
            stack.extend(t.children())
    return found
