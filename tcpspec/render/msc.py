"""Traces as message sequence charts, like the pictures in the seed: Mermaid text and a
self-contained SVG.

One lifeline per process instance (plus `network` when the trace has network events: loss,
duplication, reordering, injection). A message is drawn when it is *received*, from the
instance that sent it to the one that took it, labelled like `SYN,ACK seq=0 ack=1 len=0`
(true flag fields in capitals; `ackno` shown as `ack=` only when the ack flag is set); a
message still in flight at the end is drawn dashed at its send, a lost one crossed. When an
instance's control state (its enum variables) changes, a note on its lifeline says so; other
changes are listed in the note of the step that made them. The last step of a counterexample
or witness is shaded, with the property it violates or reaches.

Both outputs are built from one list of events, so they show the same thing in the same order.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from tcpspec.checker import ir
from tcpspec.render.escape import printable
from tcpspec.core.results import PropertyResult, Verdict
from tcpspec.core.trace import Trace, TraceStep
from tcpspec.core.types import BoolType, EnumType

NETWORK = "network"


@dataclass
class Event:
    """One row of the chart."""

    kind: str  # "msg" | "lost" | "inflight" | "note" | "step"
    src: str = ""
    dst: str = ""
    text: str = ""
    step: int = 0


@dataclass
class Chart:
    lanes: list[str]
    events: list[Event] = field(default_factory=list)
    highlight: int | None = None  # the step shaded as the violation / target
    caption: str = ""


def message_label(msg: object) -> str:
    """`SYN,ACK seq=0 ack=1 len=0`: true flags in capitals, then the other fields."""
    if not isinstance(msg, dict):
        return str(msg)
    flags = [k.upper() for k, v in msg.items() if v is True]
    parts = []
    for k, v in msg.items():
        if isinstance(v, bool):
            continue
        if k == "ackno":
            if msg.get("ack") is False:
                continue
            k = "ack"
        parts.append(f"{k}={_value(v)}")
    head = ",".join(flags)
    return " ".join(([head] if head else []) + parts) or "{}"


def _value(v: object) -> str:
    from tcpspec.render.text import format_value

    return format_value(v)  # type: ignore[arg-type]


def _instance_of(step: TraceStep) -> str:
    name = step.transition or ""
    return name.split(".", 1)[0] if "." in name else name


def _control_vars(model: ir.Model | None) -> set[str]:
    if model is None:
        return set()
    return {v.name for v in model.state_vars if isinstance(v.type, EnumType)}


def _bool_vars(model: ir.Model | None) -> set[str]:
    if model is None:
        return set()
    return {v.name for v in model.state_vars if isinstance(v.type, BoolType)}


def _receivers(model: ir.Model | None) -> dict[str, str]:
    """channel -> the instance whose transitions receive from it."""
    out: dict[str, str] = {}
    for t in getattr(model, "transitions", []) or []:
        if isinstance(t, ir.Transition) and t.receive is not None:
            out.setdefault(t.receive[1].name, t.instance)
    return out


def build_chart(trace: Trace, result: PropertyResult | None = None, model: ir.Model | None = None) -> Chart:
    instances = [i.name for i in getattr(model, "instances", [])] if model is not None else []
    for step in trace.steps[1:]:
        who = _instance_of(step)
        if step.transition and who not in instances and not _is_network(step, model):
            instances.append(who)
    network = any(_is_network(s, model) for s in trace.steps[1:])
    chart = Chart(instances + ([NETWORK] if network else []))
    controls = _control_vars(model)
    receivers = _receivers(model)
    queues: dict[str, list[tuple[str, object]]] = {}
    first = trace.steps[0] if trace.steps else None
    if first is not None:
        for lane in instances:
            states = [f"{k.split('.', 1)[1]} = {first.state[k]}" for k in sorted(first.state) if k in controls and k.startswith(lane + ".")]
            if states:
                chart.events.append(Event("note", lane, lane, ", ".join(states), 0))
        for ch, items in first.state.items():
            if isinstance(items, list) and ch not in controls:
                queues[ch] = [("?", m) for m in items]
    prev = first
    for step in trace.steps[1:]:
        who = NETWORK if _is_network(step, model) else _instance_of(step)
        title = step.transition.split(".", 1)[-1] if step.transition else "step"
        if step.params:
            title += "(" + ", ".join(f"{k}={v}" for k, v in step.params.items()) + ")"
        chart.events.append(Event("step", who, who, f"step {step.index}: {title}", step.index))
        for ch, msg in step.received:
            q = queues.setdefault(ch, [])
            sender = "?"
            for i, (s, m) in enumerate(q):
                if m == msg:
                    sender = s
                    del q[i]
                    break
            src = sender if sender != "?" else (NETWORK if network else who)
            chart.events.append(Event("msg", src, who, message_label(msg), step.index))
        if who == NETWORK and prev is not None:
            _network_effects(step, prev, chart, queues, receivers)
        for ch, msg in step.sent:
            queues.setdefault(ch, []).append((who, msg))
        changed = [k for k in step.changed if not isinstance(step.state.get(k), list)]
        if prev is not None and changed:
            by_lane: dict[str, list[str]] = {}
            for k in changed:
                lane = k.split(".", 1)[0]
                local = k.split(".", 1)[-1]
                text = f"{prev.state.get(k)} -> {step.state[k]}" if k in controls else f"{local}: {prev.state.get(k)} -> {step.state[k]}"
                by_lane.setdefault(lane if lane in instances else who, []).append(text)
            for lane, texts in by_lane.items():
                chart.events.append(Event("note", lane, lane, ", ".join(texts), step.index))
        prev = step
    for ch, q in queues.items():
        for sender, msg in q:
            dst = receivers.get(ch, sender)
            if sender != "?" and dst in chart.lanes:
                chart.events.append(Event("inflight", sender, dst, message_label(msg) + " (in flight)", trace.steps[-1].index))
    if result is not None and result.verdict in (Verdict.VIOLATED, Verdict.REACHED) and len(trace.steps) > 1:
        chart.highlight = trace.steps[-1].index
        verb = "reaches" if result.verdict is Verdict.REACHED else "violates"
        chart.caption = f"{verb} {result.property}"
    return chart


def _is_network(step: TraceStep, model: ir.Model | None) -> bool:
    name = step.transition or ""
    if model is not None:
        for t in model.transitions:
            if t.name == name:
                return isinstance(t, ir.NetworkTransition)
    return name.rsplit(".", 1)[-1] in ("loss", "duplication", "reordering", "injection")


def _network_effects(step: TraceStep, prev: TraceStep, chart: Chart, queues: dict[str, list[tuple[str, object]]],
                     receivers: dict[str, str]) -> None:
    """Loss: the vanished message, crossed; injection: the new one, from `network`."""
    for ch in {c for c, v in step.state.items() if isinstance(v, list)}:
        before, after = list(prev.state.get(ch) or []), list(step.state.get(ch) or [])  # type: ignore[arg-type]
        q = queues.setdefault(ch, [])
        if len(after) < len(before):
            for i, (sender, m) in enumerate(q):
                if m not in after or after.count(m) < before.count(m):
                    chart.events.append(Event("lost", sender if sender != "?" else NETWORK, receivers.get(ch, NETWORK),
                                              message_label(m) + " (lost)", step.index))
                    del q[i]
                    break
        elif len(after) > len(before):
            extra = [m for m in after]
            for m in before:
                if m in extra:
                    extra.remove(m)
            for m in extra:
                q.append((NETWORK, m))
                chart.events.append(Event("note", NETWORK, NETWORK, f"{ch}: + {message_label(m)}", step.index))


# ---------------------------------------------------------------- Mermaid


def _mm(text: str) -> str:
    """Mermaid message text: no `;`, `#` or line breaks (they end or escape the statement)."""
    return text.replace(";", ",").replace("#", "no.").replace("\n", " ")


def to_mermaid(chart: Chart) -> str:
    lines = ["sequenceDiagram"]
    for lane in chart.lanes:
        lines.append(f"    participant {lane}")
    open_rect = False
    events = _merge_titles(chart.events)
    for e in events:
        if chart.highlight is not None and e.step == chart.highlight and not open_rect:
            lines.append("    rect rgb(255, 221, 221)")
            lines.append(f"    Note over {chart.lanes[0]},{chart.lanes[-1]}: {_mm(chart.caption)}")
            open_rect = True
        ind = "        " if open_rect else "    "
        if e.kind == "msg":
            lines.append(f"{ind}{e.src}->>{e.dst}: {_mm(e.text)}")
        elif e.kind == "lost":
            lines.append(f"{ind}{e.src}-x{e.dst}: {_mm(e.text)}")
        elif e.kind == "inflight":
            lines.append(f"{ind}{e.src}--){e.dst}: {_mm(e.text)}")
        elif e.kind == "note":
            lines.append(f"{ind}Note over {e.src}: {_mm(e.text)}")
        elif e.kind == "step" and e.src in chart.lanes:
            lines.append(f"{ind}Note over {e.src}: {_mm(e.text)}")
    if open_rect:
        lines.append("    end")
    return printable("\n".join(lines)) + "\n"


def _merge_titles(events: list[Event]) -> list[Event]:
    """Mermaid has no margin for step titles: a step's title joins the note of its own lane's
    changes (`step 3: listen_recv_syn · LISTEN -> SYN_RECEIVED, ...`), placed after the
    messages of that step."""
    out: list[Event] = []
    pending: Event | None = None
    for e in events:
        if e.kind == "step":
            if pending is not None:
                out.append(pending)
            pending = e
            continue
        if pending is not None and e.kind == "note" and e.src == pending.src and e.step == pending.step:
            out.append(Event("note", e.src, e.dst, f"{pending.text} · {e.text}", e.step))
            pending = None
            continue
        if pending is not None and e.step != pending.step:
            out.append(pending)
            pending = None
        out.append(e)
    if pending is not None:
        out.append(pending)
    return out


# ---------------------------------------------------------------- SVG

LANE_W = 280
ROW_H = 30
TOP = 70
LEFT = 170
FONT = "font-family:DejaVu Sans Mono,Menlo,Consolas,monospace;font-size:12px"


def _wrap(text: str, width: int = 34) -> list[str]:
    """Note text in lines of about `width` characters, broken after commas."""
    lines: list[str] = []
    for part in text.split(", "):
        if lines and len(lines[-1]) + 2 + len(part) <= width:
            lines[-1] += ", " + part
        else:
            lines.append(part)
    return lines


def to_svg(chart: Chart, title: str = "") -> str:
    """A standalone SVG document: inline styles only, no scripts, fonts or links."""
    n = max(1, len(chart.lanes))
    width = LEFT + n * LANE_W
    heights = [ROW_H if e.kind != "note" else ROW_H + 16 * (len(_wrap(e.text)) - 1) for e in chart.events]
    ys: list[int] = []
    y = TOP
    for h in heights:
        y += h
        ys.append(y)
    height = y + 2 * ROW_H
    svg = ET.Element("svg", xmlns="http://www.w3.org/2000/svg", width=str(width), height=str(height),
                     viewBox=f"0 0 {width} {height}")
    ET.SubElement(svg, "title").text = title or "tcpspec trace"
    defs = ET.SubElement(svg, "defs")
    marker = ET.SubElement(defs, "marker", id="arrow", viewBox="0 0 10 10", refX="10", refY="5",
                           markerWidth="8", markerHeight="8", orient="auto-start-reverse")
    ET.SubElement(marker, "path", d="M 0 0 L 10 5 L 0 10 z", fill="#222")
    ET.SubElement(svg, "rect", x="0", y="0", width=str(width), height=str(height), fill="#ffffff")
    x = {lane: LEFT + i * LANE_W + LANE_W // 2 for i, lane in enumerate(chart.lanes)}
    if title:
        _text(svg, 10, 20, title, weight="bold")
    rows = [i for i, e in enumerate(chart.events) if chart.highlight is not None and e.step == chart.highlight]
    if rows:
        y0 = ys[rows[0]] - heights[rows[0]] + ROW_H // 2 - 4
        y1 = ys[rows[-1]] + ROW_H // 2
        ET.SubElement(svg, "rect", x="4", y=str(y0), width=str(width - 8), height=str(y1 - y0),
                      fill="#ffdddd", stroke="#cc0000", **{"stroke-width": "1.5", "class": "highlight"})
        _text(svg, width - 10, y0 + 14, chart.caption, anchor="end", color="#cc0000", weight="bold")
    for lane, lx in x.items():
        ET.SubElement(svg, "rect", x=str(lx - 60), y=str(TOP - 40), width="120", height="26", rx="4",
                      fill="#eef3fb", stroke="#335")
        _text(svg, lx, TOP - 22, lane, anchor="middle", weight="bold", cls="lane")
        ET.SubElement(svg, "line", x1=str(lx), y1=str(TOP - 14), x2=str(lx), y2=str(height - 10),
                      stroke="#99a", **{"stroke-dasharray": "4 3"})
    for i, e in enumerate(chart.events):
        y = ys[i] - heights[i] + ROW_H
        if e.kind in ("msg", "lost", "inflight") and e.src in x and e.dst in x:
            x1, x2 = x[e.src], x[e.dst]
            if x1 == x2:
                x2 = x1 + 40
            attrs = {"stroke": "#222", "stroke-width": "1.5", "marker-end": "url(#arrow)"}
            if e.kind == "inflight":
                attrs["stroke-dasharray"] = "6 4"
            if e.kind == "lost":
                attrs.pop("marker-end")
                attrs["stroke"] = "#a00"
            ET.SubElement(svg, "line", x1=str(x1), y1=str(y), x2=str(x2), y2=str(y), **attrs)
            if e.kind == "lost":
                _text(svg, x2, y + 5, "x", anchor="middle", color="#a00", weight="bold")
            _text(svg, (x1 + x2) // 2, y - 5, e.text, anchor="middle", cls="message")
        elif e.kind == "note" and e.src in x:
            lines = _wrap(e.text)
            w = min(LANE_W - 10, max(90, 7 * max(len(t) for t in lines) + 14))
            h = 20 + 16 * (len(lines) - 1)
            ET.SubElement(svg, "rect", x=str(x[e.src] - w // 2), y=str(y - 15), width=str(w), height=str(h),
                          rx="3", fill="#fff8c5", stroke="#b9a300")
            for j, t in enumerate(lines):
                _text(svg, x[e.src], y + 16 * j, t, anchor="middle", cls="state")
        elif e.kind == "step":
            _text(svg, 10, y, e.text, color="#555", cls="step")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + printable(ET.tostring(svg, encoding="unicode")) + "\n"


def _text(parent: ET.Element, x: int, y: int, text: str, anchor: str = "start", color: str = "#111",
          weight: str = "normal", cls: str = "") -> None:
    attrs = {"x": str(x), "y": str(y), "fill": color, "style": f"{FONT};font-weight:{weight}",
             "text-anchor": anchor}
    if cls:
        attrs["class"] = cls
    ET.SubElement(parent, "text", **attrs).text = text


def html_page(svg: str) -> str:
    """The SVG inline in a minimal HTML page (for viewing, and the browser test)."""
    body = svg.split("?>", 1)[-1]
    return f"<!doctype html><html><head><meta charset='utf-8'><title>tcpspec</title></head><body>{body}</body></html>"


