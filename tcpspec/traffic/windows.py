"""Windows on the wire, for a model that fixes the window (its window field has one value).

Such a model says nothing about the windows a trace advertises, so replay checks what holds
of them whatever the model: a receiver does not shrink its window (`shrinking_window`); and
it sets aside what only a window carries: a window update, the same acknowledgment sent again
to move the window, tells the peer nothing the model has (`window_updates`). A model that
compares windows (its window field has a range) judges both itself.
"""

from __future__ import annotations

from dataclasses import replace

from tcpspec.traffic.wire import Segment, signed


def _scale_known(segments: list[Segment]) -> bool:
    return not any(s.options_cut for s in segments if "SYN" in s.flags)


def unscalable_windows_dropped(segments: list[Segment]) -> list[Segment]:
    """The segments, without the windows of those after the SYNs when the capture's snap length
    cut a SYN's options: the window scale is then unknown, and so is every later window in
    octets (a raw `win=64` may be 64 or 64 << 7). A window that is not known is not judged; a
    SYN's window is never scaled and stays."""
    if _scale_known(segments):
        return segments
    return [s if "SYN" in s.flags or s.window is None else replace(s, window=None) for s in segments]


def shrinking_window(segments: list[Segment], shifts: dict[str, int]) -> tuple[int, str] | None:
    """The first segment whose window ends left of where its sender's window had ended, by a
    unit of its scale or more, with the sentence that says so. RFC 9293 §3.8.6.2.2: a receiver
    should not shrink its window (move the right edge, SEG.ACK + SEG.WND, to the left), and
    Linux never does (it rounds the new window up to the old edge); a scaled window loses less
    than one unit to rounding, which is not counted. A model that fixes the window cannot
    judge windows, so replay checks this rule on the trace itself (unless a SYN's options,
    and so the window scale, were cut off by the capture's snap length)."""
    if not _scale_known(segments):
        return None
    edge: dict[str, tuple[int, Segment]] = {}
    for i, s in enumerate(segments):
        if s.window is None or s.ack is None:  # an RST,ACK too: Linux computes its window as any other's
            continue
        shift = 0 if "SYN" in s.flags else shifts.get(s.src, 0)
        right = s.ack + (s.window << shift)
        prev = edge.get(s.src)
        left = None if prev is None else signed(prev[0] - right)
        if prev is not None and left is not None and left >= 1 << shift:
            p = prev[1]
            return i, (f"{s.src}'s window shrinks: ack={s.ack} win={s.window}"
                       + (f" (<< {shift})" if shift else "")
                       + f" ends it at {right % (1 << 32)}, {left} octets left of where {p.where} ended it "
                       f"(ack={p.ack} win={p.window}); a receiver does not move its window's right edge to the "
                       "left (RFC 9293 §3.8.6.2.2). The model fixes the window, so replay checks this on the trace")
        if prev is None or left is None or left < 0:
            edge[s.src] = (right, s)
    return None


def window_updates(segments: list[Segment], shifts: dict[str, int]) -> set[int]:
    """The segments that are window updates: an ACK with no text, SYN, FIN or RST that repeats
    its sender's previous acknowledgment with another window (RFC 9293 §3.8.6.2.2: the
    receiver's window update, sent when its buffer drains). For a fixed-window model they are
    no-ops: the receiver acknowledges nothing new and the window is not modelled."""
    out: set[int] = set()
    last: dict[str, tuple[int, int]] = {}  # sender -> (ack, scaled window) of its previous segment with ACK
    for i, s in enumerate(segments):
        if s.ack is None or "ACK" not in s.flags or "SYN" in s.flags:
            continue
        w = None if s.window is None else s.window << shifts.get(s.src, 0)
        prev = last.get(s.src)
        if (prev is not None and w is not None and s.length == 0 and not {"FIN", "RST"} & s.flags
                and s.ack == prev[0] and w != prev[1]):
            out.add(i)
        if w is not None:
            last[s.src] = (s.ack, w)
    return out


def window_shifts(segments: list[Segment]) -> dict[str, int]:
    """Each sender's window scale (RFC 7323 §2.2): its SYN's shift, when both SYNs carry the
    option; otherwise no scaling."""
    syn_scale: dict[str, int | None] = {}
    for seg in segments:
        if "SYN" in seg.flags and seg.src not in syn_scale:
            syn_scale[seg.src] = seg.wscale
    if len(syn_scale) < 2 or any(v is None for v in syn_scale.values()):
        return {}
    return {k: min(v or 0, 14) for k, v in syn_scale.items()}
