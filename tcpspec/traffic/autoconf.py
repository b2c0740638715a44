"""The model's constants as a capture shows them, so that a real capture replays without -D.

A model declares its bounds as constants (`const MSS = 2;`), small by default for proofs. A
real connection needs them as large as what it carried: the largest payload, the window, the
segments in flight. For each constant the model declares that this module knows by name, a
value is derived from the observed segments, with the reason; the user's -D overrides it.
Constants the model does not declare are not set, and others are left at the model's value.

Known names (the TCP model's): `MSS` (largest payload: the SYNs' MSS options and the largest
segment seen, which a capture taken before segmentation offload can show above the MSS),
`WND` (the peer's receive window: the largest window advertised, scaled, and the most octets
ever in flight), `CAP` (segments in flight per direction, see `segments_in_flight`).

Behaviours a model may switch with a bool constant that its transitions test (directly or
through another constant: a declared option without rules is left alone) are switched on when
the trace shows them, and only then (a model with a behaviour it does not need explains more,
so a wrong segment could pass as one): `DELACK` for a capture (a real stack delays ACKs; a
text trace is replayed with unseen ACKs instead, see `conformance`), `RTO` when a segment carries sequence numbers its sender had sent already
(a retransmission), `KEEPALIVE` when a segment is a probe (an ACK one below all its sender had
sent, at most one octet) while the peer's window is open, `WINDOW` when the advertised windows
differ (a zero window, a window update) or a probe is sent into a zero window, `RESETS` when a
segment is a reset, and `OOO` (a receiver that holds segments out of order) with the network
constant `LOSS` when a segment was lost in the middle of a transfer (`losses`: the trace shows it
by a duplicate ACK at the hole and the octets sent again). Only then is the network lossy: a
model that may drop any segment explains more, so a wrong segment could pass as one followed by
its loss.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tcpspec.traffic.windows import window_shifts
from tcpspec.traffic.wire import Segment, idle_times

if TYPE_CHECKING:
    from tcpspec.frontend import ast
    from tcpspec.checker import ir

SLACK = 2  # segments in flight beyond the least the capture needs: delayed ACKs the model sends meanwhile


@dataclass(frozen=True)
class Setting:
    name: str
    value: int | bool
    why: str


def _seq_end(s: Segment) -> int:
    """SEG.SEQ + SEG.LEN, SYN and FIN counted (RFC 9293 §3.4)."""
    return s.seq + s.length + ("SYN" in s.flags) + ("FIN" in s.flags)


def _ahead(a: int, b: int) -> int:
    """a - b in sequence space (signed, RFC 1982)."""
    d = (a - b) % (1 << 32)
    return d - (1 << 32) if d >= 1 << 31 else d


def largest_payload(segments: list[Segment]) -> Setting:
    mss = max((s.mss for s in segments if s.mss is not None), default=0)
    data = max((s.length for s in segments), default=0)
    value = max(mss, data, 1)
    why = (f"the SYNs' MSS option {mss}" if mss >= data and mss else f"the largest payload seen, {data} octets")
    return Setting("MSS", value, why)


def segments_in_flight(segments: list[Segment]) -> Setting:
    """The least each channel must hold, plus SLACK. A segment stays in its channel until the
    peer receives it, and the peer cannot have received one that starts at or beyond the ack
    number of its next segment (RCV.NXT never moves back); segments queued behind it in the
    FIFO wait too."""
    worst, where = 1, ""
    ends = sorted({s.src for s in segments})
    for a in ends:
        sent = [(i, s) for i, s in enumerate(segments) if s.src == a]
        peer_acks = [(i, s.ack) for i, s in enumerate(segments) if s.src != a and s.ack is not None]
        for k, (i, _) in enumerate(sent):
            nxt = next((ack for j, ack in peer_acks if j > i), None)
            if nxt is None:
                continue
            waiting, blocked = 0, False
            for _, s in sent[:k + 1]:
                occupies = s.length > 0 or bool({"SYN", "FIN"} & s.flags)
                if occupies and _ahead(s.seq, nxt) >= 0:
                    blocked = True
                waiting += blocked
            if waiting > worst:
                worst, where = waiting, segments[i].where
    why = f"{worst} segments in flight at most ({where})" if where else "at most one segment in flight"
    return Setting("CAP", worst + SLACK, why + f", plus {SLACK}")


def receive_window(segments: list[Segment], shifts: dict[str, int]) -> Setting:
    """The largest window either end advertised (scaled as negotiated) and the most octets one
    end had sent beyond the peer's latest acknowledgment: the model's fixed SND.WND must
    admit both."""
    adv, adv_where = 0, ""
    for s in segments:
        if s.window is None:
            continue
        w = s.window << (0 if "SYN" in s.flags else shifts.get(s.src, 0))
        if w > adv:
            adv, adv_where = w, s.where
    flight, flight_where = 0, ""
    latest_ack: dict[str, int] = {}
    for s in segments:
        if s.ack is not None:
            latest_ack[s.src] = s.ack
        peer = next((k for k in latest_ack if k != s.src), None)
        if peer is not None:
            out = _ahead(_seq_end(s), latest_ack[peer])
            if out > flight:
                flight, flight_where = out, s.where
    if flight > adv:
        return Setting("WND", flight, f"{flight} octets in flight ({flight_where})")
    return Setting("WND", max(adv, 1), f"the largest window advertised, {adv} ({adv_where})" if adv_where else "no window seen")


RETRANSMIT_AFTER = 0.002  # s: no stack sends data again sooner (Linux: the tail-loss probe, >= 10 ms)
PROBE_AFTER = 0.1  # s: a window probe follows a zero window by an RTO (Linux: >= 200 ms)
KEEPALIVE_AFTER = 0.9  # s: a keep-alive probe follows that much silence at least (TCP_KEEPIDLE >= 1 s)


def behaviours(segments: list[Segment], shifts: dict[str, int]) -> dict[str, str]:
    """`RTO`, `KEEPALIVE`, `WINDOW` -> where the trace first shows it (see `occurrences`), and
    `RESETS` -> its first reset."""
    seen: dict[str, str] = {}
    for shown in occurrences(segments, shifts):
        seen.setdefault(shown.option, shown.why)
    reset = next((s for s in segments if "RST" in s.flags), None)
    if reset is not None:  # an endpoint's reset: a refused SYN, an ACK to LISTEN, or an abort
        seen["RESETS"] = f"a reset ({reset.where})"
    return seen


@dataclass(frozen=True)
class Shown:
    """A segment that shows a behaviour: the option the model needs for it, the segment's index."""

    option: str
    index: int
    why: str  # "a keep-alive probe (packet 8)"
    sent: bool = True  # a segment the behaviour sends (not merely a value it advertises: a window)


def occurrences(segments: list[Segment], shifts: dict[str, int]) -> list[Shown]:
    """Every segment that shows `RTO`, `KEEPALIVE` or `WINDOW` (see the module doc), in order. In
    a capture, which has times, a retransmission must come RETRANSMIT_AFTER after the data was
    first sent, a probe into a zero window PROBE_AFTER and a keep-alive probe KEEPALIVE_AFTER
    after the connection's previous segment, as a stack's timers send them: a segment that
    only has their shape (a wrong sequence number) switches nothing on."""
    seen: list[Shown] = []
    idle = idle_times(segments)
    sent: dict[str, list[tuple[int, int, float | None]]] = {}  # sender -> (seq, end, time) of what it sent
    window: dict[str, int] = {}  # sender -> the window it advertised last (scaled)
    windows: set[int] = set()
    acked: dict[str, int] = {}  # sender -> its last acknowledgment number
    for i, s in enumerate(segments):
        end = _seq_end(s)
        past = sent.get(s.src, [])
        top = max((e for _, e, _ in past), key=lambda e: _ahead(e, past[0][1]), default=None) if past else None
        quiet = idle[i]
        occupies = s.length > 0 or bool({"SYN", "FIN"} & s.flags)
        if occupies and top is not None and _ahead(s.seq, top) < 0 and "RST" not in s.flags:
            first = [t for a, e, t in past if _ahead(s.seq, e) < 0 and _ahead(end, a) > 0]
            if s.time is None or any(t is None or s.time - t >= RETRANSMIT_AFTER for t in first):
                seen.append(Shown("RTO", i, f"a retransmission ({s.where})"))
        elif (top is not None and "ACK" in s.flags and not {"SYN", "FIN", "RST"} & s.flags and s.length <= 1
              and _ahead(s.seq, top) == -1):
            peer = next((w for k, w in window.items() if k != s.src), None)
            if peer == 0 and (quiet is None or quiet >= PROBE_AFTER):
                seen.append(Shown("WINDOW", i, f"a probe into a zero window ({s.where})"))
            elif peer != 0 and (quiet is None or quiet >= KEEPALIVE_AFTER):
                seen.append(Shown("KEEPALIVE", i, f"a keep-alive probe ({s.where})"))
        if occupies:
            sent.setdefault(s.src, []).append((s.seq, end, s.time))
        elif not past:
            sent.setdefault(s.src, []).append((s.seq, s.seq, s.time))
        if s.window is not None and "RST" not in s.flags:
            w = s.window << (0 if "SYN" in s.flags else shifts.get(s.src, 0))
            before, window[s.src] = window.get(s.src), w
            if (w and before is not None and w != before and s.ack is not None and s.ack == acked.get(s.src)
                    and not occupies):  # the same ACK again, to move the window (the SYNs' are not compared)
                seen.append(Shown("WINDOW", i, f"a window update to {w} ({s.where})"))
            elif windows and w not in windows:
                seen.append(Shown("WINDOW", i, f"the window changes to {w} ({s.where})" if w else f"a zero window ({s.where})",
                                  sent=False))
            windows.add(w)
        if s.ack is not None and not {"RST", "SYN"} & s.flags:
            acked[s.src] = s.ack
    return seen


def derive(segments: list[Segment], declared: Mapping[str, object], shifts: dict[str, int],
           options: set[str] | None = None) -> list[Setting]:
    """The settings for the constants `declared` (name -> the model's value) names; the bool
    `options` (those the model's rules test) are switched on where the trace shows them."""
    rules: dict[str, Callable[[], Setting]] = {
        "MSS": lambda: largest_payload(segments),
        "CAP": lambda: segments_in_flight(segments),
        "WND": lambda: receive_window(segments, shifts),
    }
    out = []
    for name, rule in rules.items():
        if name in declared and isinstance(declared[name], int) and not isinstance(declared[name], bool):
            s = rule()
            if s.value != declared[name]:
                out.append(s)
    captured = any(s.time is not None for s in segments)
    shown = {**({"DELACK": "a capture of a real stack, which delays ACKs"} if captured else {}),
             **behaviours(segments, shifts)}
    opts = options or set()
    probe = window_probe_as_keepalive(segments, shifts, opts)
    if probe and "KEEPALIVE" not in shown:
        shown["KEEPALIVE"] = probe
    lost = losses(segments)
    if lost:
        why = f"a segment lost in the middle of a transfer ({segments[lost[0][0]].where})"
        shown.setdefault("RTO", why)
        shown["OOO"] = f"{why}, its receiver holding later ones out of order"
        if declared.get("LOSS") is False:  # the network's constant: channels, not rules, read it
            out.append(Setting("LOSS", True, why))
    for name, why in shown.items():
        if name in opts and declared.get(name) is False:
            out.append(Setting(name, True, why))
    return out


def window_probe_as_keepalive(segments: list[Segment], shifts: dict[str, int], options: set[str]) -> str:
    """Why the model's keep-alive rule is to send the trace's probes into a zero window ('' when
    it is not): a model with KEEPALIVE rules but none for WINDOW has no other rule for them, and
    the two are one segment, <SEQ=SND.NXT-1><ACK=RCV.NXT>, with nothing new (Linux sends both
    with tcp_xmit_probe_skb); only their timers differ (`timer_transitions`)."""
    if "KEEPALIVE" not in options or "WINDOW" in options:
        return ""
    probe = next((o for o in occurrences(segments, shifts) if o.option == "WINDOW" and o.why.startswith("a probe")), None)
    return "" if probe is None else f"{probe.why}, the keep-alive probe's segment (the model has no WINDOW rules)"


@dataclass
class Configured:
    """The model to replay against, the settings taken from the trace, and how to check the
    same program again with some constants changed (`rebuild({"MSS": "1460"})`, over the
    settings and the user's -D): replay's diagnosis asks which value would admit a segment."""

    model: "ir.Model"
    settings: list[Setting]
    rebuild: Callable[[dict[str, str]], "ir.Model"]
    tunable: set[str]  # the constants declared by a literal (not computed from others)
    timers: dict[str, float]  # transition -> the least silence before its segment (see `timer_transitions`)
    lacking: list[tuple[int, str, bool]] = field(default_factory=list)  # (segment, what the model needs, `Shown.sent`)
    # With LOSS set from the trace: the segments the network may lose, as (sender, receiver,
    # SEG.SEQ): those the trace shows lost (`losses`), and their copies sent again. None: any.
    lost: frozenset[tuple[str, str, int]] | None = None


def configure(model_path: str, segments: list[Segment], defines: dict[str, str], auto: bool = True,
              program: "ast.Program | None" = None) -> Configured:
    """The model checked with the trace's settings under the user's -D (which win). The
    program (parsed from `model_path` unless given) is checked first as the user gave it, to
    learn which constants it declares."""
    from tcpspec.checker.check import check_program
    from tcpspec.frontend.parser import load_program

    prog = load_program(model_path) if program is None else program
    model = check_program(prog, defines)
    settings = [s for s in derive(segments, model.constants, window_shifts(segments), rule_constants(prog))
                if s.name not in defines] if auto else []
    merged = {**{s.name: str(s.value).lower() if isinstance(s.value, bool) else str(s.value) for s in settings}, **defines}
    if settings:
        model = check_program(prog, merged)
    probes = auto and "KEEPALIVE" not in defines and bool(window_probe_as_keepalive(segments, window_shifts(segments),
                                                                                 rule_constants(prog)))
    lost = (frozenset((segments[j].src, segments[j].dst, segments[j].seq) for j, _ in losses(segments))
            if any(s.name == "LOSS" for s in settings) else None)
    return Configured(model, settings, lambda changes: check_program(prog, {**merged, **changes}),
                      literal_constants(prog), timer_transitions(prog, model, {"KEEPALIVE": PROBE_AFTER} if probes else {}),
                      lacking(segments, model, rule_constants(prog), defines, auto), lost)


def losses(segments: list[Segment]) -> list[tuple[int, str]]:
    """Segments that did not reach their receiver, as the trace itself shows: the receiver
    acknowledges the segment's first octet again after its sender had sent octets after it (a
    duplicate ACK pointing at a hole), and the sender sends those octets again. Each as (the
    lost segment's index, what says so)."""
    out: list[tuple[int, str]] = []
    for j, s in enumerate(segments):
        if s.length == 0:
            continue
        hole_ack: Segment | None = None
        beyond = False
        for t in segments[j + 1:]:
            if t.src == s.src and _ahead(t.seq, s.seq) > 0 and t.length:  # later octets (a loss probe may overlap its end)
                beyond = True
            elif t.src == s.dst and t.ack is not None and "ACK" in t.flags and beyond:
                if t.ack == s.seq:
                    hole_ack = hole_ack or t
                elif _ahead(t.ack, s.seq) > 0:
                    break  # acknowledged after all
            if (hole_ack is not None and t.src == s.src and _ahead(t.seq, s.seq) <= 0 < _ahead(_seq_end(t), s.seq)):
                out.append((j, f"{s.where} did not reach its receiver: it acknowledges {s.seq} again at "
                               f"{hole_ack.where.rsplit(': ', 1)[-1]} after later data, and the octets are sent again at "
                               f"{t.where.rsplit(': ', 1)[-1]}"))
                break
    return out


def lacking(segments: list[Segment], model: "ir.Model", options: set[str], defines: Mapping[str, str],
            auto: bool) -> list[tuple[int, str, bool]]:
    """The segments that show a behaviour the configured model is not switched to, each with
    why not: a rejection at (or after) one of them names the option it needs. A loss is named
    too while the model's network is not lossy or its receiver holds nothing out of order: replay
    switches a lossy network on only for a loss the trace shows (`derive`; every trace would
    otherwise be explained by dropping what does not fit), and a receiver that kept later segments out of order while
    one was missing needs a queue (`OOO` in the TCP model)."""

    out = []
    for index, why in losses(segments):
        lossy = model.constants.get("LOSS") is True
        holds = model.constants.get("OOO") is True
        if lossy and holds:
            continue
        need = [] if lossy else ["its network lossy (-D LOSS=true)"]
        if not holds:
            need.append("a receiver that holds later segments out of order (-D OOO=true)" if "OOO" in model.constants
                        else f"a receiver that holds later segments out of order ({model.path} keeps none)")
        out.append((index, f"{why[:1].upper()}{why[1:]}: a loss, which the model explains only with " + " and ".join(need), True))
    for shown in occurrences(segments, window_shifts(segments)):
        name = shown.option
        if model.constants.get(name) is True:
            continue
        if name not in model.constants:
            why = f"{model.path} has no option {name}"
        elif name in defines:
            why = f"-D {name}={defines[name]} switches it off"
        elif name not in options:
            why = f"{model.path} declares {name} but has no rule of its own for it yet"
        elif not auto:
            why = f"--no-auto leaves it off (-D {name}=true switches it on)"
        else:
            why = f"{name} is off"
        out.append((shown.index, f"{shown.why[:1].upper()}{shown.why[1:]} needs the model's {name} option: {why}", shown.sent))
    return out


TIMERS = {"KEEPALIVE": KEEPALIVE_AFTER}  # option -> the least silence before a segment its timer sends


def timer_transitions(program: "ast.Program", model: "ir.Model", sooner: Mapping[str, float] | None = None
                      ) -> dict[str, float]:
    """Transitions whose guard tests a timer option (`when KEEPALIVE && ...`): the segment such a
    transition sends comes only after that much silence on the connection, as a stack's timer
    sends it (`sooner`: option -> a shorter silence, when the rule also sends what a quicker
    timer does: a probe into a zero window). Retransmissions are not timed this way: a fast
    retransmit follows the third duplicate ACK at once."""
    timers = {**TIMERS, **(sooner or {})}
    from tcpspec.frontend import ast
    from tcpspec.checker import ir

    local: dict[str, float] = {}
    for f in program.files:
        for d in f.decls:
            if isinstance(d, ast.ProcessDecl):
                for t in d.transitions:
                    names: set[str] = set()
                    _names(t.guard, names)
                    wait = [timers[n] for n in names if n in timers and model.constants.get(n) is True]
                    if wait:
                        local[t.name] = max(wait)
    return {t.name: local[t.local] for t in model.transitions if isinstance(t, ir.Transition) and t.local in local}


def literal_constants(program: "ast.Program") -> set[str]:
    """Constants whose declaration is a literal (`const MSS = 2;`), not an expression of other
    constants (`const WNDMIN = if WINDOW then 0 else WND;`): only those are set from a trace
    or probed, a computed one follows them."""
    from tcpspec.frontend import ast, ast_expr

    out: set[str] = set()
    for f in program.files:
        for d in f.decls:
            if isinstance(d, ast.ConstDecl) and isinstance(d.value, (ast_expr.IntLit, ast_expr.BoolLit)):
                out.add(d.name)
    return out


def rule_constants(program: "ast.Program") -> set[str]:
    """The constants the transitions refer to, directly or through other constants; except
    that a behaviour option (a bool constant declared `false` or `true`) reached only through a
    constant that other options feed too (`const REPEATS = KEEPALIVE || RTO;`) does not count:
    that constant is shared machinery, not a rule of the option's own, and switching the option
    on for it alone would let the model explain more without the behaviour."""
    from tcpspec.frontend import ast, ast_expr

    consts = {d.name: d for f in program.files for d in f.decls if isinstance(d, ast.ConstDecl)}
    options = {n for n, d in consts.items() if isinstance(d.value, ast_expr.BoolLit)}

    def closure(name: str) -> set[str]:
        seen, todo = {name}, [name]
        while todo:
            more: set[str] = set()
            _names(consts[todo.pop()].value, more)
            for n in more & set(consts) - seen:
                seen.add(n)
                todo.append(n)
        return seen

    direct: set[str] = set()
    for f in program.files:
        for d in f.decls:
            if isinstance(d, ast.ProcessDecl):
                for t in d.transitions:
                    _names(t, direct)
    used: set[str] = set()
    for name in direct & set(consts):
        reach = closure(name)
        if name not in options and len(reach & options) > 1:
            reach -= options
        used |= reach
    return used


def _names(node: object, out: set[str]) -> None:
    """Every identifier in an AST node (dataclasses and tuples of them, walked)."""
    import dataclasses

    from tcpspec.frontend import ast_expr

    if isinstance(node, ast_expr.Name):
        out.add(node.name)
    elif isinstance(node, tuple):
        for x in node:
            _names(x, out)
    elif dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            if f.name != "span":
                _names(getattr(node, f.name), out)
