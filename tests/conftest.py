"""Test-wide settings: the proof cache is off (a test that wants it turns it on in a temp dir),
so that no test reads what an earlier run left in the user's cache."""

import os

os.environ["TCPSPEC_NO_CACHE"] = "1"
