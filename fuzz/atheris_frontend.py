"""Coverage-guided fuzzing of the front end with atheris (not run in CI: it runs until stopped).

    pip install atheris
    python fuzz/atheris_frontend.py -max_total_time=600 models/          # seeds: the real models

Any input must give a checked model or ModelError/UsageError whose diagnostics render; anything
else (a traceback, RecursionError, a hang caught by -timeout) is a bug. The hypothesis-based
fuzz tests in tests/trust/test_fuzz_frontend.py run a bounded version of this in CI.
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    from tcpspec.core.diagnostics import ModelError, UsageError, render_diagnostic
    from tcpspec.run.pipeline import load_model

_DIR = tempfile.mkdtemp(prefix="tcpspec-fuzz-")
_PATH = os.path.join(_DIR, "input.tcpspec")


def one_input(data: bytes) -> None:
    with open(_PATH, "wb") as f:
        f.write(data)
    try:
        load_model(_PATH)
    except ModelError as err:
        sources = dict(getattr(err, "sources", None) or {})
        assert err.diagnostics
        for d in err.diagnostics:
            render_diagnostic(d, sources)
    except UsageError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
