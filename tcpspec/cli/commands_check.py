"""`tcpspec check` on one model, and `tcpspec recheck` of the certificate it writes: the run of the
pipeline, its report in text, JSON or Mermaid, and the trace, diagram and certificate files.
Several models (or a CI report) go to the gate, commands_gate.py.

Imports of the pipeline (and so of z3 and lark) happen inside the command, so that `--help`
answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Callable

from tcpspec.cli.args import (
    FORMATS, MAX_CEX, MAX_K, add_defines, add_gate_options, bounded_int, check_options, memory_mb, nonneg_int,
    parse_defines, positive_float, positive_int, report_name, values_arg,
)
from tcpspec.cli.commands_gate import cmd_check_many
from tcpspec.cli.exit_codes import EXIT_FAILED, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNKNOWN
from tcpspec.cli.files import check_input_file, write_certificate, write_svgs, write_traces
from tcpspec.cli.output import TextOut, load_model_warned, one_line, say_internal_errors
from tcpspec.cli.progress import ProgressLine, progress_shown
from tcpspec.core.diagnostics import EngineError, UsageError
from tcpspec.core.options import DEFAULT_DEPTH, DEFAULT_ENGINE, KINDS, THEORIES
from tcpspec.core.outputs import check_writable

if TYPE_CHECKING:
    from tcpspec.checker import ir
    from tcpspec.core.results import PropertyResult

EPILOG = """\
exit codes:
  0  every selected property holds (for bmc: no violation within --depth steps)
  1  a property is violated, or a `reachable` target was not reached within the bound
  2  bad model or bad usage
  3  unknown (timeout, solver gave up)
  4  internal error (please report)
  130 interrupted (the results that finished are still reported)
  143 terminated by SIGTERM (as 130)

--trace-out FILE writes each counterexample/witness as an ITF JSON document
(https://apalache-mc.org/docs/adr/015adr-trace.html). The first trace goes to FILE; any
further trace goes to FILE with `.<property>` inserted before the extension
(`cex.itf.json` -> `cex.client.ack_rule.itf.json`). No trace, no file.
"""


def add_check_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from tcpspec.engines import registry  # the engines' names and help (imports no z3)

    check = sub.add_parser(
        "check",
        help="check the properties of a model",
        description="Check the properties of MODEL (all of them unless --prop is given).",
        epilog=f"{EPILOG}\nengines (--engine):\n{registry.describe()}\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("model", metavar="MODEL", nargs="+",
                       help="the .tcpspec file(s) to check; several files make one run with "
                            "one exit code (see --junit, --sarif, -j)")
    check.add_argument("--prop", metavar="NAME", action="append", default=[],
                       help="check only this property (repeatable); a process property's short "
                            "name selects it for every instance")
    check.add_argument("--kind", dest="kinds", action="append", default=[],
                       choices=KINDS,
                       help="check only properties of this kind (repeatable), e.g. a CI gate on "
                            "invariants, or reachability targets at a deeper bound")
    check.add_argument("--depth", metavar="N", type=nonneg_int, default=None,
                       help="bound: number of transitions to explore (default: the model's `depth` "
                            f"declarations, else {DEFAULT_DEPTH})")
    check.add_argument("--timeout", metavar="SECONDS", type=positive_float, default=None,
                       help="give up on a property after this long, the time of every engine on it "
                            "together (verdict unknown, exit 3)")
    add_defines(check)
    check.add_argument("--engine", choices=registry.names(), default=DEFAULT_ENGINE,
                       help=f"the checking engine (default {DEFAULT_ENGINE}; see below)")
    check.add_argument("--theory", choices=THEORIES, default="auto",
                       help="how numbers are encoded for Z3: integers (fast on sequence-number "
                       "arithmetic) or bit-vectors (fast on small control-heavy models); "
                       "auto picks by the model (default auto)")
    check.add_argument("--memory-limit", dest="memory_mb", metavar="MB", type=memory_mb, default=None,
                       help="Z3's memory ceiling per process; past it the verdict is unknown (exit 3). "
                            "Engine explicit: the search's memory bound (default 2048)")
    check.add_argument("--format", choices=FORMATS, default="text",
                       help="text for people, json (one document on stdout) for scripts, "
                            "mermaid (a sequence diagram per trace)")
    check.add_argument("--svg", metavar="FILE", default=None, type=report_name,
                       help="write each counterexample/witness as a sequence diagram (a "
                            "self-contained SVG; several traces: named like --trace-out)")
    check.add_argument("--trace-out", metavar="FILE", default=None, type=report_name,
                       help="write counterexamples/witnesses as ITF JSON (see below)")
    check.add_argument("--certificate", metavar="FILE", default=None, type=report_name,
                       help="engines kind/pdr/auto: write the proof certificate (the inductive "
                            "invariant of the proved properties) to FILE")
    check.add_argument("--k-max", dest="k_max", metavar="K", type=bounded_int(1, MAX_K, "a positive whole number"), default=4,
                       help="engine kind: k-induction (simple path) up to K for what 1-induction "
                            "leaves open (default 4; 1 turns it off)")
    _add_explicit_options(check)
    _add_liveness_options(check)
    add_gate_options(check)
    check.set_defaults(func=cmd_check)


def _add_explicit_options(p: argparse.ArgumentParser) -> None:
    """`--values`, `--max-states`, `--search` (engines/explicit.py)."""
    p.add_argument("--values", metavar="NAME=A..B", type=values_arg, action="append", default=[],
                   help="engine explicit: search this free value (a variable without an initial value, "
                        "a choose parameter T.P, an injected field CH.injection.F; a short name means "
                        "every instance's) over A..B or V,V,... (repeatable)")
    p.add_argument("--max-states", dest="max_states", metavar="N", type=positive_int, default=None,
                   help="engine explicit: stop after N distinct states (verdicts unknown past it)")
    p.add_argument("--search", choices=("bfs", "dfs", "swarm"), default="bfs",
                   help="engine explicit: breadth-first (shortest traces; default), depth-first, or "
                        "random depth-first runs (swarm; never a proof)")
    p.add_argument("--no-symmetry", dest="symmetry", action="store_false",
                   help="engine explicit (and its head start in auto): do not keep one state per "
                        "permutation of a family's members, even where Z3 verifies the permutations")


def _add_liveness_options(p: argparse.ArgumentParser) -> None:
    """`--deadlock`, `--max-cex` (engines/deadlock.py, engines/more_cex.py)."""
    p.add_argument("--deadlock", action="store_true",
                   help="also check the built-in property deadlock_free: no reachable state without "
                        "successor, unless a `final` predicate accepts it (BMC, bounded)")
    p.add_argument("--max-cex", dest="max_cex", metavar="N", type=bounded_int(1, MAX_CEX, "a positive whole number"), default=1,
                   help="up to N counterexamples per violated property, each a different sequence "
                        "of transitions (default 1)")


def run_checks(
    model: ir.Model, args: argparse.Namespace, on_result: Callable[[PropertyResult], None]
) -> tuple[list[PropertyResult], bool]:
    """All selected properties in one engine call: BMC shares one unrolling between them,
    instead of one unrolling per property. An interrupt keeps the results that had finished
    (results.RunInterrupted: BMC's violations and witnesses, the proofs). Returns the results
    and whether the run was interrupted."""
    from tcpspec.run import pipeline
    from tcpspec.core.results import finished

    options = check_options(args)
    results: list[PropertyResult] = []
    try:
        with ProgressLine(progress_shown(args), f"checking {args.model}") as progress:
            found = pipeline.check_model(model, options, on_progress=progress.status)
    except KeyboardInterrupt as e:  # what had finished is still reported, then exit 130
        found, interrupted = finished(e), True
    else:
        interrupted = False
    for r in found:
        results.append(r)
        on_result(r)
    return results, interrupted


def _gate_mode(args: argparse.Namespace) -> bool:
    return len(args.model) > 1 or bool(args.junit or args.sarif or args.jobs or args.cluster or args.quiet)


def cmd_check(args: argparse.Namespace) -> int:
    if _gate_mode(args) and (args.deadlock or args.max_cex > 1):
        raise UsageError("--deadlock and --max-cex check one model at a time (not with several models, "
                         "--junit, --sarif, -j, --cluster or --quiet)")
    if _gate_mode(args):
        return cmd_check_many(args)
    args.model = args.model[0]
    return cmd_check_one(args)


def cmd_check_one(args: argparse.Namespace) -> int:
    from tcpspec.run import pipeline
    from tcpspec.engines import registry
    from tcpspec.core.results import exit_code

    defines = parse_defines(args.define)
    check_input_file(args.model)
    check_writable(args.trace_out, "--trace-out")
    check_writable(args.svg, "--svg")
    cert_out = getattr(args, "certificate", None)
    check_writable(cert_out, "--certificate")
    if cert_out and not registry.engine(args.engine).certificate:
        provers = ", ".join(e for e in registry.names() if registry.engine(e).certificate)
        raise UsageError(f"--certificate: engine {args.engine} proves nothing, so it has no certificate to write "
                         f"(use --engine {provers})")
    model = load_model_warned(args.model, defines)
    if args.deadlock:  # before selecting: `--prop deadlock_free` names it
        from tcpspec.engines.deadlock import with_deadlock

        with_deadlock(model)
    props = pipeline.select_properties(model, tuple(args.prop), tuple(args.kinds))
    if not props and not args.deadlock:  # before any output: the run would check nothing
        raise pipeline.nothing_to_check([args.model], tuple(args.prop), tuple(args.kinds))
    text = TextOut(args.model, model, args.verbose) if args.format == "text" else None
    crash: EngineError | None = None
    try:
        results, interrupted = run_checks(model, args, text.result if text else lambda r: None)
    except EngineError as err:  # report what had finished, then exit 4 (never as `unknown`)
        results, interrupted, crash = list(err.results), False, err
    files = write_traces(args.trace_out, results, args.model, model) if args.trace_out else {}
    svgs = write_svgs(args.svg, results, model) if args.svg else {}
    wrote_cert = write_certificate(cert_out, results) if cert_out else False
    if args.format == "mermaid":
        from tcpspec.render.msc import build_chart, to_mermaid

        for r in results:
            print(f"%% {r.property}: {r.verdict.value}")
            if r.trace is not None:
                print(to_mermaid(build_chart(r.trace, r, model)))
    elif text is not None:
        text.finish(results, files, interrupted)
        for p, f in svgs.items():
            print(f"sequence diagram of {p} written to {f}")
        if wrote_cert:
            print(f"proof certificate written to {cert_out}")
        elif cert_out:
            print(f"no proof, so no certificate written to {cert_out}")
    else:
        from tcpspec.render.json_report import report_to_json

        doc = report_to_json(args.model, results, model, files, interrupted)
        if crash is not None:
            doc.update(exit_code=EXIT_INTERNAL, error=f"internal error: {one_line(str(crash))}")
        print(json.dumps(doc, indent=2))
    if crash is not None:
        print(f"tcpspec: internal error: {one_line(str(crash))} (please report)", file=sys.stderr)
        return EXIT_INTERNAL
    if interrupted:
        print("tcpspec: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    say_internal_errors(results)
    return exit_code(results)


def add_recheck_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    rc = sub.add_parser(
        "recheck",
        help="re-check a proof certificate written by --certificate, with fresh solvers",
        description="Read CERTIFICATE (model text written by `check --certificate`) against MODEL and "
                    "check its obligations from scratch: the invariants hold initially, are preserved "
                    "by every transition, and imply every property the header lists.",
        epilog="exit codes: 0 valid, 1 an obligation fails (the certificate does not prove it), "
               "2 bad input, 3 undecided (timeout)",
    )
    rc.add_argument("model", metavar="MODEL", help="the .tcpspec file the certificate is for")
    rc.add_argument("certificate", metavar="CERTIFICATE", help="the certificate file")
    add_defines(rc, "override a constant (repeatable): the same -D the proof was made with")
    rc.add_argument("--theory", choices=("auto", "int", "bv"), default="auto")
    rc.add_argument("--timeout", metavar="SECONDS", type=positive_float, default=None,
                    help="give up on an obligation after this long (exit 3)")
    rc.set_defaults(func=cmd_recheck)


def cmd_recheck(args: argparse.Namespace) -> int:
    from tcpspec.proof.recheck import recheck_file

    from tcpspec.core.inputs import MAX_CERTIFICATE_BYTES

    check_input_file(args.model)
    check_input_file(args.certificate, "a certificate", MAX_CERTIFICATE_BYTES)
    out = recheck_file(args.model, args.certificate, parse_defines(args.define), args.theory, args.timeout)
    what = f"{out.invariants} invariants, {out.properties} properties"
    if out.ok:
        print(f"certificate valid: {what}; {out.detail}")
        return EXIT_OK
    if out.unknown:
        print(f"certificate undecided ({what}): {out.detail}")
        return EXIT_UNKNOWN
    print(f"certificate INVALID ({what}): {out.detail}")
    return EXIT_FAILED
