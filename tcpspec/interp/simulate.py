"""Random runs of a model on the explicit interpreter (`tcpspec simulate`), for exploring a
model while writing it. The same seed gives the same run."""

from __future__ import annotations

import random

from tcpspec.interp import semantics as interp

from tcpspec.checker import ir
from tcpspec.core.results import steps as plural_steps
from tcpspec.core.trace import Trace, TraceStep, changed_keys


def simulate(model: ir.Model, steps: int, seed: int = 0) -> tuple[Trace, str]:
    """A run of up to `steps` transitions, each chosen uniformly among the enabled (transition,
    parameters) pairs (wide parameter domains are sampled, as the interpreter's search does);
    the second value says why it stopped early ("" if it did not)."""
    rng = random.Random(seed)
    inits = interp.initial_states(model)
    if not inits:
        return Trace([]), "the model has no initial state"
    state = rng.choice(inits)
    trace = Trace([TraceStep(index=0, state=dict(state))])
    for i in range(1, steps + 1):
        options = [s for s in interp.successors(model, state)
                   if s.outcome.state is not None and s.outcome.range_ok]
        if not options:
            return trace, f"deadlock after {plural_steps(i - 1)}: no transition is enabled"
        step = rng.choice(options)
        after = step.outcome.state
        assert after is not None
        trace.steps.append(TraceStep(
            index=i, state=dict(after), transition=step.transition.name, params=dict(step.params),
            changed=changed_keys(state, after), received=list(step.outcome.received), sent=list(step.outcome.sent),
        ))
        state = after
    return trace, ""

