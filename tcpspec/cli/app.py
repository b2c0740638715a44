"""The `tcpspec` command: the only place that prints and exits.

Exit codes are a contract CI scripts rely on: 0 every selected property holds (to the bound,
for bounded engines), 1 a property is violated or a `reachable` target was not reached,
2 bad model or bad usage, 3 unknown (timeout, solver gave up), 4 internal error,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM); both still report what had finished.

Imports of the pipeline (and so of z3 and lark) happen inside the command, so that `--help`
answers at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable

from tcpspec import __version__
from tcpspec.core.diagnostics import EngineError, ModelError, UsageError, error_sources, render_diagnostic
from tcpspec.fmt.command import add_fmt_parser
from tcpspec.core.inputs import MAX_DEPTH, MAX_JOBS, MAX_SECONDS
from tcpspec.lsp.command import add_lsp_parser
from tcpspec.core.options import DEFAULT_DEPTH, DEFAULT_ENGINE, KINDS, THEORIES, CheckOptions
from tcpspec.core.outputs import check_writable, is_stream, write_output

if TYPE_CHECKING:
    from tcpspec.checker import ir
    from tcpspec.core.results import PropertyResult

FORMATS = ("text", "json", "mermaid")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNKNOWN, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_BROKEN_PIPE = 141  # as a shell reports a process ended by SIGPIPE
EXIT_TERMINATED = 143  # SIGTERM, as a shell reports it; the finished results are reported as for 130

DEFINE_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S.*?)\s*$")

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


# ---------------------------------------------------------------- arguments


# Upper bounds of numeric options (docs/errors.md "Limits"): far past what a run can use, and
# each one stops a number that would overflow a C int in the pool or the solver, or an unrolling
# that would build for ever, at parse time with exit 2.
MAX_K = 1000
MAX_CEX = 10_000
MAX_STEPS = 1_000_000
MAX_PROMELA_STEPS = 30_000  # Promela's `short steps` counter (export/promela.py)
MIN_MEMORY_MB = 64  # measured: below it Z3 cannot even start on a small model (docs/errors.md)
MAX_MEMORY_MB = 1 << 20  # 1 TiB; Z3's memory_max_size is an unsigned int of MB


def _whole(text: str, what: str) -> int:
    """ASCII decimal digits only: int() would also take '٣', '1_000' and ' 7 '."""
    if not re.fullmatch(r"-?[0-9]{1,30}", text):
        raise argparse.ArgumentTypeError(f"expected {what}, got '{text if len(text) <= 40 else text[:37] + '...'}'")
    return int(text)


def _bounded_int(low: int, high: int, what: str = "a whole number") -> Callable[[str], int]:
    def parse(text: str) -> int:
        n = _whole(text, what)
        if n < low:
            raise argparse.ArgumentTypeError("must not be negative, got " + text if low == 0
                                             else f"expected {what} of at least {low}, got '{text}'")
        if n > high:
            raise argparse.ArgumentTypeError(f"at most {high}, got {text}")
        return n
    return parse


def _nonneg_int(text: str) -> int:
    return _bounded_int(0, MAX_DEPTH)(text)


def _positive_int(text: str) -> int:
    return _bounded_int(1, MAX_DEPTH, "a positive whole number")(text)


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got '{text}'") from None
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got '{text}'")
    if x >= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be below {MAX_SECONDS} seconds, got '{text}'")
    return x


def _memory_mb(text: str) -> int:
    n = _bounded_int(1, MAX_MEMORY_MB, "a number of megabytes")(text)
    if n < MIN_MEMORY_MB:
        raise argparse.ArgumentTypeError(f"{n} MB is below what Z3 needs to start ({MIN_MEMORY_MB} MB at least)")
    return n


_CLUSTER = re.compile(r"(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):[0-9]{1,5}")


def _file_name(text: str) -> str:
    """A path option's value; an empty one is refused (not taken as "not given", silently)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a file name, got '{text}'")
    return text


def _report_name(text: str) -> str:
    """A report file beside the run's own report on standard output, so not `-` (the two would
    be one stream no reader can split); /dev/stdout mixes them for who wants that."""
    if text == "-":
        raise argparse.ArgumentTypeError("'-' would mix this file into the report on standard output: "
                                         "name a file, or /dev/stdout to mix them on purpose")
    return _file_name(text)


def _scheduler_address(text: str) -> str:
    """A Dask scheduler's address, [PROTOCOL://]HOST:PORT; an empty one is refused (not taken as
    "run locally"), and so is one Dask would fail to parse after the models are read."""
    address = text.strip()
    if not _CLUSTER.fullmatch(address) or not 0 < int(address.rsplit(":", 1)[1]) < 65536:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise argparse.ArgumentTypeError(f"expected a scheduler address such as tcp://host:8786, got '{shown}'")
    return address


def add_defines(p: argparse.ArgumentParser, help: str = "override a constant (repeatable)") -> None:
    """`-D NAME=VALUE`, the same in every command that reads a model."""
    p.add_argument("-D", dest="define", metavar="NAME=VALUE", action="append", default=[], help=help)

def build_parser() -> argparse.ArgumentParser:
    from tcpspec.engines import registry  # the engines' names and help (imports no z3)

    parser = argparse.ArgumentParser(
        prog="tcpspec", description="A protocol model checker with an RFC 9293 TCP model at its heart."
    )
    parser.add_argument("--version", action="version", version=f"tcpspec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
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
    check.add_argument("--depth", metavar="N", type=_nonneg_int, default=None,
                       help="bound: number of transitions to explore (default: the model's `depth` "
                            f"declarations, else {DEFAULT_DEPTH})")
    check.add_argument("--timeout", metavar="SECONDS", type=_positive_float, default=None,
                       help="give up on a property after this long, the time of every engine on it "
                            "together (verdict unknown, exit 3)")
    add_defines(check)
    check.add_argument("--engine", choices=registry.names(), default=DEFAULT_ENGINE,
                       help=f"the checking engine (default {DEFAULT_ENGINE}; see below)")
    check.add_argument("--theory", choices=THEORIES, default="auto",
                       help="how numbers are encoded for Z3: integers (fast on sequence-number "
                       "arithmetic) or bit-vectors (fast on small control-heavy models); "
                       "auto picks by the model (default auto)")
    check.add_argument("--memory-limit", dest="memory_mb", metavar="MB", type=_memory_mb, default=None,
                       help="Z3's memory ceiling per process; past it the verdict is unknown (exit 3). "
                            "Engine explicit: the search's memory bound (default 2048)")
    check.add_argument("--format", choices=FORMATS, default="text",
                       help="text for people, json (one document on stdout) for scripts, "
                            "mermaid (a sequence diagram per trace)")
    check.add_argument("--svg", metavar="FILE", default=None, type=_report_name,
                       help="write each counterexample/witness as a sequence diagram (a "
                            "self-contained SVG; several traces: named like --trace-out)")
    check.add_argument("--trace-out", metavar="FILE", default=None, type=_report_name,
                       help="write counterexamples/witnesses as ITF JSON (see below)")
    check.add_argument("--certificate", metavar="FILE", default=None, type=_report_name,
                       help="engines kind/pdr/auto: write the proof certificate (the inductive "
                            "invariant of the proved properties) to FILE")
    check.add_argument("--k-max", dest="k_max", metavar="K", type=_bounded_int(1, MAX_K, "a positive whole number"), default=4,
                       help="engine kind: k-induction (simple path) up to K for what 1-induction "
                            "leaves open (default 4; 1 turns it off)")
    _add_explicit_options(check)
    _add_liveness_options(check)
    _add_gate_options(check)
    check.set_defaults(func=cmd_check)

    ci = sub.add_parser(
        "ci",
        help="run the checks of the project configuration (tcpspec.toml or [tool.tcpspec])",
        description="Check every model listed in tcpspec.toml, or in pyproject.toml under "
                    "[tool.tcpspec], found in the current directory (or --config FILE).",
        epilog="exit codes: 2 if any model or usage error, else 1 if any property is violated or "
               "unreached, else 3 if any verdict is unknown, else 0; 130 when interrupted.",
    )
    ci.add_argument("--config", metavar="FILE", default=None, type=_file_name,
                    help="the configuration file (default: ./tcpspec.toml, else ./pyproject.toml)")
    ci.add_argument("--format", choices=("text", "json"), default="text",
                    help="text for people, json (one document on stdout) for scripts")
    _add_gate_options(ci)
    ci.set_defaults(func=cmd_ci)

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
    graph.add_argument("-o", "--output", metavar="FILE", default=None, type=_file_name,
                       help="write to FILE instead of stdout (- is stdout)")
    graph.add_argument("--self-loops", action="store_true",
                       help="also draw the transitions that keep the state (dashed)")
    add_defines(graph)
    graph.set_defaults(func=cmd_graph)

    replay = sub.add_parser(
        "replay",
        help="is a trace seen on the wire a behaviour of the model?",
        description="Decide whether TRACE is a behaviour of MODEL, segment by segment. TRACE is a packet "
                    "capture (pcap or pcapng, any name; Ethernet, Linux cooked, loopback or raw IP), a text "
                    "trace (one segment a line: `<from> -> <to> <FLAGS> seq=<n> [ack=<n>] [len=<n>] "
                    "[win=<n>]`) or an ITF JSON trace written by --trace-out. The model's constants and "
                    "behaviour options are set from the trace (see docs/replay.md).",
        epilog="exit codes: 0 accepted, 1 rejected (the first segment no run explains, and why), "
               "2 bad input, 3 undecided (timeout)",
    )
    replay.add_argument("model", metavar="MODEL", help="the .tcpspec file")
    replay.add_argument("trace", metavar="TRACE", help="the trace: text, a pcap/pcapng capture, or .json (ITF)")
    add_defines(replay, "override a constant (repeatable); wins over what the capture sets (see --no-auto)")
    replay.add_argument("--conn", metavar="A:P-B:Q", default=None,
                        help="captures: the TCP connection to replay (default: the first that opens with a SYN)")
    replay.add_argument("--list-conns", action="store_true",
                        help="captures: list the TCP connections in TRACE and exit")
    replay.add_argument("--no-auto", action="store_true",
                        help="set nothing from the trace (MSS, WND, CAP, behaviour options): only -D and the "
                             "model's values")
    acks = replay.add_mutually_exclusive_group()
    acks.add_argument("--strict-acks", action="store_true",
                      help="every ACK the model sends must be on the wire (the default when the model delays "
                           "ACKs itself: DELACK on)")
    acks.add_argument("--unseen-acks", action="store_true",
                      help="a pure ACK the model sends in answer to a segment may be missing from the wire, "
                           "folded into a later one (the default when the model has no DELACK on)")
    replay.add_argument("--timeout", metavar="SECONDS", type=_positive_float, default=300.0,
                        help="give up after this long (exit 3; default 300)")
    replay.add_argument("--format", choices=("text", "json"), default="text")
    replay.set_defaults(func=cmd_replay)

    sim = sub.add_parser(
        "simulate",
        help="print a random run of a model (to explore it while writing it)",
        description="A random run on the explicit interpreter: each step picks uniformly among the "
                    "enabled transitions and parameters; the same --seed gives the same run.",
    )
    sim.add_argument("model", metavar="MODEL", help="the .tcpspec file")
    sim.add_argument("--steps", metavar="N", type=_bounded_int(0, MAX_STEPS), default=20, help="at most N steps (default 20)")
    sim.add_argument("--seed", metavar="S", type=_bounded_int(-(2**63), 2**63), default=0, help="random seed (default 0)")
    add_defines(sim)
    sim.add_argument("--format", choices=("text", "json", "mermaid"), default="text")
    sim.add_argument("--svg", metavar="FILE", default=None, type=_report_name, help="also write the run as a sequence diagram")
    sim.set_defaults(func=cmd_simulate)

    add_diff_parser(sub)
    add_recheck_parser(sub)
    add_export_parser(sub)
    add_fmt_parser(sub)
    add_lsp_parser(sub)
    return parser


def _values_arg(text: str) -> tuple[str, tuple[int, ...]]:
    """`NAME=A..B` or `NAME=V,V,...` (engine explicit): the values a free number is searched over."""
    name, eq, vals = text.partition("=")
    try:
        if not eq or not name.strip():
            raise ValueError
        if ".." in vals:
            lo, hi = (int(x, 0) for x in vals.split("..", 1))
            if hi < lo or hi - lo >= 1 << 16:
                raise argparse.ArgumentTypeError(f"{text}: give at most 65536 values, lowest first")
            return name.strip(), tuple(range(lo, hi + 1))
        return name.strip(), tuple(int(x, 0) for x in vals.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=A..B or NAME=V,V,..., got '{text}'") from None


def _add_explicit_options(p: argparse.ArgumentParser) -> None:
    """`--values`, `--max-states`, `--search` (engines/explicit.py)."""
    p.add_argument("--values", metavar="NAME=A..B", type=_values_arg, action="append", default=[],
                   help="engine explicit: search this free value (a variable without an initial value, "
                        "a choose parameter T.P, an injected field CH.injection.F; a short name means "
                        "every instance's) over A..B or V,V,... (repeatable)")
    p.add_argument("--max-states", dest="max_states", metavar="N", type=_positive_int, default=None,
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
    p.add_argument("--max-cex", dest="max_cex", metavar="N", type=_bounded_int(1, MAX_CEX, "a positive whole number"), default=1,
                   help="up to N counterexamples per violated property, each a different sequence "
                        "of transitions (default 1)")


def _add_gate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-cache", dest="no_cache", action="store_true",
                   help="do not use or fill the proof cache (certificates of earlier proofs of the "
                        "same model, always re-checked before use; see tcpspec/proof/cache.py)")
    p.add_argument("--keep-going", dest="keep_going", action="store_true",
                   help="check every property to the end after a violation (default: a model's "
                        "check stops at its first violation, like SPIN and TLC; what it has not "
                        "decided by then is unknown)")
    p.add_argument("--junit", metavar="FILE", default=None, type=_report_name,
                   help="write a JUnit XML report (one test case per model and property)")
    p.add_argument("--sarif", metavar="FILE", default=None, type=_report_name,
                   help="write a SARIF 2.1.0 report (one result per failing property, at its line)")
    p.add_argument("-j", "--jobs", dest="jobs", metavar="N", type=_bounded_int(1, MAX_JOBS, "a positive whole number"), default=None,
                   help="independent checks in N worker processes (default: the number of "
                        "cores when several models or reports are asked for, else in-process)")
    p.add_argument("--cluster", metavar="ADDRESS", default=None, type=_scheduler_address,
                   help="hand the checks to a Dask distributed scheduler (pip install 'tcpspec[cluster]')")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print only the summary line (reports are still written)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="the full table: every property on its own line in the model's order, with "
                        "every trace (default: what needs attention first, then one line per verdict)")


# ---------------------------------------------------------------- export (Promela, SMT-LIB)


def add_export_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`tcpspec export MODEL --to promela|smtlib`: the model for SPIN or for other solvers."""
    ex = sub.add_parser("export", help="translate a model to Promela (SPIN) or SMT-LIB 2",
                        description="Write MODEL as Promela for SPIN or as an SMT-LIB 2 transition system.")
    ex.add_argument("model", metavar="MODEL")
    ex.add_argument("--to", required=True, choices=("promela", "smtlib"))
    ex.add_argument("-o", "--output", metavar="FILE", default=None, type=_file_name,
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
    ex.add_argument("--max-steps", metavar="N", type=_bounded_int(0, MAX_PROMELA_STEPS), default=None,
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


def parse_defines(items: list[str]) -> dict[str, str]:
    """`-D NAME=VALUE` pairs; the last one wins. The checker judges the values."""
    defines: dict[str, str] = {}
    for item in items:
        m = DEFINE_RE.match(item)
        if not m:
            raise UsageError(f"bad -D '{item}': expected NAME=VALUE")
        defines[m.group(1)] = m.group(2)
    return defines


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


# ---------------------------------------------------------------- trace files


def trace_file_names(base: str, props: list[str]) -> dict[str, str]:
    """The first trace goes to `base`; later ones get `.<property>` before the extension."""
    root, ext = (base[: -len(".itf.json")], ".itf.json") if base.endswith(".itf.json") else os.path.splitext(base)
    return {p: base if i == 0 else f"{root}.{p}{ext}" for i, p in enumerate(props)}


def _json_text(doc: Any) -> str:
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
    return _write_per_trace(base, {r.property: _json_text(result_to_itf(r, source, model)) for r in with_trace})


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


# ---------------------------------------------------------------- progress


class _Progress:
    """A live status line on a terminal's stderr (rich: spinner, status, elapsed time); nothing at
    all when stderr is not a terminal, with --quiet, or for JSON output, so logs stay plain."""

    def __init__(self, enabled: bool, label: str, total: int | None = None) -> None:
        self.bar: Any = None
        self.task: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn()]
        columns.append(TimeElapsedColumn())
        raw = getattr(sys.stderr, "inner", sys.stderr)  # its own escape sequences, not PrintableStream's
        self.bar = Progress(*columns, console=Console(file=raw), transient=True)
        self.task = self.bar.add_task(label, total=total)
        self.label = label

    def __enter__(self) -> "_Progress":
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def status(self, text: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, description=f"{self.label}: {text}")

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def at(self, completed: int, text: str | None = None) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=completed, **({"description": f"{self.label}: {text}"} if text else {}))


def _live(args: argparse.Namespace) -> bool:
    return args.format == "text" and not getattr(args, "quiet", False) and sys.stderr.isatty()


def write_svgs(base: str, results: list[PropertyResult], model: ir.Model) -> dict[str, str]:
    from tcpspec.render.msc import build_chart, to_svg

    return _write_per_trace(base, {r.property: to_svg(build_chart(r.trace, r, model), f"{model.path}: {r.property} "
                                                       f"{r.verdict.value}")
                                   for r in results if r.trace is not None})


# ---------------------------------------------------------------- check


class _TextOut:
    """The text report: the header at once (a long run shows what it is checking), then, when
    the run is over, the body (calm, or the full table with -v) and the summary."""

    def __init__(self, source: str, model: ir.Model, verbose: bool = False) -> None:
        from tcpspec.render import text

        self.text, self.model, self.verbose = text, model, verbose
        self.results: list[PropertyResult] = []
        self.emit([text.render_header(source), ""])

    def emit(self, lines: list[str]) -> None:
        for line in lines:
            print(line)
        sys.stdout.flush()

    def result(self, r: PropertyResult) -> None:
        self.results.append(r)

    def finish(self, results: list[PropertyResult], files: dict[str, str], interrupted: bool) -> None:
        body = self.text.render_body(results, self.model, self.verbose)
        tail = body + ([""] if body and body[-1] else [])
        if interrupted:
            tail.append(self.text.INTERRUPTED)
        tail.append(self.text.render_summary(results))
        tail += [f"trace of {p} written to {f}" for p, f in files.items()]
        self.emit(tail)


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
        with _Progress(_live(args), f"checking {args.model}") as progress:
            found = pipeline.check_model(model, options, on_progress=progress.status)
    except KeyboardInterrupt as e:  # what had finished is still reported, then exit 130
        found, interrupted = finished(e), True
    else:
        interrupted = False
    for r in found:
        results.append(r)
        on_result(r)
    return results, interrupted


def check_options(args: argparse.Namespace) -> CheckOptions:
    """`check`'s options as the library takes them (options.py defines each once)."""
    return CheckOptions(
        properties=tuple(args.prop), kinds=tuple(args.kinds), depth=args.depth,
        timeout=args.timeout, engine=args.engine,
        theory=args.theory, memory_mb=args.memory_mb,
        deadlock=getattr(args, "deadlock", False), max_cex=getattr(args, "max_cex", 1),
        k_max=getattr(args, "k_max", 4), keep_going=getattr(args, "keep_going", False),
        values=tuple(getattr(args, "values", ())), max_states=getattr(args, "max_states", None),
        search=getattr(args, "search", "bfs"), symmetry=getattr(args, "symmetry", True),
    )


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
    text = _TextOut(args.model, model, args.verbose) if args.format == "text" else None
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
            doc.update(exit_code=EXIT_INTERNAL, error=f"internal error: {_one_line(str(crash))}")
        print(json.dumps(doc, indent=2))
    if crash is not None:
        print(f"tcpspec: internal error: {_one_line(str(crash))} (please report)", file=sys.stderr)
        return EXIT_INTERNAL
    if interrupted:
        print("tcpspec: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    _say_internal_errors(results)
    return exit_code(results)


def _say_internal_errors(results: list[PropertyResult]) -> None:
    """Exit 4 from a result (an engine process died, ...) says its cause on stderr too."""
    from tcpspec.core.results import is_internal_error

    bad = [r for r in results if is_internal_error(r)]
    if bad:
        more = f" (and {len(bad) - 1} more properties)" if len(bad) > 1 else ""
        print(f"tcpspec: {bad[0].property}: {_one_line(bad[0].detail)}{more} (please report)", file=sys.stderr)


# ---------------------------------------------------------------- several models: the CI gate


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

    with _Progress(_live(args), f"checking {len(specs)} model{'s' if len(specs) != 1 else ''}", total=None) as progress:
        def on_model_live(report: gate.ModelReport) -> None:
            progress.status(f"{report.spec.path} done")
            on_model(report)

        run = gate.run(specs, workers=workers, cluster=args.cluster, on_model=on_model_live)
    if junit or sarif:
        from tcpspec.render.ci_reports import junit_xml, sarif_doc

        if junit:
            write_output(junit, junit_xml(run))
        if sarif:
            write_output(sarif, _json_text(sarif_doc(run)))
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
        _say_internal_errors([x for _, x in run.results])
    return code


def _error_lines(err: ModelError | UsageError) -> list[str]:
    if isinstance(err, ModelError):
        sources = error_sources(err)
        return [render_diagnostic(d, sources) for d in err.diagnostics] or ["error: the model is invalid"]
    return [f"error: {_one_line(str(err))}"]


# ---------------------------------------------------------------- graph


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
            raise UsageError(f"Graphviz failed: {_one_line(proc.stderr)}")
        out = proc.stdout
    if args.output and args.output != "-":
        write_output(args.output, out)
        print(f"{args.format.upper()} of the state machine written to {args.output}")
    else:
        sys.stdout.write(out)
    return EXIT_OK


# ---------------------------------------------------------------- recheck


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
    rc.add_argument("--timeout", metavar="SECONDS", type=_positive_float, default=None,
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


# ---------------------------------------------------------------- replay


def cmd_replay(args: argparse.Namespace) -> int:
    from tcpspec.core import inputs

    check_input_file(args.model)
    check_input_file(args.trace, "a trace", inputs.MAX_CAPTURE_BYTES)  # a text trace: MAX_TRACE_BYTES when read
    if args.list_conns:
        return _list_conns(args)
    if args.trace.lower().endswith(".json"):
        return _replay_itf(load_model_warned(args.model, parse_defines(args.define)), args)
    from tcpspec.traffic.conformance import fixed_window, prepare_replay

    rep = prepare_replay(args.model, args.trace, parse_defines(args.define), args.conn, auto=not args.no_auto)
    for w in rep.conf.model.warnings:
        print(render_diagnostic(w, rep.conf.model.sources), file=sys.stderr)
    loaded, segments, settings = rep.loaded, rep.segments, rep.conf.settings
    with _Progress(_live(args), f"replaying {len(segments)} segments", total=len(segments)) as progress:
        result = rep.run(False if args.strict_acks else True if args.unseen_acks else None, args.timeout,
                         lambda done, note: progress.at(done, note))
    code = {"accepted": EXIT_OK, "rejected": EXIT_FAILED}.get(result.verdict, EXIT_UNKNOWN)
    if args.format == "json":
        doc = {
            "model": args.model, "trace": args.trace, "verdict": result.verdict, "segments": len(segments),
            "connection": loaded.connection or None, "settings": {s.name: s.value for s in settings},
            "explained": [{"segment": m.segment.label, "where": m.segment.where, "transition": m.transition}
                          for m in result.explained],
            "first_unexplained": result.first_unexplained, "reason": result.reason,
            "where": segments[len(result.explained)].where if result.verdict == "rejected" else None,
            "ignored_flags": result.ignored_flags, "seconds": result.seconds, "exit_code": code,
        }
        print(json.dumps(doc, indent=2))
        return code
    print(f"model: {args.model}")
    print(f"trace: {args.trace} ({len(segments)} segments)")
    if loaded.connections > 1:
        print(f"connection: {loaded.connection} (one of {loaded.connections}: see --list-conns)")
    for s in settings:
        print(f"set: {s.name}={str(s.value).lower() if isinstance(s.value, bool) else s.value} ({s.why})")
    if result.ignored_flags:
        print(f"note: the model has no {', '.join(result.ignored_flags)} flag; ignored")
    fixed = fixed_window(rep.conf.model)
    if fixed:
        print(f"note: the model's window is fixed ({fixed}): windows are not compared, only checked not to shrink; "
              "window updates are set aside")
    print()
    width = max(len(s.label) for s in segments)
    for i, seg in enumerate(segments, 1):
        if i <= len(result.explained):
            print(f"  step {i:<3} {seg.label:<{width}}  ok: {result.explained[i - 1].transition}")
        elif i == result.first_unexplained and result.verdict == "rejected":
            print(f"  step {i:<3} {seg.label:<{width}}  NOT EXPLAINED ({seg.where})")
            print(f"  {'':<8} {result.reason}")
        else:
            print(f"  step {i:<3} {seg.label:<{width}}  -")
    print()
    if result.verdict == "accepted":
        print(f"accepted: every segment is explained by a run of the model ({result.seconds:.1f}s)")
    elif result.verdict == "rejected":
        print(f"rejected at step {result.first_unexplained} ({segments[len(result.explained)].where}): "
              f"{len(result.explained)} of {len(segments)} segments explained")
    else:
        print(f"unknown: {result.reason}")
    return code


def _list_conns(args: argparse.Namespace) -> int:
    from tcpspec.traffic.capture import connections, is_capture, read_packets

    if not is_capture(args.trace):
        raise UsageError(f"--list-conns: {args.trace} is not a pcap or pcapng capture")
    conns = connections(read_packets(args.trace))
    if args.format == "json":
        print(json.dumps([{"conn": c.label, "segments": len(c.packets), "first_packet": c.packets[0].number,
                           "summary": c.summary()} for c in conns], indent=2))
        return EXIT_OK
    if not conns:
        print(f"{args.trace}: no TCP connection")
    for c in conns:
        print(f"{c.label:<47} from packet {c.packets[0].number}: {c.summary()}")
    return EXIT_OK


def _replay_itf(model: ir.Model, args: argparse.Namespace) -> int:
    """Our own traces: every state and step as written, checked on the interpreter."""
    from tcpspec.interp.search import run_is_behaviour
    from tcpspec.render.itf import itf_to_trace
    from tcpspec.core.results import steps

    from tcpspec.core.inputs import MAX_TRACE_BYTES, InputRefused, load_json, read_text

    text = read_text(args.trace, MAX_TRACE_BYTES, "trace")
    try:
        doc = load_json(text, "the trace")
    except InputRefused as e:
        raise UsageError(f"{args.trace}: not an ITF JSON trace ({e})") from None
    trace = itf_to_trace(doc, model)
    res = run_is_behaviour(model, trace)
    code = EXIT_OK if res.ok else EXIT_FAILED
    if args.format == "json":  # the shape of a segment trace's report, with the steps as the unit
        print(json.dumps({
            "model": args.model, "trace": args.trace, "verdict": "accepted" if res.ok else "rejected",
            "steps": trace.length, "first_unexplained": None if res.ok else res.step,
            "reason": "" if res.ok else res.message, "exit_code": code,
        }, indent=2))
    elif res.ok:
        print(f"accepted: {args.trace} is a run of the model ({steps(trace.length)})")
    else:
        print(f"rejected at step {res.step}: {res.message}")
    return code


# ---------------------------------------------------------------- simulate


def cmd_simulate(args: argparse.Namespace) -> int:
    from tcpspec.render.msc import build_chart, to_mermaid, to_svg
    from tcpspec.core.results import PropertyResult, Verdict, steps
    from tcpspec.interp.simulate import simulate

    check_input_file(args.model)
    check_writable(args.svg, "--svg")
    model = load_model_warned(args.model, parse_defines(args.define))
    trace, stopped = simulate(model, args.steps, args.seed)
    run = PropertyResult("simulation", "simulation", Verdict.HOLDS, "simulate", trace.length, 0.0, trace=trace)
    if args.svg:
        write_output(args.svg, to_svg(build_chart(trace, None, model), f"{args.model}: random run, seed {args.seed}"))
    if args.format == "json":
        from tcpspec.render.itf import result_to_itf

        print(json.dumps(result_to_itf(run, args.model, model), indent=2))
    elif args.format == "mermaid":
        print(to_mermaid(build_chart(trace, None, model)), end="")
    else:
        from tcpspec.render import text

        print(text.render_header(args.model))
        print()
        for line in text.render_trace(trace, run, model, what=f"random run, seed {args.seed}"):
            print(line)
        print()
        print(stopped or steps(trace.length))
        if args.svg:
            print(f"sequence diagram written to {args.svg}")
    return EXIT_OK


# ---------------------------------------------------------------- diff


def add_diff_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    d = sub.add_parser(
        "diff", help="the shortest message sequence one model can send and the other cannot",
        description="Compare the observable behaviour of two models: the sequences of messages their "
                    "processes send (channel and every field). Prints the shortest sequence one model "
                    "sends and the other cannot, with the run that sends it. See docs/diff.md.",
        epilog="exit codes: 0 no difference within the bounds, 1 a difference, 2 bad input or models "
               "that cannot be compared, 3 unknown (timeout), 130 interrupted",
    )
    d.add_argument("model_a", metavar="MODEL_A", help="the first .tcpspec file")
    d.add_argument("model_b", metavar="MODEL_B", help="the second .tcpspec file")
    d.add_argument("--depth", metavar="N", type=_positive_int, default=6,
                   help="runs of the sending model have at most N steps (default 6)")
    d.add_argument("--other-depth", metavar="M", type=_positive_int, default=None,
                   help="the other model may take at most M steps to send the same messages (default: 2N)")
    d.add_argument("--direction", choices=("both", "a-not-b", "b-not-a"), default="both",
                   help="a-not-b: only sequences A sends and B cannot (default: both directions)")
    d.add_argument("--timeout", metavar="SECONDS", type=_positive_float, default=None,
                   help="give up after this long (exit 3)")
    add_defines(d, "override a constant in every model that declares it (repeatable)")
    d.add_argument("--absent-as-default", action="store_true",
                   help="compare messages whose types differ in fields: a model without a field sends it "
                        "always as 0/false (e.g. the seed's Segment has no rst: it never resets)")
    d.add_argument("--theory", choices=THEORIES, default="auto", help="number representation (default auto)")
    d.add_argument("--format", choices=FORMATS, default="text")
    d.add_argument("--svg", metavar="FILE", default=None, type=_report_name, help="also write the difference as a sequence diagram")
    d.set_defaults(func=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    from tcpspec.analyses.diff import diff_models, load_pair

    for path in (args.model_a, args.model_b):
        check_input_file(path)
    check_writable(args.svg, "--svg")
    a, b = load_pair(args.model_a, args.model_b, parse_defines(args.define))
    directions = {"both": ("a", "b"), "a-not-b": ("a",), "b-not-a": ("b",)}[args.direction]
    result = diff_models(a, b, args.depth, args.other_depth, args.timeout, args.theory, directions,
                         args.absent_as_default)
    code = {"same": EXIT_OK, "different": EXIT_FAILED}.get(result.verdict, EXIT_UNKNOWN)
    paths = {"a": args.model_a, "b": args.model_b}
    models = {"a": a, "b": b}
    if args.svg and result.witness is not None and result.producer is not None:
        from tcpspec.render.msc import to_svg

        write_output(args.svg, to_svg(_diff_chart(result, models), _diff_headline(result, paths)))
    if args.format == "json":
        print(json.dumps(_diff_json(result, paths, models, code), indent=2))
    elif args.format == "mermaid":
        from tcpspec.render.msc import to_mermaid

        if result.witness is None:  # nothing to draw; the exit code says why
            print(f"%% tcpspec diff: {result.verdict} {_one_line(result.reason)}".rstrip())
        else:
            print(to_mermaid(_diff_chart(result, models)), end="")
    else:
        for line in _diff_text(result, paths, models):
            print(line)
        if args.svg and result.witness is not None:
            print(f"sequence diagram written to {args.svg}")
    return code


def _diff_label(model: Any, channel: str, msg: Any) -> str:
    """`SYN,ACK seq=0 ack=1 len=0` for segments, `Frame{bit=false,msg=0}` for other messages."""
    from tcpspec.render.msc import message_label
    from tcpspec.render.text import format_message, is_tcp_like

    if isinstance(msg, dict) and not is_tcp_like(msg):
        return format_message(msg, model.channel(channel).message.name)
    return message_label(msg)


def _diff_headline(result: Any, paths: dict[str, str]) -> str:
    p = result.producer
    q = "b" if p == "a" else "a"
    return f"{paths[p]} sends {len(result.messages)} message(s) that {paths[q]} cannot"


def _diff_chart(result: Any, models: dict[str, Any]) -> Any:
    from tcpspec.render.msc import build_chart

    chart = build_chart(result.witness, None, models[result.producer])
    chart.highlight = result.witness.steps[-1].index
    chart.caption = f"the other model cannot send message {result.first_unmatched} here"
    return chart


def _diff_json(result: Any, paths: dict[str, str], models: dict[str, Any], code: int) -> dict[str, Any]:
    from tcpspec.render.itf import trace_to_itf

    doc: dict[str, Any] = {
        "model_a": paths["a"], "model_b": paths["b"], "verdict": result.verdict, "depth": result.depth,
        "other_depth": result.other_depth, "directions": list(result.directions), "seconds": result.seconds,
        "paths": result.paths, "exit_code": code,
    }
    if result.verdict == "same":
        doc["longest_compared"] = result.longest
    if result.verdict == "unknown":
        doc["reason"] = result.reason
    if result.verdict == "different":
        p = result.producer
        q = "b" if p == "a" else "a"
        doc["producer"], doc["other"] = paths[p], paths[q]
        doc["first_unmatched"] = result.first_unmatched
        doc["note"] = result.note
        doc["messages"] = [{"channel": c, "message": m, "label": _diff_label(models[p], c, m),
                            "other_can": i < result.first_unmatched - 1} for i, (c, m) in enumerate(result.messages)]
        doc["witness"] = trace_to_itf(result.witness, source=paths[p], prop="diff", verdict="different",
                                      model=models[p], description=_diff_headline(result, paths))
        if result.other_prefix is not None:
            doc["other_prefix"] = trace_to_itf(result.other_prefix, source=paths[q], prop="diff", verdict="matched",
                                               model=models[q], description="the other model's run of the matched prefix")
    return doc


def _diff_text(result: Any, paths: dict[str, str], models: dict[str, Any]) -> list[str]:
    from tcpspec.render import text
    from tcpspec.core.results import PropertyResult, Verdict

    lines = [f"model A: {paths['a']}", f"model B: {paths['b']}",
             f"bounds:  the sending model's runs have <= {result.depth} steps, the other's <= {result.other_depth}", ""]
    if result.verdict == "same":
        which = {("a", "b"): "either model", ("a",): "A", ("b",): "B"}.get(tuple(result.directions), "either model")
        lines.append(f"same: every message sequence a run of {which} of <= {result.depth} steps sends, a run of "
                     f"the other of <= {result.other_depth} steps sends too")
        lines.append(f"      (compared up to {result.longest} messages; {result.paths} paths of the matching "
                     f"model generalized; {result.seconds:.1f}s)")
        return lines
    if result.verdict == "unknown":
        lines.append(f"unknown: {result.reason} ({result.seconds:.1f}s)")
        return lines
    p = result.producer
    q = "b" if p == "a" else "a"
    k = result.first_unmatched
    if k == 1:
        lines.append(f"{p.upper()} sends a first message that {q.upper()} cannot send first:")
    else:
        lines.append(f"{p.upper()} sends these {len(result.messages)} messages; "
                     f"{q.upper()} can send the first {k - 1} but not message {k}:")
    for i, (c, m) in enumerate(result.messages, 1):
        mark = f"<-- {q.upper()} cannot send this here" if i == k else f"{q.upper()} too"
        lines.append(f"  {i:>3}  {c:<6} {_diff_label(models[p], c, m):<40}  {mark}")
    lines.append("")
    run = PropertyResult("diff", "diff", Verdict.HOLDS, "diff", result.witness.length, result.seconds, trace=result.witness)
    lines += text.render_trace(result.witness, run, models[p], what=f"{p.upper()}'s run")
    if result.other_prefix is not None:
        lines.append("")
        lines += text.render_trace(result.other_prefix, run, models[q], what=f"{q.upper()}'s run sending the first {k - 1}")
    if result.note:
        lines += ["", f"note: {result.note}"]
    lines += ["", f"different: message {k} of {p.upper()}'s sequence is one {q.upper()} cannot send ({result.seconds:.1f}s)"]
    return lines


# ---------------------------------------------------------------- errors and main


def load_model_warned(path: str, defines: dict[str, str]) -> ir.Model:
    """`pipeline.load_model`, with the model's warnings printed on stderr (they never change a
    verdict or the exit code)."""
    from tcpspec.run import pipeline

    model = pipeline.load_model(path, defines)
    for w in model.warnings:
        print(render_diagnostic(w, model.sources), file=sys.stderr)
    return model


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    """The command; everything it prints on stdout and stderr goes through PrintableStream, so
    that an ESC in a doc comment or a file name is shown, not obeyed by the terminal."""
    from tcpspec.render.escape import PrintableStream

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableStream(out), PrintableStream(err)  # type: ignore[assignment]
    with _sigterm_interrupts() as terminated:
        try:
            code = _main(argv)
        finally:  # unless the broken-pipe branch has put /dev/null there
            if isinstance(sys.stdout, PrintableStream):
                sys.stdout = out
            sys.stderr = err
    return EXIT_TERMINATED if terminated and code == EXIT_INTERRUPTED else code


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[list[int]]:
    """SIGTERM (a CI job cancelled, `timeout`, systemd) ends the run as Ctrl-C does: the worker
    processes are stopped and what had finished is reported (by default Python would die at once
    and leave the pool's workers running). The list is non-empty once it came."""
    came: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield came
        return

    def on_term(signum: int, frame: object) -> None:
        if not came:
            came.append(signum)
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield came
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, argparse errors (code 2)
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("tcpspec: error: a command is required (try 'tcpspec check --help')", file=sys.stderr)
        return EXIT_USAGE
    if getattr(args, "no_cache", False):
        from tcpspec.proof.cache import ENV_OFF

        os.environ[ENV_OFF] = "1"  # worker processes inherit it
    try:
        code: int = args.func(args)
        return code
    except ModelError as e:
        sources = error_sources(e)
        for d in e.diagnostics or []:
            print(render_diagnostic(d, sources), file=sys.stderr)
        if not e.diagnostics:
            print("tcpspec: error: the model is invalid", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as e:
        print(f"tcpspec: error: {_one_line(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except EngineError as e:  # a gate's worker process died (cmd_check_one reports its own first)
        print(f"tcpspec: internal error: {_one_line(str(e))} (please report)", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("tcpspec: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `tcpspec check ... | head`: the reader left; say nothing more
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the interpreter's final flush is quiet
        except OSError:
            pass
        return EXIT_BROKEN_PIPE
    except Exception as e:
        if os.environ.get("TCPSPEC_DEBUG") == "1":
            raise
        print(f"tcpspec: internal error: {type(e).__name__}: {_one_line(str(e))} (please report)", file=sys.stderr)
        return EXIT_INTERNAL
