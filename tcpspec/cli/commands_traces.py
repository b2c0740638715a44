"""Runs of a model as traces: `tcpspec replay` decides whether a trace (a capture, a text trace, an
ITF trace) is a behaviour of the model; `tcpspec simulate` prints a random one."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from tcpspec.cli.args import MAX_STEPS, add_defines, bounded_int, parse_defines, positive_float, report_name
from tcpspec.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_UNKNOWN
from tcpspec.cli.files import check_input_file
from tcpspec.cli.output import load_model_warned
from tcpspec.cli.progress import ProgressLine, progress_shown
from tcpspec.core.diagnostics import UsageError, render_diagnostic
from tcpspec.core.outputs import check_writable, write_output

if TYPE_CHECKING:
    from tcpspec.checker import ir


def add_replay_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    replay.add_argument("--conn", metavar="A:P-B:Q[#N]", default=None,
                        help="captures: the TCP connection to replay (default: the first that opens with a SYN); "
                             "#N the N-th on that address pair, as --list-conns names it (a port reused)")
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
    replay.add_argument("--timeout", metavar="SECONDS", type=positive_float, default=300.0,
                        help="give up after this long (exit 3; default 300)")
    replay.add_argument("--format", choices=("text", "json"), default="text")
    replay.set_defaults(func=cmd_replay)


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
    with ProgressLine(progress_shown(args), f"replaying {len(segments)} segments", total=len(segments)) as progress:
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


def add_simulate_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sim = sub.add_parser(
        "simulate",
        help="print a random run of a model (to explore it while writing it)",
        description="A random run on the explicit interpreter: each step picks uniformly among the "
                    "enabled transitions and parameters; the same --seed gives the same run.",
    )
    sim.add_argument("model", metavar="MODEL", help="the .tcpspec file")
    sim.add_argument("--steps", metavar="N", type=bounded_int(0, MAX_STEPS), default=20, help="at most N steps (default 20)")
    sim.add_argument("--seed", metavar="S", type=bounded_int(-(2**63), 2**63), default=0, help="random seed (default 0)")
    add_defines(sim)
    sim.add_argument("--format", choices=("text", "json", "mermaid"), default="text")
    sim.add_argument("--svg", metavar="FILE", default=None, type=report_name, help="also write the run as a sequence diagram")
    sim.set_defaults(func=cmd_simulate)


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
