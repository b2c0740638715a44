"""Runs of a model in model values: what engines produce and renderers show.

A `Trace` is engine-independent: BMC, the provers, the interpreter and replay all speak it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tcpspec.core.types import Value


@dataclass
class TraceStep:
    """State `index` of a run, and the transition that led to it (None for the initial state).

    `state` maps every state variable (`client.state`) to its value and every channel (`c2s`)
    to the list of its messages, head first.
    """

    index: int
    state: dict[str, Value | list[Value]]
    transition: str | None = None
    params: dict[str, Value] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    received: list[tuple[str, Value]] = field(default_factory=list)  # (channel, message)
    sent: list[tuple[str, Value]] = field(default_factory=list)


@dataclass
class Trace:
    """A run: `steps[0]` is the initial state; `len(steps) - 1` transitions were taken.

    `loop` is set for lasso-shaped runs (liveness): the last state continues as `steps[loop]`.
    """

    steps: list[TraceStep]
    loop: int | None = None

    @property
    def length(self) -> int:
        return len(self.steps) - 1


# The counterexample of a violated property and the witness of a reached target are both runs.
Counterexample = Trace


def changed_keys(before: dict[str, Value | list[Value]], after: dict[str, Value | list[Value]]) -> list[str]:
    """Keys whose value differs between two states, in `after`'s order."""
    return [k for k, v in after.items() if before.get(k) != v]
