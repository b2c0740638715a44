"""Several models in one run, the CI gate: `tcpspec ci` (the project configuration) and `tcpspec
check` with several models or a JUnit/SARIF report. The checks run in worker processes
(tcpspec/run/gate.py); this module streams each model's text report and writes the reports."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from tcpspec.cli.args import add_gate_options, check_options, file_name, parse_defines
from tcpspec.cli.exit_codes import EXIT_INTERRUPTED
from tcpspec.cli.files import check_input_file, json_text
from tcpspec.cli.output import one_line, say_internal_errors
from tcpspec.cli.progress import ProgressLine, progress_shown
from tcpspec.core.diagnostics import ModelError, UsageError, error_sources, render_diagnostic
from tcpspec.core.outputs import check_writable, write_output


def add_ci_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ci = sub.add_parser(
        "ci",
        help="run the checks of the project configuration (tcpspec.toml or [tool.tcpspec])",
        description="Check every model listed in tcpspec.toml, or in pyproject.toml under "
                    "[tool.tcpspec], found in the current directory (or --config FILE).",
        epilog="exit codes: 2 if any model or usage error, else 1 if any property is violated or "
               "unreached, else 3 if any verdict is unknown, else 0; 130 when interrupted.",
    )
    ci.add_argument("--config", metavar="FILE", default=None, type=file_name,
                    help="the configuration file (default: ./tcpspec.toml, else ./pyproject.toml)")
    ci.add_argument("--format", choices=("text", "json"), default="text",
                    help="text for people, json (one document on stdout) for scripts")
    add_gate_options(ci)
    ci.set_defaults(func=cmd_ci)


def cmd_check_many(args: argparse.Namespace) -> int:
    from tcpspec.run.gate import ModelSpec

    if args.trace_out or args.certificate or args.svg or args.format == "mermaid":
        raise UsageError("--trace-out, --svg, --certificate and --format mermaid take one model, without "
                         "--junit, --sarif, -j, --cluster or --quiet (the JSON report has every trace)")
    defines = tuple(parse_defines(args.define).items())
    for path in args.model:
        check_input_file(path)
    specs = [ModelSpec(path, defines, check_options(args)) for path in args.model]
    return run_gate(specs, args, args.junit, args.sarif, args.jobs)


def cmd_ci(args: argparse.Namespace) -> int:
    from tcpspec.run.config import find_config, load_config

    file = args.config or find_config(".")
    if file is None:
        raise UsageError("no tcpspec.toml, and no [tool.tcpspec] in pyproject.toml, in this directory (see --config)")
    config = load_config(file)
    for spec in config.models:
        check_input_file(spec.path)
    if args.keep_going:
        from dataclasses import replace

        config.models = [replace(spec, options=replace(spec.options, keep_going=True)) for spec in config.models]
    return run_gate(config.models, args, args.junit or config.junit, args.sarif or config.sarif,
                    args.jobs or config.jobs)


def run_gate(specs: list[Any], args: argparse.Namespace, junit: str | None, sarif: str | None, jobs: int | None) -> int:
    """Check `specs` (in worker processes), stream each model's text report, write the reports."""
    from tcpspec.run import gate
    from tcpspec.render import text

    check_writable(junit, "--junit")
    check_writable(sarif, "--sarif")
    workers = jobs or os.cpu_count() or 1
    show = args.format == "text" and not args.quiet

    def on_model(report: gate.ModelReport) -> None:
        if not show:
            return
        lines = [text.render_header(report.spec.path), ""]
        if report.error is not None:
            lines += _error_lines(report.error) + [""]
        else:
            lines += text.render_body(report.results, report.model, args.verbose)  # type: ignore[arg-type]
            lines += [""] if lines[-1] else []
        for line in lines:
            print(line)
        sys.stdout.flush()

    with ProgressLine(progress_shown(args), f"checking {len(specs)} model{'s' if len(specs) != 1 else ''}", total=None) as progress:
        def on_model_live(report: gate.ModelReport) -> None:
            progress.status(f"{report.spec.path} done")
            on_model(report)

        run = gate.run(specs, workers=workers, cluster=args.cluster, on_model=on_model_live)
    if junit or sarif:
        from tcpspec.render.ci_reports import junit_xml, sarif_doc

        if junit:
            write_output(junit, junit_xml(run))
        if sarif:
            write_output(sarif, json_text(sarif_doc(run)))
    code = EXIT_INTERRUPTED if run.interrupted else run.exit_code()
    if args.format == "json":
        from tcpspec.render.json_report import gate_to_json

        print(json.dumps(gate_to_json(run, code), indent=2))
    else:
        errors = sum(1 for r in run.reports if r.error is not None)
        summary = text.render_summary([x for _, x in run.results])
        head = f"{len(specs)} model{'s' if len(specs) != 1 else ''}"
        if errors:
            head += f" ({errors} with errors)"
        if run.interrupted:
            print(text.INTERRUPTED)
        print(f"{head}; {summary}")
        for option, path in (("JUnit", junit), ("SARIF", sarif)):
            if path:
                print(f"{option} report written to {path}")
    if run.interrupted:
        print("tcpspec: interrupted", file=sys.stderr)
    else:
        say_internal_errors([x for _, x in run.results])
    return code


def _error_lines(err: ModelError | UsageError) -> list[str]:
    if isinstance(err, ModelError):
        sources = error_sources(err)
        return [render_diagnostic(d, sources) for d in err.diagnostics] or ["error: the model is invalid"]
    return [f"error: {one_line(str(err))}"]
