"""Reports CI systems read: JUnit XML and SARIF 2.1.0.

JUnit: one `<testsuite>` per model, one `<testcase>` per property (classname = the model file,
name = the property); a violated property or an unreached target is a `<failure>` whose text is
the trace table, an unknown verdict an `<error>`, a model that does not load one `<error>` test
case named `model`. SARIF: one result per failing property, located at the property's line in
the model file, with the counterexample as a code flow whose steps point at the transitions
that fired. Both are built with the standard library (ElementTree, json): the formats are small
and fixed, and a dependency would only wrap the same dictionary.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from tcpspec.core.version import __version__
from tcpspec.core.diagnostics import ModelError, render_diagnostic
from tcpspec.run.gate import GateRun, ModelReport
from tcpspec.render import text
from tcpspec.render.escape import printable, printable_doc
from tcpspec.core.results import PropertyResult, Verdict

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFO_URI = "https://github.com/tcpspec/tcpspec"


def _error_text(report: ModelReport) -> str:
    err = report.error
    if isinstance(err, ModelError):
        sources = dict(getattr(err, "sources", None) or {})
        return "\n".join(render_diagnostic(d, sources) for d in err.diagnostics) or "the model is invalid"
    return str(err)


def _result_text(r: PropertyResult, report: ModelReport) -> str:
    return "\n".join(text.render_result(r, len(r.property), report.model))  # type: ignore[arg-type]


# ---------------------------------------------------------------- JUnit


def junit_xml(run: GateRun) -> str:
    suites = ET.Element("testsuites", name="tcpspec")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for report in run.reports:
        suite = ET.SubElement(suites, "testsuite", name=report.spec.path)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        seconds = 0.0
        if report.error is not None:
            case = ET.SubElement(suite, "testcase", classname=report.spec.path, name="model", time="0")
            err = ET.SubElement(case, "error", message="the model could not be checked", type="model-error")
            err.text = _error_text(report)
            counts["tests"] += 1
            counts["errors"] += 1
        for r in report.results:
            seconds += r.seconds
            case = ET.SubElement(suite, "testcase", classname=report.spec.path, name=r.property, time=f"{r.seconds:.3f}")
            counts["tests"] += 1
            note = text.verdict_note(r)
            if r.failed:
                f = ET.SubElement(case, "failure", message=f"{r.verdict.value} {note}", type=r.verdict.value)
                f.text = _result_text(r, report)
                counts["failures"] += 1
            elif r.verdict is Verdict.UNKNOWN:
                e = ET.SubElement(case, "error", message=f"unknown {note}", type="unknown")
                e.text = _result_text(r, report)
                counts["errors"] += 1
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"{r.verdict.value} {note}"
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("time", f"{seconds:.3f}")
    for k, v in totals.items():
        suites.set(k, str(v))
    ET.indent(suites)
    # Doc comments, file names and messages may hold control characters: XML 1.0 has none.
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + printable(ET.tostring(suites, encoding="unicode")) + "\n"


# ---------------------------------------------------------------- SARIF


def _uri(path: str) -> str:
    """Relative paths stay relative (to the checkout, as code-scanning uploads expect);
    absolute ones become file:// URIs."""
    if os.path.isabs(path):
        return Path(path).as_uri()
    return path.replace(os.sep, "/")


def _location(path: str, line: int, col: int, message: str | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": _uri(path)},
            "region": {"startLine": max(1, line), "startColumn": max(1, col)},
        }
    }
    if message:
        loc["message"] = {"text": message}
    return loc


def _code_flow(r: PropertyResult, report: ModelReport) -> dict[str, Any] | None:
    model = report.model
    if r.trace is None or model is None:
        return None
    spans = {t.name: t.span for t in getattr(model, "transitions", []) if getattr(t, "span", None) is not None}
    prop = next((p for p in getattr(model, "properties", []) if p.name == r.property), None)
    steps = []
    prev = None
    for step in r.trace.steps:
        span = spans.get(step.transition or "") or (prop.span if prop is not None else None)
        details = text.step_details(prev, step, text.Names(model))
        msg = f"step {step.index}: {text.step_title(step)}" + (f" — {'; '.join(details)}" if details else "")
        prev = step
        if span is None:
            continue
        steps.append({"location": _location(span.file, span.line, span.col, msg)})
    if not steps:
        return None
    return {"threadFlows": [{"locations": steps}]}


def sarif_doc(run: GateRun) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for report in run.reports:
        if report.error is not None:
            err = report.error
            diags = list(getattr(err, "diagnostics", []) or [])
            d = next((d for d in diags if d.span is not None), None)
            rules.setdefault("model-error", {"id": "model-error", "shortDescription": {"text": "The model does not parse or type-check"}})
            res: dict[str, Any] = {"ruleId": "model-error", "level": "error", "message": {"text": _error_text(report)}}
            res["locations"] = [_location(d.span.file, d.span.line, d.span.col) if d is not None and d.span is not None
                                else {"physicalLocation": {"artifactLocation": {"uri": _uri(report.spec.path)}}}]
            results.append(res)
            continue
        model = report.model
        for r in report.results:
            if not (r.failed or r.verdict is Verdict.UNKNOWN):
                continue
            rule_id = f"{r.kind}/{r.property}"
            rules.setdefault(rule_id, {
                "id": rule_id, "name": r.property,
                "shortDescription": {"text": (r.doc.strip().splitlines() or [f"{r.kind} {r.property}"])[0]},
            })
            prop = next((p for p in getattr(model, "properties", []) if p.name == r.property), None)
            # The file that declares it: an import's, or a variant's base's, not always the model's.
            where, line, col = (prop.span.file, prop.span.line, prop.span.col) if prop is not None else (report.spec.path, 1, 1)
            res = {
                "ruleId": rule_id,
                "level": "error" if r.failed else "warning",
                "message": {"text": f"{r.property}: {r.verdict.value} {text.verdict_note(r)}"},
                "locations": [_location(where, line, col)],
            }
            flow = _code_flow(r, report)
            if flow is not None:
                res["codeFlows"] = [flow]
            results.append(res)
    return printable_doc({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tcpspec", "version": __version__, "informationUri": INFO_URI,
                                "rules": list(rules.values())}},
            "results": results,
        }],
    })
