"""What engines are given and what they hand each other, below every engine.

The registry (engines/registry.py) names the engines and imports them; an engine must not
import the registry, nor one engine another just for a type. So the call every engine receives
(`EngineCall`) and the portfolio's message from the explicit search to BMC (`HeadStart`) live
here, where every engine and the registry can import them without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tcpspec.core.options import DEFAULT_DEPTH, CheckOptions
from tcpspec.solving.budget import Budget

if TYPE_CHECKING:
    from tcpspec.checker import ir
    from tcpspec.core.results import PropertyResult
    from tcpspec.core.trace import Trace


@dataclass(frozen=True)
class EngineCall:
    """What every engine is given: the run's options (`depth` already resolved to this group's
    bound), the budget its `timeout` started, and where to send one-line progress texts."""

    options: CheckOptions
    budget: Budget
    on_progress: Callable[[str], None] | None = None

    @classmethod
    def start(cls, options: CheckOptions, on_progress: Callable[[str], None] | None = None) -> EngineCall:
        """The call for a run starting now: the budget's clock starts here."""
        return cls(options, Budget(options.timeout), on_progress)

    @property
    def depth(self) -> int:
        return DEFAULT_DEPTH if self.options.depth is None else self.options.depth

    @property
    def timeout(self) -> float | None:
        """The run's --timeout per property, as the user gave it (messages quote it); `budget`
        is its clock, started when the call was made (None: no limit)."""
        return self.options.timeout

    def progress(self, text: str) -> None:
        if self.on_progress is not None:
            self.on_progress(text)


EngineRun = Callable[["ir.Model", "list[ir.Property]", EngineCall], "list[PropertyResult]"]


@dataclass
class HeadStart:
    """What the explicit search tells the portfolio before BMC starts (engines/explicit.py
    `head_start`, engines/portfolio.py).

    `final`: verdicts for every value (the search was exhaustive): shortest violations and
    witnesses, and, when it saw every reachable state, proofs. `pending`: violations found with
    sampled values, reported once BMC has asked every shallower depth (or the timeout came).
    For BMC (engines/bmc.py): `cleared` -- per property, the depths searched for every value
    with nothing found, which BMC need not ask; `known` -- the runs of `pending` and of the
    targets reached with sampled values (real runs, replayed). `stop`: a final violation ends
    the run (without --keep-going)."""

    final: list[PropertyResult] = field(default_factory=list)
    pending: dict[str, PropertyResult] = field(default_factory=dict)
    cleared: dict[str, int] = field(default_factory=dict)
    known: dict[str, Trace] = field(default_factory=dict)
    stop: bool = False
    summary: str = ""
