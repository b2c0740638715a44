"""Ctrl-C is never lost (solving/interrupts.py): not when Python drops the KeyboardInterrupt in
a finalizer, not when it comes while Z3 holds the main thread in a long query."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signals")

# A query Z3 takes minutes over (factoring a 90-bit number by bit-blasting), asked through
# query.check as every engine asks; the child reports how its run ended.
CHILD = textwrap.dedent('''
    import os, sys, time, z3
    from tcpspec.solving import interrupts
    from tcpspec.solving.budget import Budget
    from tcpspec.solving.query import check

    interrupts.install()
    x, y = z3.BitVec("x", 64), z3.BitVec("y", 64)
    s = z3.Solver()
    s.add(z3.ZeroExt(64, x) * z3.ZeroExt(64, y) == 2147483647 * 2147483629 * 1000003, z3.UGT(x, 1), z3.UGT(y, 1), z3.ULT(x, y))

    class Slow:
        def __del__(self):  # Python runs the SIGINT handler in here and drops its exception
            time.sleep(3)

    try:
        if sys.argv[1] == "finalizer":
            print("ready", flush=True)
            Slow()  # collected at once: the signal comes during its __del__
        else:
            print("ready", flush=True)
        check(s, [], Budget(None))
        print("answered", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
''')


def _run(mode: str) -> str:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    import time

    time.sleep(1.0)  # inside the finalizer, or inside the query
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the interrupt was lost: the query ran on")
    return out.strip()


def test_ctrl_c_stops_a_long_query() -> None:
    assert _run("query") == "interrupted"


def test_ctrl_c_dropped_in_a_finalizer_still_stops_the_next_query() -> None:
    assert _run("finalizer") == "interrupted"


def test_a_signal_raised_inside_a_ctypes_conversion_is_still_that_signal() -> None:
    import ctypes

    from tcpspec.solving.budget import DeadlinePassed, raised_by_handler
    from tcpspec.solving.interrupts import is_interrupt

    # What ctypes raises when a handler ran while it converted an argument (Z3's C API).
    wrapped = ctypes.ArgumentError("argument 2: DeadlinePassed: ")
    assert raised_by_handler(wrapped, DeadlinePassed)
    assert not is_interrupt(wrapped)
    assert is_interrupt(ctypes.ArgumentError("argument 1: KeyboardInterrupt: "))
    # An error raised while handling the signal is the signal too; an unrelated one is not.
    try:
        try:
            raise DeadlinePassed()
        except DeadlinePassed:
            raise RuntimeError("z3 gave up")
    except RuntimeError as chained:
        assert raised_by_handler(chained, DeadlinePassed)
    assert not raised_by_handler(ctypes.ArgumentError("argument 1: TypeError: wrong type"), DeadlinePassed)
    assert not raised_by_handler(ValueError("no"), KeyboardInterrupt)
