"""`tcpspec diff`: the shortest message sequence one model can send and the other cannot, reported
in text, JSON or Mermaid (the comparison itself is tcpspec/analyses/diff.py)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tcpspec.cli.args import FORMATS, add_defines, parse_defines, positive_float, positive_int, report_name
from tcpspec.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_UNKNOWN
from tcpspec.cli.files import check_input_file
from tcpspec.cli.output import one_line
from tcpspec.core.options import THEORIES
from tcpspec.core.outputs import check_writable, write_output


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
    d.add_argument("--depth", metavar="N", type=positive_int, default=6,
                   help="runs of the sending model have at most N steps (default 6)")
    d.add_argument("--other-depth", metavar="M", type=positive_int, default=None,
                   help="the other model may take at most M steps to send the same messages (default: 2N)")
    d.add_argument("--direction", choices=("both", "a-not-b", "b-not-a"), default="both",
                   help="a-not-b: only sequences A sends and B cannot (default: both directions)")
    d.add_argument("--timeout", metavar="SECONDS", type=positive_float, default=None,
                   help="give up after this long (exit 3)")
    add_defines(d, "override a constant in every model that declares it (repeatable)")
    d.add_argument("--absent-as-default", action="store_true",
                   help="compare messages whose types differ in fields: a model without a field sends it "
                        "always as 0/false (e.g. the seed's Segment has no rst: it never resets)")
    d.add_argument("--theory", choices=THEORIES, default="auto", help="number representation (default auto)")
    d.add_argument("--format", choices=FORMATS, default="text")
    d.add_argument("--svg", metavar="FILE", default=None, type=report_name, help="also write the difference as a sequence diagram")
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
            print(f"%% tcpspec diff: {result.verdict} {one_line(result.reason)}".rstrip())
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
