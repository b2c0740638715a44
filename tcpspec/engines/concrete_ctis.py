"""Counterexamples to induction found by the interpreter, to spare Houdini solver rounds.

Houdini may drop a candidate c whenever some state s satisfies every candidate still alive and
a step s -> s' breaks c: no inductive subset of the candidates contains c (s satisfies the
subset and s' leaves it). Each Z3 counterexample gives one such s, and on tcp.tcpspec one model
falsifies only 1-3 of ~1000 candidates, so phase 1 took ~310 solver rounds. From that s the
interpreter takes every step (`interp.successors`) and drops what each successor s' breaks;
s' then satisfies every candidate left, so it is such a state in turn and the search goes on
from it, breadth first, within a small budget.

Sound whatever the interpreter does: a drop only weakens the candidate set, and the survivors
are proved inductive by the solver (Houdini's last round, then the certificate's re-check).
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass

from tcpspec.interp import semantics as interp

from tcpspec.interp import values

from tcpspec.checker import ir
from tcpspec.engines.lemmas import CandidateEvaluator
from tcpspec.core.trace import Trace, TraceStep, changed_keys
from tcpspec.core.types import Value

State = dict[str, Value | list[Value]]


@dataclass
class ConcreteCti:
    """One step that breaks candidates: `pre` satisfied every candidate alive at the time."""

    broken: set[Hashable]
    pre: State
    step: interp.Step

    def trace(self) -> Trace:
        post = self.step.outcome.state
        assert post is not None
        return Trace([
            TraceStep(index=0, state=self.pre),
            TraceStep(index=1, state=post, transition=self.step.transition.name, params=dict(self.step.params),
                      changed=changed_keys(self.pre, post), received=self.step.outcome.received,
                      sent=self.step.outcome.sent),
        ])


def explore(
    model: ir.Model, start: State, evaluator: CandidateEvaluator, alive: set[Hashable],
    seconds: float, max_states: int,
) -> list[ConcreteCti]:
    """Breadth first from `start` (a state satisfying every candidate in `alive`), the steps that
    break candidates; `alive` loses them as they are found. Stops after `max_states` expanded
    states or `seconds` of this process's CPU time (not the clock's: the same drops, and so the
    same rounds, on a busy machine as on an idle one); [] (and `alive` untouched by the failing
    step) on interpreter trouble."""
    deadline = time.process_time() + seconds
    found: list[ConcreteCti] = []
    frontier = [start]
    seen = {values.freeze(start)}
    expanded = 0
    try:
        while frontier and expanded < max_states and time.process_time() < deadline and alive:
            state = frontier.pop(0)
            expanded += 1
            for step in interp.successors(model, state):
                post = step.outcome.state
                if not step.outcome.range_ok or post is None:
                    continue
                broken = evaluator.broken(post, alive)
                if broken:
                    alive -= broken
                    found.append(ConcreteCti(broken, state, step))
                image = values.freeze(post)
                if image not in seen:
                    seen.add(image)
                    frontier.append(post)
    except (values.InterpError, KeyError, TypeError, ValueError):
        pass  # what was found before the trouble stands: each drop had its own witness step
    return found

