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

import sys as _sys
import types as _types  # not `types`: the submodule tcpspec.types takes that name here once imported
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

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


def _forward_calls(module: str, name: str) -> None:
    """Make the submodule `module` (tcpspec.diff, tcpspec.simulate, tcpspec.export) callable as
    the public function `name`. Importing a submodule binds `tcpspec.<name>` to it, which would
    shadow the function of the same name; callable, it means the same either way."""

    class _Forwarding(_types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return __getattr__(name)(*args, **kwargs)

    _sys.modules[module].__class__ = _Forwarding


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
