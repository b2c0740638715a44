"""The human report. By default it is calm: what needs attention first (each violated,
unreached or undecided property on its own line, with its trace), then one line per verdict
for everything that is fine ("110 proved in 14.2 s: 24 invariants, 15 step properties, 71
lemmas"; the witnesses by depth). `verbose` is the full table: one line per property in the
model's order, and every trace.

The layout is stable (golden-tested) so that people can diff two runs. No colors; lines stay
within `WIDTH` columns, long lists continue on the next line.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from tcpspec.core.results import STOPPED, PropertyResult, Verdict, steps
from tcpspec.core.trace import Trace, TraceStep
from tcpspec.core.types import MapValue, Value, value_text

if TYPE_CHECKING:
    from tcpspec.checker import ir

WIDTH = 120
TCP_FLAGS = ("syn", "ack", "fin", "rst", "psh", "urg")
TCP_NUMBERS = (("seq", "seq"), ("ackno", "ack"), ("len", "len"))  # (field, shown as)
VERDICT_WIDTH = max(len(v.value) for v in Verdict)
KIND_WIDTH = len("eventually")
ENGINE_WIDTH = 8  # bmc, kind, pdr, auto, explicit
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
    if r.search is not None and r.detail and v in (Verdict.HOLDS, Verdict.UNREACHED):
        return f"({r.detail})"  # engine explicit: bounded, sampled or exhaustive, it says which
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
    if r.trace is not None and r.kind == "temporal":
        return f"(the run stops after {steps(n)}, nothing can fire; its last state repeated forever violates the formula)"
    what = "witness" if v is Verdict.REACHED else "counterexample"
    more = f"; {r.detail}" if r.detail else ""
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


# ---------------------------------------------------------------- the calm report

# How a kind is counted in a grouped line: (one, many).
KIND_NOUNS = {
    "invariant": ("invariant", "invariants"), "step": ("step property", "step properties"),
    "lemma": ("lemma", "lemmas"), "reachable": ("target", "targets"),
    "eventually": ("eventually property", "eventually properties"),
    "leads_to": ("leads_to property", "leads_to properties"),
    "temporal": ("temporal property", "temporal properties"), "deadlock": ("deadlock check", "deadlock checks"),
}
# What needs attention comes first, in this order; the rest is grouped.
ATTENTION = (Verdict.VIOLATED, Verdict.UNREACHED, Verdict.UNKNOWN)


def count_kinds(results: list[PropertyResult]) -> str:
    """`24 invariants, 15 step properties, 71 lemmas`, kinds in a fixed order."""
    counts = Counter(r.kind for r in results)
    order = [k for k in KIND_NOUNS if counts[k]] + sorted(k for k in counts if k not in KIND_NOUNS)
    return ", ".join(f"{counts[k]} {KIND_NOUNS.get(k, (k, k))[counts[k] != 1]}" for k in order)


def _seconds(results: list[PropertyResult]) -> str:
    return f"{max(r.seconds for r in results):.1f} s"


def _grouped(results: list[PropertyResult]) -> list[str]:
    """One line (or a few, wrapped) per verdict for the results that need no attention."""
    lines: list[str] = []
    proved = [r for r in results if r.verdict is Verdict.PROVED]
    if proved:
        lines.append(f"{len(proved)} proved in {_seconds(proved)}: {count_kinds(proved)}")
        details = {r.detail for r in proved}
        if len(details) == 1 and proved[0].detail:
            lines += wrap_items([f"({proved[0].engine}: {proved[0].detail})"], STEP_INDENT)
    holds = [r for r in results if r.verdict is Verdict.HOLDS]
    for depth in sorted({r.depth or 0 for r in holds}):
        group = [r for r in holds if (r.depth or 0) == depth]
        verb = "holds" if len(group) == 1 else "hold"
        lines.append(f"{len(group)} {verb}, no violation within {steps(depth)} (bounded, not proved): "
                     f"{count_kinds(group)}")
        ctis = sum(1 for r in group if r.cti is not None)
        if ctis:
            lines.append(f"{STEP_INDENT}({ctis} with a counterexample to induction: -v shows why the proof failed)")
    reached = [r for r in results if r.verdict is Verdict.REACHED]
    if reached:
        by_depth: dict[int, list[str]] = {}
        for r in sorted(reached, key=lambda r: r.depth or 0):
            by_depth.setdefault(r.depth or 0, []).append(r.property)
        items = [f"depth {d}: {' '.join(names)}" for d, names in by_depth.items()]
        what = "the shortest witness" if len(reached) == 1 else "shortest witnesses"
        lines += _continued(f"{len(reached)} reached in {_seconds(reached)}, {what} at ", items)
    return lines  # the properties a stopped run did not get to: the summary line counts them


def _continued(head: str, items: list[str]) -> list[str]:
    """`head` then the items joined by '; ', continued on indented lines within WIDTH."""
    lines, cur = [], head
    for i, item in enumerate(items):
        piece = item if i == 0 else f"; {item}"
        if i and len(cur) + len(piece) > WIDTH:
            lines.append(cur + ";")
            cur = STEP_INDENT + item
        else:
            cur += piece
    return lines + [cur]


def needs_attention(r: PropertyResult) -> bool:
    """Listed on its own line in the calm report: violated, unreached, or undecided (except the
    properties a stopped run did not get to, which are counted in one line)."""
    return r.verdict in ATTENTION and r.detail != STOPPED


def render_body(results: list[PropertyResult], model: ir.Model | None = None, verbose: bool = False) -> list[str]:
    """The report between its header and its summary line. `verbose`: every property in the
    model's order, with every trace; else the calm report (see the module doc)."""
    width = name_width([r.property for r in results])
    lines: list[str] = []
    if verbose:
        for r in results:
            lines += render_result(r, width, model)
        return lines
    first = [r for v in ATTENTION for r in results if r.verdict is v and needs_attention(r)]
    width = name_width([r.property for r in first])
    for r in first:
        lines += render_result(r, width, model)
    if lines and lines[-1]:
        lines.append("")
    return lines + _grouped([r for r in results if not needs_attention(r)])


def render_report(source: str, results: list[PropertyResult], model: ir.Model | None = None,
                  verbose: bool = False, interrupted: bool = False) -> str:
    """The whole text report, as `tcpspec check` prints it."""
    lines = [render_header(source), ""] + render_body(results, model, verbose)
    if lines[-1]:
        lines.append("")
    if interrupted:
        lines.append(INTERRUPTED)
    lines.append(render_summary(results))
    return "\n".join(lines) + "\n"


INTERRUPTED = "interrupted: only the results above are complete"
