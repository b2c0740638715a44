"""Instance symmetry: a swap of two instances of one process that maps the model onto itself.

Why: in tcp.tcpspec `client` and `server` run the same process over mirrored channels, so each
consecution case of a client transition has a mirror case of the server's. Once Z3 has shown
that the swap maps the initial states, the well-formed states and every transition's step onto
themselves, a one-step obligation asked only for one transition of each mirror pair, with its
goal and the goal's mirror, covers the other transition too: the mirror of a counterexample is
a counterexample. On tcp.tcpspec that halves the certificate's re-check.

The swap is proposed from the model's structure (instances of one process, the channels bound to
their parameters, transitions of the same local name) and then *verified*, never assumed: a
model whose instances differ (a parameter value, an initial value, a guard reading one instance
by name) fails a check and gets no symmetry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import z3

from tcpspec.checker import ir
from tcpspec.solving.budget import Budget
from tcpspec.solving.query import check
from tcpspec.encoding.transition_system import TransitionSystem, _leaves, _substituter

# The checks are small (act fixed, so every other transition's part folds away); a model where
# they are slow is not worth the saving.
CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Symmetry:
    """An involution of the constants of states 0 and 1 and of step 0's parameters (`apply`),
    with the transition each transition is mapped to (`image`), verified on `ts`."""

    instances: tuple[str, str]
    image: tuple[int, ...]
    apply: Callable[[z3.ExprRef], z3.ExprRef]

    @property
    def representatives(self) -> list[int]:
        """One transition of each mirror pair (the lower index), and every self-mirrored one."""
        return [i for i, j in enumerate(self.image) if i <= j]


def _swap(name: str, a: str, b: str) -> str:
    for x, y in ((a, b), (b, a)):
        if name.startswith(x + "."):
            return y + name[len(x):]
    return name


def _proposals(model: ir.Model) -> list[tuple[str, str, dict[str, str], list[int]]]:
    """(a, b, name map of variables and channels, transition image) for each candidate swap."""
    out = []
    for n, a in enumerate(model.instances):
        for b in model.instances[n + 1:]:
            found = _proposal(model, a, b)
            if found is not None:
                out.append((a.name, b.name, *found))
    return out


def _proposal(model: ir.Model, a: ir.Instance, b: ir.Instance) -> tuple[dict[str, str], list[int]] | None:
    """The swap of a and b as a name map and transition image, if the model's structure allows it."""
    bound_a, bound_b = dict(a.channels), dict(b.channels)
    if a.process != b.process or bound_a.keys() != bound_b.keys():
        return None
    names: dict[str, str] = {}
    for param, ca in bound_a.items():
        for x, y in ((ca, bound_b[param]), (bound_b[param], ca)):
            if names.setdefault(x, y) != y:
                return None  # a channel bound to two different parameters
    chans = {c.name: c for c in model.channels}
    for x, y in names.items():
        cx, cy = chans[x], chans[y]
        if (cx.message, cx.capacity, cx.faults) != (cy.message, cy.capacity, cy.faults):
            return None
    types = {v.name: v.type for v in model.state_vars}
    for v in model.state_vars:
        w = _swap(v.name, a.name, b.name)
        if types.get(w) != v.type:
            return None
        names[v.name] = w
    for c in model.channels:
        names.setdefault(c.name, c.name)
    index = {t.name: i for i, t in enumerate(model.transitions)}
    image = []
    for t in model.transitions:
        if isinstance(t, ir.NetworkTransition):
            other = f"{names[t.channel.name]}.{t.kind}"
        else:
            other = _swap(t.name, a.name, b.name)
        j = index.get(other)
        if j is None or model.transitions[j].params != t.params:
            return None
        image.append(j)
    return names, image


def find(ts: TransitionSystem, budget: Budget | None = None) -> Symmetry | None:
    """A verified swap of two instances of `ts`'s model, or None (none proposed, or a check
    did not come back unsat in time)."""
    for a, b, names, image in _proposals(ts.model):
        pairs: list[tuple[z3.ExprRef, z3.ExprRef]] = []
        for k in (0, 1):
            consts = ts.constants(k)
            for x, y in names.items():
                if x != y:
                    pairs += zip(consts[x], consts[y])
        step0 = ts.step_at(0)
        for i, j in enumerate(image):
            if i != j:
                for pname in step0.params[i]:
                    pairs += zip(_leaves(step0.params[i][pname]), _leaves(step0.params[j][pname]))
        sym = Symmetry((a, b), tuple(image), _substituter(pairs))
        if _verified(ts, sym, budget):
            return sym
    return None


def _verified(ts: TransitionSystem, sym: Symmetry, budget: Budget | None) -> bool:
    """Z3 says: init and well-formedness are closed under the swap, and every transition's step
    (its relation, range_ok and the well-formed post-state) is the mirror of its image's."""
    step0 = ts.step_at(0)
    frame = z3.And(ts.well_formed(0), step0.trans, z3.Implies(step0.range_ok, ts.well_formed(1)))
    obligations = [(ts.init(), sym.apply(ts.init())), (ts.well_formed(0), sym.apply(ts.well_formed(0)))]
    for i, j in enumerate(sym.image):
        # Step j implies the mirror of step i, and the mirror agrees with it on range_ok.
        at_i, at_j = fixed_act(ts, i), fixed_act(ts, j)
        implied = z3.And(sym.apply(at_i(frame)), sym.apply(at_i(step0.range_ok)) == at_j(step0.range_ok))
        obligations.append((at_j(frame), implied))
    # One query for all of them: unsat iff each holds.
    return _unsat(ts, [z3.Or([z3.And(given, z3.Not(implied)) for given, implied in obligations])], budget)


def _unsat(ts: TransitionSystem, terms: list[z3.BoolRef], budget: Budget | None) -> bool:
    """Z3 says the terms cannot hold together, within CHECK_SECONDS (and `budget`)."""
    s = ts.th.solver()
    s.add(*terms)
    return check(s, [], (budget or Budget(None)).capped(CHECK_SECONDS)).result == z3.unsat


def fixed_act(ts: TransitionSystem, i: int) -> Callable[[z3.ExprRef], z3.ExprRef]:
    """Step 0's terms with transition i taken (act@0 replaced by i): what the swap maps."""
    return _substituter([(ts.step_at(0).act, ts.th.constant(i, ts.act_type))])


def mirrored_goal(ts: TransitionSystem, sym: Symmetry, goal: z3.BoolRef, i: int) -> z3.BoolRef:
    """The goal to ask with transition i taken, so that the case also covers its image's:
    `goal` or the mirror of `goal` as the image would ask it (act fixed first: a step
    property's goal may name the transitions it is about)."""
    return z3.Or(goal, sym.apply(fixed_act(ts, sym.image[i])(goal)))  # type: ignore[return-value]


def closed(ts: TransitionSystem, sym: Symmetry, terms: list[z3.BoolRef], budget: Budget | None = None) -> bool:
    """Do the well-formed states satisfying every term of `terms` satisfy their mirrors? Asked of
    Z3 only for the mirrors that are not themselves among `terms`."""
    have = {t.get_id() for t in terms}
    extra = [m for m in (sym.apply(t) for t in terms) if m.get_id() not in have]
    if not extra:
        return True
    return _unsat(ts, [ts.well_formed(0), *terms, z3.Not(z3.And(extra))], budget)


def own_mirrors(ts: TransitionSystem, sym: Symmetry, terms: list[z3.BoolRef], budget: Budget | None = None) -> bool:
    """Is each state-0 term equivalent to its mirror on the well-formed states (a property
    written for both sides at once, up to the order of its conjuncts)?"""
    return _unsat(ts, [ts.well_formed(0), z3.Or([z3.Not(t == sym.apply(t)) for t in terms])], budget)
