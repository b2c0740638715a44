"""Worker processes that are safe from any caller: a CLI, a plain script without an
`if __name__ == "__main__":` guard, a notebook cell, a pytest test.

The engines' worker processes are started fresh ("spawn"), never forked: a fork would copy the
parent's Z3 context, whose state changes how the child's solver searches, and would copy the
locks of whatever threads the caller runs (a notebook's kernel has several). But a spawned
child normally runs the caller's main script again first (multiprocessing's "safe importing of
main module"); in a script without the guard, that re-runs the user's check inside the child,
which then crashes while starting its own workers. Our workers need nothing from the caller's
`__main__`: their targets and arguments are tcpspec's own functions and dataclasses. So the
context below starts them with the main module hidden for the moment of the start: the child
is told of no main script to import, and runs only tcpspec code.

`fresh_z3_context` is for code that runs several independent checks in one process (the gate's
serial jobs and its pool workers): each check starts from a new default Z3 context, as a run of
`tcpspec check` does.
"""

from __future__ import annotations

import signal
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import SpawnContext, SpawnProcess

# Replaces sys.modules["__main__"] while a worker starts: no `__file__` and `__spec__` None, so
# multiprocessing records no main module for the child to import.
_NO_MAIN = types.ModuleType("__main__", "stands in for the caller's main module while a tcpspec worker starts")
_swapping = threading.Lock()


@contextmanager
def _main_hidden() -> Iterator[None]:
    with _swapping:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = _NO_MAIN
        try:
            yield
        finally:
            if main is None:
                del sys.modules["__main__"]
            else:
                sys.modules["__main__"] = main


class _WorkerProcess(SpawnProcess):
    """A spawned process that does not import the caller's main module.

    It starts with SIGINT blocked (the mask is inherited through fork and exec) and unblocks it
    in `run`, once Python, its site hooks and the worker's modules are loaded: a Ctrl-C to the
    whole process group that comes while the child is still starting waits until the worker can
    take it, instead of printing a traceback from the middle of an import. Blocked, not ignored:
    the signal stays pending, so the worker still stops and reports."""

    def start(self) -> None:
        if not hasattr(signal, "pthread_sigmask"):
            with _main_hidden():
                super().start()
            return
        before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        self._unblock_sigint = signal.SIGINT not in before  # read by the child, in `run`
        try:
            with _main_hidden():
                super().start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)

    def run(self) -> None:
        from tcpspec.solving import interrupts

        interrupts.install()
        if getattr(self, "_unblock_sigint", False):
            try:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            except KeyboardInterrupt:
                return  # Ctrl-C came while it started: nothing to report, and no traceback
        super().run()


class WorkerContext(SpawnContext):
    """multiprocessing's spawn context, with `_WorkerProcess` as its Process (also for a
    `ProcessPoolExecutor(mp_context=...)`, which starts its workers through it)."""

    Process = _WorkerProcess


def worker_context() -> WorkerContext:
    return WorkerContext()


def exit_text(code: int | None) -> str:
    """How a worker process ended, for a person: "exit code 1", "killed by SIGKILL"."""
    import signal

    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def fresh_z3_context() -> None:
    """A new default Z3 context for the next check in this process: Z3's search depends on
    everything its context has seen, so independent checks must not share one."""
    import z3

    z3.z3._main_ctx = None  # z3py has no public call for this; main_ctx() makes a new one
