"""A run's budgets: a property's wall-clock time (`--timeout`) and the solver's memory
(`--memory-limit`). Its own module, without z3 at import, so that the portfolio's parent process
(engines/portfolio.py), which imports no solver, keeps the same clock as the engines it starts;
and so that the run layer (run/pipeline.py) can bound the solver's memory without importing
the solver itself."""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# How long past its timeout an engine may run before it is stopped from outside: a query's own
# timeout is Z3's and is kept to within a second or so; what is not a query (building the
# encoding, symmetry and interleaving analyses, lemma generation) is not watched by it. A stop
# loses what the engine has not returned yet, so it comes late: 2 s and a quarter of the timeout.
GRACE_SECONDS = 2.0


def grace(seconds: float) -> float:
    return GRACE_SECONDS + seconds / 4


class DeadlinePassed(BaseException):
    """An engine ran past its timeout and the grace after it (`hard_deadline`). Not an Exception:
    an engine's `except Exception` (a failed lemma, a prover error) must not take it for its own."""


def raised_by_handler(e: BaseException, kind: type[BaseException]) -> bool:
    """Whether `e` is, or was raised while handling, a `kind` that a signal handler raised (the
    deadline's, or Ctrl-C's KeyboardInterrupt). A handler that runs while ctypes converts an
    argument for Z3 comes back as ctypes.ArgumentError naming the exception: it is the signal
    all the same, not a bug to report."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, kind) or (isinstance(cur, ctypes.ArgumentError) and kind.__name__ in str(cur)):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


@contextmanager
def hard_deadline(seconds: float | None) -> Iterator[None]:
    """Raise DeadlinePassed in this thread once `seconds` and their `grace` have passed: the time
    spent building an encoding counts against --timeout too (`-D CAP=64 --timeout 5` ran 40 s
    of BMC, 66 s of k-induction and 10 minutes of PDR). Only in the main thread (SIGALRM);
    elsewhere, and without a timeout, it does nothing."""
    if seconds is None or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise DeadlinePassed

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds + grace(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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


@contextmanager
def solver_memory_limit(memory_mb: int | None) -> Iterator[None]:
    """Z3's memory limit (`--memory-limit`) while the block runs, then none again: the limit is
    process-wide, and the next check in this process (the gate's, a test's) must not inherit it.
    Without a limit it does nothing, and z3 is not imported."""
    if memory_mb is None:
        yield
        return
    import z3

    z3.set_param("memory_max_size", memory_mb)
    try:
        yield
    finally:
        z3.set_param("memory_max_size", 0)  # 0: no limit, Z3's default
