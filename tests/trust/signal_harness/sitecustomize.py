"""Loaded by every Python process of a run under test (PYTHONPATH), spawned workers included,
when TCPSPEC_TEST_MARK is set: the explicit head start is off, the prover never answers, and BMC, once it has found the results
named in TCPSPEC_TEST_FOUND, creates the file TCPSPEC_TEST_MARK and waits there.
A test then interrupts a run whose BMC has found something and is still searching
(tests/trust/test_signals.py)."""

import os

MARK = os.environ.get("TCPSPEC_TEST_MARK")

if MARK:
    import time

    from tcpspec.engines import bmc, portfolio

    WANTED = set(os.environ.get("TCPSPEC_TEST_FOUND", "").split(","))

    def _stuck_prover(*args: object, **kwargs: object) -> None:
        try:
            time.sleep(3600)
        except KeyboardInterrupt:  # as the real prover's worker does
            pass

    _deepen = bmc._deepen

    def _deepen_then_wait(track, ts, depth, keep_going, results):  # type: ignore[no-untyped-def]
        stop = _deepen(track, ts, depth, keep_going, results)
        if WANTED <= set(results):
            open(MARK, "a").close()
            time.sleep(3600)
        return stop

    portfolio._prover_worker = _stuck_prover
    portfolio.EXPLICIT_FIRST = False  # else the explicit search decides this small model before BMC starts
    bmc._deepen = _deepen_then_wait
