"""Ctrl-C stops a running Z3 query at once, and is never lost.

Z3's own handler (its `ctrl_c` parameter, on by default) replaces Python's SIGINT handler for
the length of each query and cancels the query; Python never hears of the signal. When the query
ends on its own just as the signal comes (a sat or unsat found, a cancel Z3 then resets), the
answer comes back as if nothing had happened: the interrupt is lost, and a BMC run deepens on
for as long as it likes. So Z3's `ctrl_c` is off for the whole process (`install`), SIGINT
stays Python's, and its C-level handler, which runs at once even while Z3 holds the main thread,
writes the signal's number to a wakeup socket (`signal.set_wakeup_fd`). A daemon thread reads
it and interrupts every Z3 context with a query running (`asking`). The query returns, and the
main thread raises the KeyboardInterrupt its handler was told of: Python's own, with
everything that already handles it. SIGTERM, which the CLI turns into Ctrl-C, interrupts the
same way.

Python can lose the KeyboardInterrupt itself: its handler runs at the next bytecode, and when
that is inside a finalizer (z3's `AstRef.__del__`, run by the garbage collector) the exception is
printed as "Exception ignored" and dropped. So the watcher also remembers the signal, and
`query.check` raises it before and after every query (`raise_if_pending`), as long as SIGINT
is still Python's plain KeyboardInterrupt (a gate worker's own handler decides for itself).

The wakeup fd is one per process and belongs to the main thread; an event loop (the language
server's) may own it, and then nothing is installed: its queries are short.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import z3

from tcpspec.solving.budget import raised_by_handler

if TYPE_CHECKING:
    from sys import UnraisableHookArgs

_lock = threading.Lock()
_asking: dict[int, tuple[z3.Context, int]] = {}  # id(ctx) -> (ctx, queries running in it)
_installed = False
_wakeup: tuple[socket.socket, socket.socket] | None = None  # kept open for the process's life
# After a stop signal the contexts that were asking are interrupted again until their query
# ends: one that was about to start when the signal came had nothing yet to interrupt.
REPEAT_SECONDS = 0.05
REPEAT_FOR_SECONDS = 3.0
_STOPS = {int(s) for s in (signal.SIGINT, getattr(signal, "SIGTERM", signal.SIGINT))}


_pending = False  # a stop signal came that no raise_if_pending has turned into KeyboardInterrupt yet
_stopped = False  # a stop signal came in this process


def reset() -> None:
    """A new run starts: an interrupt of an earlier one (a notebook's Ctrl-C) is spent."""
    global _pending, _stopped
    _pending = _stopped = False


def raise_if_pending() -> None:
    """Raise the KeyboardInterrupt of a stop signal that Python may have dropped (see above)."""
    global _pending
    if _pending and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        _pending = False
        raise KeyboardInterrupt


def is_interrupt(e: BaseException) -> bool:
    """The user's Ctrl-C, however it came back (see budget.raised_by_handler)."""
    return raised_by_handler(e, KeyboardInterrupt)


def _unraisable(previous: Callable[[UnraisableHookArgs], object]) -> Callable[[UnraisableHookArgs], object]:
    """sys.unraisablehook: a KeyboardInterrupt Python dropped in a finalizer is remembered (not
    printed as a traceback), and so is the error of a Z3 object that an interrupt cut short in
    its constructor and that cannot free itself."""

    def hook(u: UnraisableHookArgs) -> object:
        global _pending, _stopped
        if u.exc_value is not None and is_interrupt(u.exc_value):
            _pending = _stopped = True
            return None
        if _stopped and str(getattr(u.object, "__module__", "")).startswith("z3"):
            return None
        return previous(u)

    return hook


@contextmanager
def asking(ctx: z3.Context) -> Iterator[None]:
    """A query runs in `ctx` meanwhile: a Ctrl-C interrupts it."""
    install()
    key = id(ctx)
    with _lock:
        _, n = _asking.get(key, (ctx, 0))
        _asking[key] = (ctx, n + 1)
    try:
        yield
    finally:
        with _lock:
            _, n = _asking[key]
            if n <= 1:
                del _asking[key]
            else:
                _asking[key] = (ctx, n - 1)


def install() -> None:
    """Start the watcher, once per process, from the main thread (elsewhere: not yet), and turn
    Z3's handler off for every call (checks, simplify, tactics, Spacer)."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    with _lock:
        if _installed:
            return
        _installed = True  # once, whatever happens below: never a hook wrapped per query
        reader, writer = socket.socketpair()
        writer.setblocking(False)
        try:
            old = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        except ValueError:  # not the main interpreter
            old = None
        if old != -1:  # not ours (an event loop owns it): give it back, and leave Z3's handler on
            if old is not None:
                signal.set_wakeup_fd(old)
            reader.close()
            writer.close()
            return
        global _wakeup
        _wakeup = (reader, writer)
    # Only with the watcher running may Z3's own handler go: else nothing would stop a query.
    z3.set_param("ctrl_c", False)
    sys.unraisablehook = _unraisable(sys.unraisablehook)
    threading.Thread(target=_watch, args=(reader,), name="tcpspec-interrupts", daemon=True).start()


def _watch(reader: socket.socket) -> None:
    while True:
        try:
            data = reader.recv(64)
        except OSError:
            return
        if not data:
            return
        if _STOPS & set(data):
            global _pending, _stopped
            _pending = _stopped = True
            _interrupt_asking()


def _interrupt_asking() -> None:
    with _lock:
        keys = set(_asking)
    waited = 0.0
    while keys and waited < REPEAT_FOR_SECONDS:
        with _lock:
            contexts = [_asking[k][0] for k in keys if k in _asking]
            keys = {k for k in keys if k in _asking}
        for ctx in contexts:
            ctx.interrupt()
        time.sleep(REPEAT_SECONDS)
        waited += REPEAT_SECONDS
