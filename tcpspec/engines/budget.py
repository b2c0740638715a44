"""A property's wall-clock budget (`--timeout`). Its own module, without z3, so that the
portfolio's parent process (engines/portfolio.py), which imports no solver, keeps the same clock
as the engines it starts."""

from __future__ import annotations

import time


class Budget:
    """Per-property wall-clock budget; `None` seconds means no limit."""

    def __init__(self, seconds: float | None):
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def remaining_ms(self) -> int | None:
        if self.deadline is None:
            return None
        return max(1, int((self.deadline - time.monotonic()) * 1000))

    def seconds_left(self, floor: float = 1.0) -> float | None:
        """What is left of this budget, at least `floor` seconds: the timeout of the next stage
        of a search (None: no limit)."""
        return None if self.deadline is None else max(floor, self.deadline - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def capped(self, seconds: float) -> Budget:
        """This budget, but at most `seconds` from now (one query of a longer search)."""
        left = self.remaining_ms()
        return Budget(seconds if left is None else min(seconds, left / 1000))
