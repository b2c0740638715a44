"""tcpspec: a formal protocol model checker with a TCP model at its heart.

    import tcpspec

    report = tcpspec.check("models/tcp.tcpspec")      # or tcpspec.check(tcpspec.load(path_or_text))
    print(report.to_text())
    assert report.ok

`load`, `check`, `replay`, `diff`, `simulate` and `export` are the library's calls, with typed
results (`Report`, `Result`, `Trace`, `Verdict`); see tcpspec/api.py. `tcpspec.testing` has pytest
helpers (`assert_proves`, `assert_violated`). Importing tcpspec is cheap: the API, and with it
the parser and Z3, load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tcpspec.core.version import __version__

if TYPE_CHECKING:
    from tcpspec.api import (
        EngineError,
        Model,
        ModelError,
        Replay,
        Report,
        Result,
        Trace,
        UsageError,
        Verdict,
        check,
        diff,
        export,
        load,
        replay,
        simulate,
    )

__all__ = ["EngineError", "Model", "ModelError", "Replay", "Report", "Result", "Trace", "UsageError", "Verdict",
           "__version__", "check", "diff", "export", "load", "replay", "simulate"]


def __getattr__(name: str) -> Any:
    """The public names, imported from tcpspec.api when first asked for (PEP 562)."""
    if name in __all__ and name != "__version__":
        from tcpspec import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tcpspec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
