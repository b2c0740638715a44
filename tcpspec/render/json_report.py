"""`--format json`: one document a CI script can read without parsing our text layout.

Keys promised to users (never remove): model, results[].{property, kind, verdict, engine,
depth, seconds, trace}. Everything else is extra. docs/schemas/report.schema.json describes the
whole document (a test validates real output against it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tcpspec.core.version import __version__
from tcpspec.render.itf import result_to_itf
from tcpspec.core.results import PropertyResult, Verdict, exit_code

if TYPE_CHECKING:
    from tcpspec.checker import ir

BOUNDED_VERDICTS = (Verdict.HOLDS, Verdict.UNREACHED)


def result_to_json(
    r: PropertyResult, source: str, model: ir.Model | None = None, trace_file: str | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "property": r.property,
        "kind": r.kind,
        "verdict": r.verdict.value,
        "engine": r.engine,
        "depth": r.depth,
        "seconds": round(r.seconds, 3),
        "trace": result_to_itf(r, source, model),
        "bounded": r.verdict in BOUNDED_VERDICTS,
        "doc": r.doc,
        "detail": r.detail,
        "trace_file": trace_file,
        "cti": _cti_to_itf(r, source, model),
    }
    if r.search is not None:  # engine explicit: states, diameter, exhaustive, the values sampled, ...
        doc["search"] = r.search
        doc["bounded"] = doc["bounded"] and not (r.search.get("complete") and r.search.get("exhaustive"))
    if r.traces:  # --max-cex: every trace, the first being "trace"
        doc["traces"] = [result_to_itf(replace(r, trace=t), source, model) for t in r.traces]
    return doc


def _cti_to_itf(r: PropertyResult, source: str, model: ir.Model | None) -> Any:
    """Not proved: the counterexample to induction, an ITF trace of one step (not a real run)."""
    if r.cti is None:
        return None
    from tcpspec.render.itf import trace_to_itf

    desc = f"counterexample to induction for {r.kind} {r.property}: not necessarily reachable"
    return trace_to_itf(r.cti, source=source, prop=r.property, verdict="cti", model=model, description=desc)


def summary_to_json(results: list[PropertyResult]) -> dict[str, Any]:
    """The counts the text report's grouped lines and summary line show: per verdict, and per
    verdict and kind (`{"proved": {"invariant": 13, "lemma": 80, ...}}`)."""
    kinds: dict[str, dict[str, int]] = {}
    for r in results:
        per = kinds.setdefault(r.verdict.value, {})
        per[r.kind] = per.get(r.kind, 0) + 1
    return {"properties": len(results), "verdicts": {v: sum(k.values()) for v, k in kinds.items()}, "kinds": kinds}


def report_to_json(
    source: str,
    results: list[PropertyResult],
    model: ir.Model | None = None,
    trace_files: dict[str, str] | None = None,
    interrupted: bool = False,
) -> dict[str, Any]:
    """The whole report; `trace_files` maps a property to the file its trace was written to."""
    files = trace_files or {}
    doc: dict[str, Any] = {
        "model": source,
        "tool": {"name": "tcpspec", "version": __version__},
        "results": [result_to_json(r, source, model, files.get(r.property)) for r in results],
        "summary": summary_to_json(results),
        "exit_code": 130 if interrupted else exit_code(results),
    }
    if interrupted:
        doc["interrupted"] = True
    return doc


def gate_to_json(run: Any, code: int) -> dict[str, Any]:
    """Several models in one document: every result carries its `"model"`; models that failed
    to load are listed under `"errors"` with their messages."""
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for report in run.reports:
        if report.error is not None:
            diags = getattr(report.error, "diagnostics", None) or []
            errors.append({
                "model": report.spec.path,
                "messages": [d.message for d in diags] or [str(report.error)],
                # where each message points (null when it has no position), as text and SARIF show
                "diagnostics": [{"message": d.message, "file": d.span.file if d.span else None,
                                 "line": d.span.line if d.span else None, "col": d.span.col if d.span else None}
                                for d in diags],
            })
            continue
        for r in report.results:
            doc = result_to_json(r, report.spec.path, report.model)
            results.append({"model": report.spec.path, **doc})
    doc: dict[str, Any] = {
        "models": [r.spec.path for r in run.reports],
        "tool": {"name": "tcpspec", "version": __version__},
        "results": results,
        "summary": summary_to_json([x for _, x in run.results]),
        "errors": errors,
        "exit_code": code,
    }
    if run.interrupted:
        doc["interrupted"] = True
    return doc
