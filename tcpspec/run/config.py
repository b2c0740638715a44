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
from dataclasses import dataclass, field
from typing import Any

from tcpspec.core.diagnostics import UsageError
from tcpspec.engines import registry
from tcpspec.run.gate import ModelSpec
from tcpspec.core.inputs import MAX_CONFIG_BYTES, MAX_DEPTH, MAX_JOBS, MAX_SECONDS, InputRefused, load_toml, read_bytes
from tcpspec.core.options import DEFAULT_ENGINE, KINDS, THEORIES, CheckOptions
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
            tool = load_toml(read_bytes(py, MAX_CONFIG_BYTES, "configuration"), py).get("tool", {})
        except InputRefused:
            return py  # let load_config report the problem
        if isinstance(tool, dict) and "tcpspec" in tool:
            return py
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
    doc = load_toml(read_bytes(file, MAX_CONFIG_BYTES, "configuration"), file)
    section = "tool.tcpspec" if os.path.basename(file) == "pyproject.toml" else "(top level)"
    tool = doc.get("tool", {})
    table = (tool.get("tcpspec") if isinstance(tool, dict) else None) if section == "tool.tcpspec" else doc
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
    _depth(file, section, defaults["depth"])
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
        _depth(file, where, depth)
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
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise _fail(file, f"{section}.jobs", f"must be between 1 and {MAX_JOBS}")
    return ProjectConfig(file, specs, jobs, _report(file, section, base, _typed(file, section, table, "junit", str, None)),
                         _report(file, section, base, _typed(file, section, table, "sarif", str, None)))


def _depth(file: str, where: str, value: int | None) -> None:
    if value is not None and not 0 <= value <= MAX_DEPTH:
        raise _fail(file, f"{where}.depth", f"must be >= 0 and at most {MAX_DEPTH}")


def _report(file: str, where: str, base: str, path: str | None) -> str | None:
    """A report path of the configuration: inside the project (the configuration's directory),
    symlinks followed. A configuration comes with the checkout, and `tcpspec ci` in someone's
    clone must not overwrite their files elsewhere (`junit = "../../.bashrc"`); a report
    outside the project is the command line's to ask for (--junit, --sarif)."""
    if path is None:
        return None
    full = os.path.normpath(os.path.join(base, path))
    root = os.path.realpath(base)
    if os.path.commonpath([root, os.path.realpath(full)]) != root:
        raise _fail(file, where, f"the report '{path}' is outside the project directory {base} "
                                 "(name one inside it, or give --junit/--sarif on the command line)")
    return full


def _timeout(file: str, where: str, value: float | None) -> float | None:
    """Seconds, as `check --timeout` takes them: positive and finite."""
    if value is not None and not (0 < value < MAX_SECONDS):
        raise _fail(file, f"{where}.timeout", "must be a positive number of seconds (below 10^9)")
    return value


def _define_text(value: Any) -> str:
    """TOML values as `-D` text: true/false, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
