"""Test-wide settings: the proof cache is off (a test that wants it turns it on in a temp dir),
so that no test reads what an earlier run left in the user's cache."""

import os
import signal

os.environ["TCPSPEC_NO_CACHE"] = "1"


import pytest

# A suite started in the background by a non-interactive shell (`.ci/run &`, some CI runners) has
# SIGINT ignored, and every process it starts inherits that: a tcpspec run then rightly ignores
# Ctrl-C too. The interrupt tests play a terminal's Ctrl-C, so the suite takes SIGINT back.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _fresh_z3_context():  # type: ignore[no-untyped-def]
    """Each test gets a new default Z3 context, as a user's run does: Z3's search depends on
    everything its context has seen, and after the ~700 tests before it the differential test
    took 123 s instead of 10 s. Terms of earlier tests keep their own context alive."""
    import z3

    z3.z3._main_ctx = None
    yield


# `@pytest.mark.slow`: a test that takes minutes runs only with TCPSPEC_LONG=1, so that CI's
# whole run stays within 15 minutes on a busy 2-core machine (the long runs are for a desk).
LONG = os.environ.get("TCPSPEC_LONG") == "1"


def pytest_configure(config):  # type: ignore[no-untyped-def]
    config.addinivalue_line("markers", "slow: runs only with TCPSPEC_LONG=1 (minutes, not seconds)")


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    if LONG:
        return
    skip = pytest.mark.skip(reason="slow: run with TCPSPEC_LONG=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
