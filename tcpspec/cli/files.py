"""The files a command reads and writes beside its report: each input checked before any work,
and the traces, diagrams and certificates written one file per trace, named after the first."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from tcpspec.core.diagnostics import UsageError
from tcpspec.core.outputs import is_stream, write_output

if TYPE_CHECKING:
    from tcpspec.checker import ir
    from tcpspec.core.results import PropertyResult


def check_input_file(path: str, what: str = "a model", limit: int | None = None) -> None:
    """Turn a missing, unreadable, special or oversized input into one line before any work
    (a FIFO is refused, not waited on; see tcpspec/core/inputs.py for the limits)."""
    from tcpspec.core import inputs

    if not path:
        raise UsageError(f"empty file name: expected the path of {what}")
    if not os.path.exists(path):
        raise UsageError(f"no such file: {path}")
    if os.path.isdir(path):
        raise UsageError(f"is a directory, not {what}: {path}")
    inputs.check_readable(path, inputs.MAX_MODEL_BYTES if limit is None else limit, what)


def trace_file_names(base: str, props: list[str]) -> dict[str, str]:
    """The first trace goes to `base`; later ones get `.<property>` before the extension."""
    root, ext = (base[: -len(".itf.json")], ".itf.json") if base.endswith(".itf.json") else os.path.splitext(base)
    return {p: base if i == 0 else f"{root}.{p}{ext}" for i, p in enumerate(props)}


def json_text(doc: Any) -> str:
    return json.dumps(doc, indent=2) + "\n"


def write_certificate(path: str, results: list[PropertyResult]) -> bool:
    """The certificate of the proved results (one proof covers them all); False if none."""
    texts: list[str] = []
    for r in results:
        cert = getattr(r, "certificate", "")
        if cert and cert not in texts:
            texts.append(cert)
    if not texts:
        return False
    write_output(path, "\n".join(texts))
    return True


def write_traces(base: str, results: list[PropertyResult], source: str, model: ir.Model) -> dict[str, str]:
    from tcpspec.render.itf import result_to_itf

    with_trace = [r for r in results if r.trace is not None]
    return _write_per_trace(base, {r.property: json_text(result_to_itf(r, source, model)) for r in with_trace})


def _write_per_trace(base: str, texts: dict[str, str]) -> dict[str, str]:
    """One file per trace (`trace_file_names`); a FIFO, a device or standard output gets them
    all, one document after the other. The names written, by property."""
    if not texts:
        return {}
    if is_stream(base):
        write_output(base, list(texts.values()))
        return {p: base for p in texts}
    names = trace_file_names(base, list(texts))
    for p, t in texts.items():
        write_output(names[p], t)
    return names


def write_svgs(base: str, results: list[PropertyResult], model: ir.Model) -> dict[str, str]:
    from tcpspec.render.msc import build_chart, to_svg

    return _write_per_trace(base, {r.property: to_svg(build_chart(r.trace, r, model), f"{model.path}: {r.property} "
                                                       f"{r.verdict.value}")
                                   for r in results if r.trace is not None})
