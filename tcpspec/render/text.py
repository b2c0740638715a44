"""The human report: one line per property, and a step table for every trace.

The layout is stable (golden-tested) so that people can diff two runs. No colors; lines stay
within `WIDTH` columns, long lists of changes continue on the next line.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from tcpspec.results import STOPPED, PropertyResult, Verdict, steps
from tcpspec.trace import Trace, TraceStep
from tcpspec.types import MapValue, Value, value_text

if TYPE_CHECKING:
    from tcpspec import ir

WIDTH = 120
TCP_FLAGS = ("syn", "ack", "fin", "rst", "psh", "urg")
TCP_NUMBERS = (("seq", "seq"), ("ackno", "ack"), ("len", "len"))  # (field, shown as)
VERDICT_WIDTH = max(len(v.value) for v in Verdict)
KIND_WIDTH = len("reachable")
ENGINE_WIDTH = 4  # bmc, kind, pdr, auto
NAME_WIDTH_MAX = 40
STEP_INDENT = "    "  # traces sit under their property line

StateValue = Value | list[Value]


# ---------------------------------------------------------------- values


def format_value(v: StateValue, type_name: str = "") -> str:
    """Enum members by name, bools as true/false, numbers in decimal, messages TCP-like."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, str)):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(format_value(m, type_name) for m in v) + "]"
    if isinstance(v, (MapValue, frozenset)):  # as the model writes them: [k -> v, ...], {a, b}
        return value_text(v)
    return format_message(v, type_name)


def is_tcp_like(msg: dict[str, Value]) -> bool:
    return "seq" in msg and any(f in msg for f in TCP_FLAGS)


def format_message(msg: dict[str, Value], type_name: str = "") -> str:
    """`SYN,ACK seq=0 ack=1 len=0` for TCP-like segments, else `Name{f=v,...}`."""
    if not is_tcp_like(msg):
        return type_name + "{" + ",".join(f"{k}={format_value(v)}" for k, v in msg.items()) + "}"
    flags = ",".join(f.upper() for f in TCP_FLAGS if msg.get(f) is True) or "-"
    parts = [flags]
    parts += [f"{shown}={format_value(msg[f])}" for f, shown in TCP_NUMBERS if f in msg]
    known = set(TCP_FLAGS) | {f for f, _ in TCP_NUMBERS}
    parts += [f"{k}={format_value(v)}" for k, v in msg.items() if k not in known]
    return " ".join(parts)


def wrap_items(items: list[str], indent: str, width: int = WIDTH) -> list[str]:
    """Join items with ', ' into lines of at most `width` columns (an item is never split)."""
    lines: list[str] = []
    cur = ""
    for item in items:
        candidate = f"{cur}, {item}" if cur else item
        if cur and len(indent) + len(candidate) + 1 > width:
            lines.append(indent + cur + ",")
            cur = item
        else:
            cur = candidate
    if cur:
        lines.append(indent + cur)
    return lines


# ---------------------------------------------------------------- traces


class Names:
    """Message type names per channel, from the model when we have one (for `Segment{...}`)."""

    def __init__(self, model: ir.Model | None) -> None:
        self.by_channel = {c.name: c.message.name for c in model.channels} if model else {}

    def msg(self, channel: str, m: Value) -> str:
        return format_value(m, self.by_channel.get(channel, ""))


def step_title(step: TraceStep) -> str:
    """`client.send_data(n=159)`, or `init` for the initial state."""
    if step.transition is None:
        return "init"
    if not step.params:
        return step.transition
    args = ", ".join(f"{k}={format_value(v)}" for k, v in step.params.items())
    return f"{step.transition}({args})"


def _explained(prev: TraceStep, step: TraceStep, ch: str) -> bool:
    """Whether a channel's new contents follow from the step's receive and send lines alone."""
    before = prev.state.get(ch)
    if not isinstance(before, list):
        return False
    expect = list(before)
    if any(c == ch for c, _ in step.received):
        expect = expect[1:]
    expect += [m for c, m in step.sent if c == ch]
    return expect == step.state[ch]


def step_details(prev: TraceStep | None, step: TraceStep, names: Names) -> list[str]:
    """The items under a step: messages taken and sent, then the changes."""
    events = [f"recv {ch} -> {names.msg(ch, m)}" for ch, m in step.received]
    events += [f"send {ch} <- {names.msg(ch, m)}" for ch, m in step.sent]
    if prev is None:
        changes = [f"{k} = {_fmt_state(k, v, names)}" for k, v in step.state.items()]
    else:
        changes = []
        for k, new in step.state.items():
            old = prev.state.get(k)
            if old == new or (isinstance(new, list) and _explained(prev, step, k)):
                continue
            old_s = "?" if old is None else _fmt_state(k, old, names)
            changes.append(f"{k}: {old_s} -> {_fmt_state(k, new, names)}")
    return events + changes


def _fmt_state(key: str, v: StateValue, names: Names) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(names.msg(key, m) for m in v) + "]"
    return format_value(v)


def render_trace(trace: Trace, result: PropertyResult, model: ir.Model | None = None, what: str = "") -> list[str]:
    """The step table: `step N  title`, then indented events and `var: old -> new` changes."""
    names = Names(model)
    what = what or ("witness" if result.kind == "reachable" else "counterexample")
    n = trace.length
    lines = [f"{STEP_INDENT}{what} ({steps(n)}):"]
    label_w = len(f"step {trace.steps[-1].index}") if trace.steps else 6
    detail_indent = STEP_INDENT + "  " + " " * label_w + "  "
    marker_verb = "reaches" if result.verdict is Verdict.REACHED else "violates"
    prev: TraceStep | None = None
    for i, step in enumerate(trace.steps):
        head = f"{STEP_INDENT}  {'step ' + str(step.index):<{label_w}}  {step_title(step)}"
        if i == len(trace.steps) - 1 and result.verdict in (Verdict.VIOLATED, Verdict.REACHED):
            head += f"   <-- {marker_verb} {result.property}"
        lines.append(head)
        events_and_changes = step_details(prev, step, names)
        n_events = len(step.received) + len(step.sent)
        lines += [detail_indent + e for e in events_and_changes[:n_events]]
        lines += wrap_items(events_and_changes[n_events:], detail_indent)
        prev = step
    if trace.loop is not None and trace.steps[-1].state == trace.steps[trace.loop].state and trace.loop < n:
        again = f"step {n} repeats" if trace.loop + 1 == n else f"steps {trace.loop + 1}..{n} repeat"
        lines.append(f"{detail_indent}(back at step {trace.loop}: {again} forever)")
    elif trace.loop is not None:
        lines.append(f"{detail_indent}(then loops back to step {trace.loop})")
    return lines


# ---------------------------------------------------------------- the report


def verdict_note(r: PropertyResult) -> str:
    """What the verdict means, bounds included: a bounded `holds` is no proof."""
    v = r.verdict
    if v is Verdict.HOLDS:
        return f"(no violation in {steps(r.depth)}; bounded)"
    if v is Verdict.UNREACHED:
        return f"(not reached in {steps(r.depth)}; bounded)"
    if v is Verdict.PROVED:
        return f"({r.detail})" if r.detail else "(in every reachable state)"
    if v is Verdict.UNKNOWN:
        return f"({r.detail})" if r.detail else "(undecided)"
    n = r.trace.length if r.trace is not None else r.depth
    if r.trace is not None and r.trace.loop is not None:
        return f"(lasso of {steps(n)}, looping back to step {r.trace.loop})"
    if r.trace is not None and r.kind in ("eventually", "leads_to"):
        return f"(the run stops after {steps(n)}, nothing can fire, goal missed)"
    what = "witness" if v is Verdict.REACHED else "counterexample"
    more = f"; {r.detail}" if r.detail and v is Verdict.REACHED else ""
    return f"({what} of {steps(n)}{more})"


def name_width(names: list[str]) -> int:
    return min(NAME_WIDTH_MAX, max((len(n) for n in names), default=0))


def render_header(source: str) -> str:
    return f"model: {source}"


def render_result(r: PropertyResult, width: int, model: ir.Model | None = None) -> list[str]:
    """One property: its verdict line, its doc when it failed, its trace."""
    depth = "-" if r.depth is None else str(r.depth)
    line = (
        f"{r.verdict.value:<{VERDICT_WIDTH}}  {r.property:<{width}}  {r.kind:<{KIND_WIDTH}}  "
        f"{r.engine:<{ENGINE_WIDTH}}  depth {depth:<3}  {r.seconds:6.2f}s  {verdict_note(r)}"
    )
    lines = [line.rstrip()]
    if r.failed and r.doc:
        lines += [STEP_INDENT + d.strip() for d in r.doc.strip().splitlines()]
    if len(r.traces) > 1:  # --max-cex: each run in turn
        what = "witness" if r.kind == "reachable" else "counterexample"
        for i, t in enumerate(r.traces, 1):
            lines += render_trace(t, r, model, what=f"{what} {i} of {len(r.traces)}") + [""]
    elif r.trace is not None:
        lines += render_trace(r.trace, r, model) + [""]
    elif r.cti is not None:
        lines += render_cti(r.cti, r, model) + [""]
    return lines


CTI_TITLE = "counterexample to induction: not necessarily reachable"


def render_cti(cti: Trace, r: PropertyResult, model: ir.Model | None = None) -> list[str]:
    """Why induction failed: a state where the property (and every proved lemma) holds, and a step
    out of it that breaks the property. The missing lemma is one this state violates."""
    lines = render_trace(cti, r, model, what=CTI_TITLE)
    lines = [ln.replace("step 0  init", "step 0  (a state the proof could not rule out)", 1) for ln in lines]
    for i in range(len(lines) - 1, 0, -1):  # mark the step's own title line
        if lines[i].lstrip().startswith(f"step {cti.steps[-1].index}"):
            lines[i] += f"   <-- breaks {r.property}"
            break
    return lines + [f"{STEP_INDENT}(a `lemma` that step 0 violates and every reachable state satisfies would help)"]


def render_summary(results: list[PropertyResult]) -> str:
    """`3 properties: 1 holds, 1 violated, 1 reached`, verdicts in a fixed order."""
    counts = Counter(r.verdict for r in results)
    n = len(results)
    parts = [f"{counts[v]} {v.value}" for v in Verdict if counts[v]]
    head = f"{n} propert{'y' if n == 1 else 'ies'}"
    stopped = sum(1 for r in results if r.detail == STOPPED)
    tail = f" ({stopped} not decided: the run stopped at its first violation; --keep-going checks them)" if stopped else ""
    return f"{head}: {', '.join(parts)}{tail}" if parts else head


def render_report(source: str, results: list[PropertyResult], model: ir.Model | None = None) -> str:
    """The whole text report (the CLI streams the same pieces as results come in)."""
    width = name_width([r.property for r in results])
    lines = [render_header(source), ""]
    for r in results:
        lines += render_result(r, width, model)
    if lines[-1]:
        lines.append("")
    lines.append(render_summary(results))
    return "\n".join(lines) + "\n"
