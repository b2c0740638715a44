"""The model in another form: `tcpspec export` (Promela for SPIN, SMT-LIB 2 for other solvers) and
`tcpspec graph` (a process's state machine as Graphviz DOT or SVG)."""

from __future__ import annotations

import argparse
import sys

from tcpspec.cli.args import MAX_PROMELA_STEPS, add_defines, bounded_int, file_name, parse_defines
from tcpspec.cli.exit_codes import EXIT_OK
from tcpspec.cli.files import check_input_file
from tcpspec.cli.output import load_model_warned, one_line
from tcpspec.core.diagnostics import UsageError
from tcpspec.core.options import THEORIES
from tcpspec.core.outputs import check_writable, write_output


def add_export_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`tcpspec export MODEL --to promela|smtlib`: the model for SPIN or for other solvers."""
    ex = sub.add_parser("export", help="translate a model to Promela (SPIN) or SMT-LIB 2",
                        description="Write MODEL as Promela for SPIN or as an SMT-LIB 2 transition system.")
    ex.add_argument("model", metavar="MODEL")
    ex.add_argument("--to", required=True, choices=("promela", "smtlib"))
    ex.add_argument("-o", "--output", metavar="FILE", default=None, type=file_name,
                    help="write here (default and -: stdout)")
    add_defines(ex)
    ex.add_argument("--prop", metavar="NAME", action="append", default=[], help="only this property (repeatable)")
    isns = ex.add_mutually_exclusive_group()  # both name the ISNs: one of them
    isns.add_argument("--isn-values", metavar="V,V,...", default=None,
                      help="promela: the values a wide variable without initial value takes (default 0)")
    isns.add_argument("--isn-range", metavar="A..B", default=None, help="promela: as --isn-values, every value in A..B")
    ex.add_argument("--isn-vars", metavar="NAME,...", default=None,
                    help="promela: only these variables (local names) take every ISN value; other "
                         "wide variables take the first (for variables written before read)")
    ex.add_argument("--payload-range", metavar="A..B", default=None,
                    help="promela: the values of wide `choose` parameters")
    ex.add_argument("--max-steps", metavar="N", type=bounded_int(0, MAX_PROMELA_STEPS), default=None,
                    help="promela: cut runs after N steps (like BMC's depth)")
    ex.add_argument("--theory", choices=THEORIES, default=None, help="smtlib: integers or bit-vectors (default auto)")
    ex.set_defaults(func=cmd_export)


def _range_arg(flag: str, text: str) -> tuple[int, int]:
    lo, sep, hi = text.partition("..")
    try:
        a, b = int(lo, 0), int(hi, 0)
    except ValueError:
        a, b = 1, 0
    if not sep or a > b:
        raise UsageError(f"{flag}: expected A..B with A <= B, got '{text}'")
    return a, b


def cmd_export(args: argparse.Namespace) -> int:
    from tcpspec.run import pipeline

    check_input_file(args.model)
    check_writable(args.output, "-o")
    # An option of the other target would be ignored: a file that is not what was asked for.
    given = {"promela": [("--theory", args.theory)],
             "smtlib": [("--isn-values", args.isn_values), ("--isn-range", args.isn_range), ("--isn-vars", args.isn_vars),
                        ("--payload-range", args.payload_range), ("--max-steps", args.max_steps)]}[args.to]
    ignored = [flag for flag, value in given if value is not None]
    if ignored:
        other = "smtlib" if args.to == "promela" else "promela"
        raise UsageError(f"{', '.join(ignored)}: only for --to {other}, not --to {args.to}")
    model = load_model_warned(args.model, parse_defines(args.define))
    props = pipeline.select_properties(model, tuple(args.prop))
    live = [p.name for p in props if p.kind.value in ("eventually", "leads_to", "temporal")]
    if live and args.prop:
        raise UsageError(f"export: liveness properties are not exported yet: {', '.join(live)}")
    props = [p for p in props if p.name not in live]
    if args.to == "smtlib":
        from tcpspec.exporters.smtlib import export_smtlib

        text = export_smtlib(model, args.theory or "auto", props).text
    else:
        from tcpspec.exporters.promela import ExportOptions, export_promela

        isn: tuple[int, ...] = (0,)
        if args.isn_values is not None:
            try:
                isn = tuple(int(v, 0) for v in args.isn_values.split(","))
            except ValueError:
                isn = ()
            if not isn:
                raise UsageError(f"--isn-values: expected numbers separated by commas, got '{args.isn_values}'")
        if args.isn_range is not None:
            lo, hi = _range_arg("--isn-range", args.isn_range)
            if hi - lo > 1_000_000:
                raise UsageError("--isn-range: more than a million values; SPIN must enumerate them")
            isn = tuple(range(lo, hi + 1))
        isn_vars = tuple(v.strip() for v in args.isn_vars.split(",")) if args.isn_vars is not None else ()
        if any(not v for v in isn_vars):
            raise UsageError(f"--isn-vars: expected state variable names separated by commas, got '{args.isn_vars}'")
        unknown = [v for v in isn_vars if v not in {sv.name for sv in model.state_vars}]
        if unknown:
            raise UsageError(f"--isn-vars: no state variable {', '.join(unknown)} (names like client.iss)")
        payload = _range_arg("--payload-range", args.payload_range) if args.payload_range is not None else None
        opts = ExportOptions(isn_values=isn, payload_range=payload, properties=tuple(p.name for p in props),
                             max_steps=args.max_steps,
                             isn_vars=isn_vars)
        text = export_promela(model, opts)
    if args.output:
        write_output(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def add_graph_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    graph = sub.add_parser(
        "graph",
        help="draw the state machine of a process (Graphviz DOT or SVG)",
        description="Draw the state machine of a process: its enum state variable's values as "
                    "nodes, an edge S -> S' for every transition that can fire in S and lead to S'.",
    )
    graph.add_argument("model", metavar="MODEL", help="the .tcpspec file")
    graph.add_argument("--process", metavar="NAME", default=None,
                       help="the process (or instance) to draw (default: the first instance's)")
    graph.add_argument("--format", choices=("dot", "svg"), default="dot",
                       help="dot (text, default) or svg (rendered by Graphviz's dot)")
    graph.add_argument("-o", "--output", metavar="FILE", default=None, type=file_name,
                       help="write to FILE instead of stdout (- is stdout)")
    graph.add_argument("--self-loops", action="store_true",
                       help="also draw the transitions that keep the state (dashed)")
    add_defines(graph)
    graph.set_defaults(func=cmd_graph)


def cmd_graph(args: argparse.Namespace) -> int:
    import shutil
    import subprocess

    from tcpspec.analyses.statemachine import extract, to_dot

    check_input_file(args.model)
    check_writable(args.output, "-o")
    model = load_model_warned(args.model, parse_defines(args.define))
    dot = to_dot(extract(model, args.process), self_loops=args.self_loops)
    out = dot
    if args.format == "svg":
        exe = shutil.which("dot")
        if exe is None:
            raise UsageError("--format svg needs Graphviz's `dot` (apt-get install graphviz); --format dot prints the source")
        proc = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise UsageError(f"Graphviz failed: {one_line(proc.stderr)}")
        out = proc.stdout
    if args.output and args.output != "-":
        write_output(args.output, out)
        print(f"{args.format.upper()} of the state machine written to {args.output}")
    else:
        sys.stdout.write(out)
    return EXIT_OK
