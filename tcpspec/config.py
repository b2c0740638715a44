"""Project configuration for `tcpspec ci`: `tcpspec.toml`, or `[tool.tcpspec]` in pyproject.toml.

    [tool.tcpspec]                 # in tcpspec.toml: the same keys at the top level
    engine = "auto"                # defaults for every model: engine, depth, timeout, theory
    depth = 12                     # default: each model's `depth` declarations, else 20
    jobs = 2                       # worker processes (default: the number of cores)
    junit = "reports/tcpspec.xml"  # optional report files
    sarif = "reports/tcpspec.sarif"

    [[tool.tcpspec.models]]
    path = "models/seed_handshake.tcpspec"
    properties = ["client.syn_ack_rule"]   # default: all
    kinds = ["invariant", "step"]          # default: all
    depth = 20                             # overrides the default above
    defines = { MSS = 4 }                  # like -D MSS=4

Every key is checked; a typo is an error naming the file and the key, not a silently ignored
setting. Paths are relative to the file's directory.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

from tcpspec.diagnostics import UsageError
from tcpspec.engines import registry
from tcpspec.gate import ModelSpec
from tcpspec.options import DEFAULT_ENGINE, KINDS, THEORIES, CheckOptions
_TOP = {"engine", "depth", "timeout", "theory", "keep_going", "jobs", "junit", "sarif", "models"}
_MODEL = {"path", "properties", "kinds", "depth", "timeout", "engine", "theory", "keep_going", "defines"}


@dataclass
class ProjectConfig:
    file: str
    models: list[ModelSpec]
    jobs: int | None = None
    junit: str | None = None
    sarif: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def find_config(start: str = ".") -> str | None:
    """`tcpspec.toml` in `start`, else a pyproject.toml there that has `[tool.tcpspec]`."""
    own = os.path.join(start, "tcpspec.toml")
    if os.path.isfile(own):
        return own
    py = os.path.join(start, "pyproject.toml")
    if os.path.isfile(py):
        try:
            with open(py, "rb") as f:
                if "tcpspec" in tomllib.load(f).get("tool", {}):
                    return py
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            return py  # let load_config report the problem
    return None


def _fail(file: str, where: str, what: str) -> UsageError:
    return UsageError(f"{file}: {where}: {what}")


def _check_keys(file: str, where: str, table: dict[str, Any], allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            raise _fail(file, where, f"unknown key '{key}' (known: {', '.join(sorted(allowed))})")


def _typed(file: str, where: str, table: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise _fail(file, f"{where}.{key}", f"expected {name}, got {value!r}")
    return value


def _choice(file: str, where: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _fail(file, where, f"'{value}' is not one of {', '.join(allowed)}")
    return value


def load_config(file: str) -> ProjectConfig:
    try:
        with open(file, "rb") as f:
            doc = tomllib.load(f)
    except OSError as e:
        raise UsageError(f"cannot read {file}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"{file}: not valid TOML: {e}") from None
    section = "tool.tcpspec" if os.path.basename(file) == "pyproject.toml" else "(top level)"
    table = doc.get("tool", {}).get("tcpspec") if section == "tool.tcpspec" else doc
    if not isinstance(table, dict):
        raise _fail(file, section, "no [tool.tcpspec] table")
    _check_keys(file, section, table, _TOP)
    base = os.path.dirname(os.path.abspath(file))
    defaults = {
        "engine": _choice(file, f"{section}.engine", _typed(file, section, table, "engine", str, DEFAULT_ENGINE),
                          registry.names()),
        "depth": _typed(file, section, table, "depth", int, None),  # None: the model's own (`depth`)
        "timeout": _timeout(file, section, _typed(file, section, table, "timeout", (int, float), None)),
        "theory": _choice(file, f"{section}.theory", _typed(file, section, table, "theory", str, "auto"), THEORIES),
        "keep_going": _typed(file, section, table, "keep_going", bool, False),
    }
    if defaults["depth"] is not None and defaults["depth"] < 0:
        raise _fail(file, f"{section}.depth", "must be >= 0")
    entries = _typed(file, section, table, "models", list, None)
    if not entries:
        raise _fail(file, section, "no models: add [[models]] entries with a `path`")
    specs = []
    for i, entry in enumerate(entries):
        where = f"{section}.models[{i}]"
        if not isinstance(entry, dict):
            raise _fail(file, where, "expected a table with a `path`")
        _check_keys(file, where, entry, _MODEL)
        path = _typed(file, where, entry, "path", str, None)
        if path is None:
            raise _fail(file, where, "missing `path`")
        props = _typed(file, where, entry, "properties", list, [])
        kinds = _typed(file, where, entry, "kinds", list, [])
        for k in kinds:
            _choice(file, f"{where}.kinds", str(k), KINDS)
        defines = _typed(file, where, entry, "defines", dict, {})
        depth = _typed(file, where, entry, "depth", int, defaults["depth"])
        if depth is not None and depth < 0:
            raise _fail(file, f"{where}.depth", "must be >= 0")
        engine = _choice(file, f"{where}.engine", _typed(file, where, entry, "engine", str, defaults["engine"]),
                         registry.names())
        specs.append(ModelSpec(
            path=os.path.normpath(os.path.join(base, path)),
            defines=tuple((str(k), _define_text(v)) for k, v in defines.items()),
            options=CheckOptions(
                properties=tuple(str(p) for p in props),
                kinds=tuple(str(k) for k in kinds),
                depth=depth,
                timeout=_timeout(file, where, _typed(file, where, entry, "timeout", (int, float), defaults["timeout"])),
                engine=engine,
                theory=_choice(file, f"{where}.theory", _typed(file, where, entry, "theory", str, defaults["theory"]),
                               THEORIES),
                keep_going=_typed(file, where, entry, "keep_going", bool, defaults["keep_going"]),
            ),
        ))
    jobs = _typed(file, section, table, "jobs", int, None)
    if jobs is not None and jobs < 1:
        raise _fail(file, f"{section}.jobs", "must be >= 1")
    rel = lambda p: None if p is None else os.path.normpath(os.path.join(base, p))  # noqa: E731
    return ProjectConfig(file, specs, jobs, rel(_typed(file, section, table, "junit", str, None)),
                         rel(_typed(file, section, table, "sarif", str, None)))


def _timeout(file: str, where: str, value: float | None) -> float | None:
    """Seconds, as `check --timeout` takes them: positive and finite."""
    if value is not None and not (0 < value < 10**9):
        raise _fail(file, f"{where}.timeout", "must be a positive number of seconds (below 10^9)")
    return value


def _define_text(value: Any) -> str:
    """TOML values as `-D` text: true/false, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
