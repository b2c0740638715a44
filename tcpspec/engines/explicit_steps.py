"""What the explicit search steps through: a state's enabled steps as step codes, the state's
fingerprint, and its concrete values.

A step code names a transition and the index of its parameter values (`Moves`), so the search
keeps two small integers per visited state and a trace is rebuilt by taking the same steps
again (`Moves.again`). The fingerprint (`canonical`) is what the search's visited set and the
symmetry reduction (engines/explicit_symmetry.py) compare. The search (engines/explicit_search.py)
decides where to go; this module only says what can be taken from where.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace

from tcpspec.checker import ir
from tcpspec.engines.explicit_eval import Test, decide, necessary
from tcpspec.engines.explicit_symmetry import flat
from tcpspec.interp.evaluate import Env
from tcpspec.interp.semantics import StepOutcome, take
from tcpspec.interp.values import Domain, Opaque, State
from tcpspec.core.types import RecordType, Value


class Moves:
    """Each transition with the parameter values the search tries, and its compiled guard."""

    def __init__(self, model: ir.Model, searched: ir.Model, domain: Domain) -> None:
        self.model = model  # the searched model (opaque constants), guards as written
        self.items: list[tuple[ir.AnyTransition, ir.AnyTransition, list[dict[str, Value]], Test | None]] = []
        self.needs: list[list[tuple[str, str, frozenset[object]]]] = []  # per item: explicit_eval.necessary
        for t in searched.transitions:
            if isinstance(t, ir.NetworkTransition) and t.kind != "injection":
                combos: list[dict[str, Value]] = []  # positions: per state
                self.items.append((t, t, combos, None))
                continue
            names = [n for n, _ in t.params]
            per = [domain.choices(f"{t.name}.{n}", pt)[0] for n, pt in t.params]
            combos = [dict(zip(names, c)) for c in itertools.product(*per)]
            if isinstance(t, ir.Transition):
                # The guard is decided here (three-valued); `take` runs the receive and the body.
                free = replace(t, guard=ir.Lit(True, t.guard.type, t.guard.span))
                self.items.append((t, free, combos, decide(t.guard)))
            else:
                self.items.append((t, t, combos, None))
        needs = [necessary(t.guard) if isinstance(t, ir.Transition) else [] for t, _, _, _ in self.items]
        self.on_state = [[(name, ok) for where, name, ok in n if where == "var"] for n in needs]
        self.on_msg = [[(name, ok) for where, name, ok in n if where == "msg"] for n in needs]
        self.n = len(self.items)
        self.index = {t.name: i for i, (t, _, _, _) in enumerate(self.items)}
        # Per item: parameter values proposed for one state (explicit_probe.py), never tried by
        # `steps`; their codes follow the item's own combinations, so `again` takes them too.
        self.extras: list[list[dict[str, Value]]] = [[] for _ in self.items]

    def extra(self, ti: int, params: dict[str, Value]) -> int:
        """The code of item ti's step with these (proposed) parameter values."""
        self.extras[ti].append(params)
        return ti + self.n * (len(self.items[ti][2]) + len(self.extras[ti]) - 1)

    def steps(self, state: State) -> list[tuple[int, ir.AnyTransition, dict[str, Value], StepOutcome]]:
        """Every enabled step from `state`, with its code; range-violating ones included."""
        out: list[tuple[int, ir.AnyTransition, dict[str, Value], StepOutcome]] = []
        n = self.n
        for ti, (t, free, combos, guard) in enumerate(self.items):
            if any(state[v] not in ok for v, ok in self.on_state[ti]):
                continue
            if isinstance(t, ir.NetworkTransition) and t.kind != "injection":
                (pname, _), = t.params
                for i in range(len(state[t.channel.name])):  # type: ignore[arg-type]
                    params: dict[str, Value] = {pname: i}
                    outcome = take(t, state, params)
                    if outcome.enabled:
                        out.append((ti + n * i, t, params, outcome))
                continue
            msgs: dict[str, Value] = {}
            if isinstance(t, ir.Transition) and t.receive is not None:
                queue = state[t.receive[1].name]
                if not queue:
                    continue
                head = queue[0]  # type: ignore[index]
                if any(head[f] not in ok for f, ok in self.on_msg[ti]):  # type: ignore[index]
                    continue
                msgs = {t.receive[0]: head}
            for ci, params in enumerate(combos):
                if guard is not None and not guard(Env(pre=state, params=params, msgs=msgs)):
                    continue
                outcome = take(free, state, params)
                if outcome.enabled:
                    out.append((ti + n * ci, t, params, outcome))
        return out

    def again(self, state: State, code: int) -> tuple[ir.AnyTransition, dict[str, Value], StepOutcome]:
        """The step with this code from `state` (rebuilding a trace)."""
        ti, ci = code % self.n, code // self.n
        t, free, combos, _ = self.items[ti]
        if isinstance(t, ir.NetworkTransition) and t.kind != "injection":
            position: dict[str, Value] = {t.params[0][0]: ci}
            return t, position, take(t, state, position)
        params = combos[ci] if ci < len(combos) else self.extras[ti][ci - len(combos)]
        return t, params, take(free, state, params)


def canonical(model: ir.Model) -> Callable[[State], int]:
    """The 64-bit hash of a state's canonical tuple (records and channels as tuples). Records
    list their fields in declaration order (the interpreter builds them so)."""
    def nested(t: object) -> bool:
        return isinstance(t, RecordType) and any(isinstance(ft, RecordType) for _, ft in t.fields)

    scalars = [v.name for v in model.state_vars if not isinstance(v.type, RecordType)]
    others = [v.name for v in model.state_vars if isinstance(v.type, RecordType)]
    plain_chans = [c.name for c in model.channels if not nested(c.message)]
    others += [c.name for c in model.channels if nested(c.message)]

    def key(state: State) -> int:
        return hash((tuple([state[k] for k in scalars]),
                     tuple([tuple([tuple(m.values()) for m in state[k]]) for k in plain_chans]),  # type: ignore[union-attr]
                     tuple([flat(state[k]) for k in others])))
    return key


def concrete(v: object) -> object:
    """A value with every opaque value replaced by the value a trace shows for it."""
    if isinstance(v, Opaque):
        return v.value
    if isinstance(v, dict):
        return {k: concrete(x) for k, x in v.items()}
    if isinstance(v, list):
        return [concrete(x) for x in v]
    return v


def sequence_of(run: Sequence[tuple[State, object, dict[str, Value], StepOutcome | None]]) -> list[State]:
    return [concrete(st) for st, _, _, _ in run]  # type: ignore[misc]
