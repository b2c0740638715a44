"""Translations of a checked model for other tools: Promela (SPIN) and SMT-LIB 2.

`tcpspec.export(model, to=...)` is also the public API's call (tcpspec/api.py). Once this
package is imported, Python's import system binds `tcpspec.export` to the package itself, so the
package is made callable and forwards to that function: `tcpspec.export(...)` means the same
before and after.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> str:
        from tcpspec.api import export

        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
