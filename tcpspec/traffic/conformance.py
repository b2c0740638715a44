"""Is a trace seen on the wire a behaviour of the model? (`tcpspec replay`)

A wire trace lists the segments sent, in order; when each was received and what the endpoints
did in between is not in it. The question: is there a run of the model whose sends, in order,
are exactly the observed segments (a pure ACK the model sends may be missing: real stacks
delay ACKs and fold them into the next segment, RFC 9293 §3.8.6.3)? `tcpspec.traffic.follow` answers it
segment by segment on the concrete semantics; this module says what a segment is in the
model's terms (its channel, from the `<from> -> <to>` pair; its flags and numbers, by field
name), pins the free initial values, and explains a rejection: the first segment no run
explains, and what the model would have sent there instead ("the model's
server.established_recv_fin sends ACK seq=112 ack=161 here; the trace has ack=1"), or which
constant the segment exceeds and which value would admit it.

Free initial values (a `var iss: seq32;` has none) are fixed from the observations, not
searched: sequence numbers are only copied, offset and compared in a TCP model, so a value
that no segment has shown yet can be taken to be the one the first segment shows. Each
endpoint's free variables take the sequence number of its first SYN, else of the first segment
it sent that is not a reset (an ISN; an IRS is overwritten before it is read, so any value
does). When the handshake itself is rejected, the trace is followed again with every
combination of each end's and its peer's first sequence number, in case a model reads such a
variable before it writes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tcpspec.checker import ir
from tcpspec.core.diagnostics import UsageError
from tcpspec.traffic.follow import Candidate, Expect, Follower, FollowResult
from tcpspec.interp.values import Domain, cardinality
from tcpspec.interp.semantics import initial_states
from tcpspec.core.trace import Trace
from tcpspec.core.types import BitVecType, IntType, RecordType, Value
from tcpspec.traffic.windows import shrinking_window, unscalable_windows_dropped, window_shifts, window_updates
from tcpspec.traffic.wire import Loaded, Segment, idle_times

if TYPE_CHECKING:
    from tcpspec.frontend import ast
    from tcpspec.traffic.autoconf import Configured

FLAG_FIELDS = {"SYN": "syn", "ACK": "ack", "FIN": "fin", "RST": "rst", "PSH": "psh"}
ACK_FIELDS = ("ackno", "ack_no", "acknum")
WINDOW_FIELDS = ("wnd", "window", "win")


@dataclass
class StepMatch:
    segment: Segment
    transition: str  # the model transition that sent it


@dataclass
class Conformance:
    verdict: str  # "accepted" | "rejected" | "unknown"
    segments: list[Segment]
    explained: list[StepMatch] = field(default_factory=list)
    trace: Trace | None = None  # the run explaining the longest prefix
    reason: str = ""
    ignored_flags: list[str] = field(default_factory=list)
    seconds: float = 0.0
    states: int = 0  # states visited
    largest_frontier: int = 0

    @property
    def first_unexplained(self) -> int | None:
        """1-based index of the first segment no run explains (None if all are)."""
        return None if self.verdict == "accepted" else len(self.explained) + 1


def channels_by_ends(model: ir.Model) -> dict[tuple[str, str], ir.Channel]:
    """(sender instance, receiver instance) -> channel, from who sends and who receives."""
    senders: dict[str, set[str]] = {}
    receivers: dict[str, set[str]] = {}

    def sends(stmts: tuple[ir.Stmt, ...], inst: str) -> None:
        for s in stmts:
            if isinstance(s, ir.Send):
                senders.setdefault(s.channel.name, set()).add(inst)
            elif isinstance(s, ir.If):
                sends(s.then, inst)
                sends(s.else_, inst)

    for t in model.transitions:
        if isinstance(t, ir.Transition):
            sends(t.body, t.instance)
            if t.receive is not None:
                receivers.setdefault(t.receive[1].name, set()).add(t.instance)
    out: dict[tuple[str, str], ir.Channel] = {}
    for c in model.channels:
        for a in senders.get(c.name, ()):
            for b in receivers.get(c.name, ()):
                out.setdefault((a, b), c)
    return out


def expectations(model: ir.Model, segments: list[Segment]) -> tuple[list[Expect], list[str]]:
    """Each segment as the message its channel must carry; and the flags the model has no
    field for (ignored)."""
    chans = channels_by_ends(model)
    scale = window_shifts(segments)
    out: list[Expect] = []
    ignored: set[str] = set()
    idle = idle_times(segments)  # what a timer's segment is judged by
    for seg in segments:
        if (seg.src, seg.dst) not in chans:
            pairs = ", ".join(f"{a} -> {b}" for a, b in chans) or "none"
            raise UsageError(f"{seg.where}: the model has no channel from {seg.src} to {seg.dst} (it has: {pairs})")
        ch = chans[(seg.src, seg.dst)]
        fields = dict(ch.message.fields)
        want: dict[str, Value] = {f: name in seg.flags for name, f in FLAG_FIELDS.items() if f in fields}
        ignored |= {name for name in seg.flags if FLAG_FIELDS[name] not in fields}
        if "seq" in fields:
            want["seq"] = seg.seq
        ack_field = next((f for f in ACK_FIELDS if f in fields), None)
        if ack_field is not None and seg.ack is not None and "ACK" in seg.flags:
            want[ack_field] = seg.ack
        if "len" in fields:
            want["len"] = seg.length
        win_field = next((f for f in WINDOW_FIELDS if f in fields), None)
        if win_field is not None and seg.window is not None and not fixed_field(fields[win_field]):
            want[win_field] = seg.window << (0 if "SYN" in seg.flags else scale.get(seg.src, 0))
        out.append(Expect(ch.name, seg.src, want, idle[len(out)]))
    return out, sorted(ignored)


def fixed_field(t: object) -> bool:
    """A field whose type has one value (`wnd: WND..WND` while the model's window is fixed)
    carries nothing a trace could contradict: it is not compared, as a flag the model has no
    field for is not."""
    return isinstance(t, IntType) and t.lo is not None and t.lo == t.hi


def fixed_window(model: ir.Model) -> str | None:
    """The window field's description when the model fixes it, for the report's note."""
    for ch in model.channels:
        for f, t in ch.message.fields:
            if f in WINDOW_FIELDS and fixed_field(t):
                return f"{f}: {t}"
    return None


def delays_acks(model: ir.Model) -> bool:
    """The model delays ACKs itself (its `DELACK` option is on): then every ACK it sends must
    be on the wire, as every segment is."""
    return model.constants.get("DELACK") is True


def pure_ack_fields(model: ir.Model) -> dict[str, Value] | None:
    """A segment that only acknowledges, as field values: ACK set, no SYN/FIN/RST, no payload
    (the fields the model's segments have); None when they have no ACK flag."""
    fields: set[str] = set()
    for ch in model.channels:
        fields |= {f for f, _ in ch.message.fields}
    if "ack" not in fields:
        return None
    want: dict[str, Value] = {"ack": True}
    want.update({f: False for f in ("syn", "fin", "rst") if f in fields})
    if "len" in fields:
        want["len"] = 0
    return want


def pinned_initials(model: ir.Model, segments: list[Segment], peers: bool = False) -> list[dict[str, Value | list[Value]]]:
    """The initial states, free initial values fixed as the module doc says (`peers`: each
    also takes the peer's first sequence number, every combination)."""
    first: dict[str, int] = {}
    # A SYN's number is its sender's ISN; a reset sent before any SYN (a refused connection,
    # a reply from CLOSED) is at SEG.ACK or 0, no ISN: taken last.
    for pick in (lambda s: "SYN" in s.flags, lambda s: "RST" not in s.flags, lambda s: True):
        for seg in segments:
            if pick(seg):
                first.setdefault(seg.src, seg.seq)
    values: dict[str, list[Value]] = {}
    for var in model.state_vars:
        if var.name in model.init or cardinality(var.type) <= 256:
            continue
        own = first.get(var.instance)
        others = [v for k, v in first.items() if k != var.instance] if peers or own is None else []
        picks = [v for v in [own, *others] if v is not None]
        if isinstance(var.type, IntType):
            picks = [v for v in picks if var.type.lo is not None and var.type.lo <= v <= (var.type.hi or v)]
        elif isinstance(var.type, BitVecType):
            picks = [v % var.type.modulus for v in picks]
        values[var.name] = list(dict.fromkeys(picks)) or [0]
    return initial_states(model, Domain(values=values))


def check_conformance(
    model: ir.Model, segments: list[Segment], timeout: float | None = 120.0, coalesce_acks: bool | None = None,
    on_progress: Callable[[int, str | None], None] | None = None, max_states: int = 200_000,
    rebuild: Callable[[dict[str, str]], ir.Model] | None = None, tunable: set[str] | None = None,
    timers: Mapping[str, float] | None = None, lacking: Sequence[tuple[int, str, bool]] = (),
    lost: frozenset[tuple[str, str, int]] | None = None,
) -> Conformance:
    """With `coalesce_acks`, a pure ACK the model sends may be missing from the trace (None:
    unless the model delays ACKs itself, `delays_acks`). With
    `rebuild` (the model again with some constants changed), a rejection also says which
    constant is too small for the segment and which value admits it, when one does (of the
    `tunable` ones; None: every int constant). `timers`: see `Follower`. `lacking`: segments
    that show a behaviour the model is not switched to (`autoconf.Configured.lacking`); a
    rejection at one, or after one, says so. `lost`: the segments a lossy network may lose, as
    (sender, receiver, SEG.SEQ) (`autoconf.Configured.lost`; None: any)."""
    if fixed_window(model) is None:
        return _check(model, segments, timeout, coalesce_acks, on_progress, max_states, rebuild, tunable, timers, lacking,
                      lost)
    t0 = time.perf_counter()
    shifts = window_shifts(segments)
    shrink = shrinking_window(segments, shifts)
    judged = segments if shrink is None else segments[:shrink[0]]  # the prefix before it must be explained
    updates = window_updates(judged, shifts)
    kept = [i for i in range(len(judged)) if i not in updates]
    at = {i: k for k, i in enumerate(kept)}
    out = _check(model, [judged[i] for i in kept], timeout, coalesce_acks, on_progress, max_states, rebuild, tunable,
                 timers, [(at[i], text, sent) for i, text, sent in lacking if i in at], lost)
    matches, out.explained = out.explained, []
    for i, seg in enumerate(judged):  # a window update passes when every segment before it does
        if i in updates:
            out.explained.append(StepMatch(seg, WINDOW_UPDATE))
        elif at[i] < len(matches):
            out.explained.append(matches[at[i]])
        else:
            break
    if out.verdict == "accepted" and shrink is not None:
        out.verdict, out.reason = "rejected", shrink[1]
    out.segments = segments
    out.seconds = round(time.perf_counter() - t0, 3)
    return out


WINDOW_UPDATE = "(a window update: the model fixes the window)"


def _check(model: ir.Model, segments: list[Segment], timeout: float | None, coalesce_acks: bool | None,
           on_progress: Callable[[int, str | None], None] | None, max_states: int,
           rebuild: Callable[[dict[str, str]], ir.Model] | None, tunable: set[str] | None,
           timers: Mapping[str, float] | None, lacking: Sequence[tuple[int, str, bool]],
           lost: frozenset[tuple[str, str, int]] | None = None) -> Conformance:
    t0, cpu0 = time.perf_counter(), time.process_time()
    deadline = None if timeout is None else time.monotonic() + timeout
    if coalesce_acks is None:
        coalesce_acks = not delays_acks(model)
    res = _follow(model, segments, coalesce_acks, max_states, deadline, on_progress, timers, lost)
    expects, ignored = expectations(model, segments)

    def secs() -> float:
        return round(time.perf_counter() - t0, 3)

    matches = _explained(res, segments)
    trace = res.trace() if res.end is not None else None
    out = Conformance("accepted", segments, matches, trace, "", ignored, 0.0, res.states, res.largest_frontier)
    if res.stopped:
        out.verdict = "unknown"
        out.reason = f"gave up at {res.stopped}; {res.explained} of {len(segments)} segments explained so far"
    elif res.explained < len(segments):
        out.verdict = "rejected"
        out.reason = why_not(model, res, segments, expects)
        small = ""
        if rebuild is not None:  # probing costs a few re-runs of the prefix: at most twice the run's CPU time so far
            budget = min(PROBE_SECONDS, max(5.0, 2 * (time.process_time() - cpu0)))
            small = _too_small(model, rebuild, segments, res.explained, coalesce_acks, deadline, budget, tunable, timers,
                               lost)
            out.reason = small or out.reason
        if not small:
            out.reason += _lacking_note(lacking, res.explained)
    elif trace is not None:
        from tcpspec.interp.search import run_is_behaviour

        check = run_is_behaviour(model, trace)
        if not check.ok:  # the follower's run must be a run: anything else is our bug
            raise AssertionError(f"replay found a run the interpreter refuses: {check.message}")
    out.seconds = secs()
    return out


def _lacking_note(lacking: Sequence[tuple[int, str, bool]], at: int) -> str:
    """What the model lacks for the rejected segment `at`, or else for the latest segment
    before it, that a behaviour the model is not switched to sends (a retransmission, a probe, a
    window update: the run may have gone astray there). A window that merely changes is not
    named: while the model fixes the window, windows are not what it rejects."""
    here = [text for i, text, sent in lacking if i == at and sent]  # a window value is not compared while fixed
    if here:
        return ". " + "; ".join(here)
    before = [text for i, text, sent in lacking if i < at and sent]
    return f". Earlier, {before[-1][:1].lower()}{before[-1][1:]}" if before else ""


@dataclass
class Replay:
    """A trace read and the model configured for it: what `tcpspec replay` and the API judge
    (`prepare_replay(...).run(...)`), so that both replay alike."""

    loaded: Loaded
    conf: Configured

    @property
    def segments(self) -> list[Segment]:
        return self.loaded.segments

    def run(self, acks: bool | None = None, timeout: float | None = 300.0,
            on_progress: Callable[[int, str | None], None] | None = None) -> Conformance:
        """`acks`: True, a pure ACK answering a segment may be missing from the trace; False,
        every send must be on it; None, as `check_conformance` decides."""
        c = self.conf
        return check_conformance(c.model, self.loaded.segments, timeout, acks, on_progress, rebuild=c.rebuild,
                                 tunable=c.tunable, timers=c.timers, lacking=c.lacking, lost=c.lost)


def prepare_replay(model_path: str, trace_path: str, defines: dict[str, str] | None = None, conn: str | None = None,
                   auto: bool = True, program: ast.Program | None = None) -> Replay:
    """Read the trace (a capture's connection `conn`, or text) and check the model (`program`,
    if already parsed from `model_path`) with the settings it shows (`auto`) under `defines`.
    Raises UsageError / ModelError."""
    from tcpspec.traffic.autoconf import configure
    from tcpspec.traffic.wire import load_trace

    loaded = load_trace(trace_path, conn)
    loaded.segments = unscalable_windows_dropped(loaded.segments)
    return Replay(loaded, configure(model_path, loaded.segments, defines or {}, auto=auto, program=program))


def _losable(model: ir.Model, lost: frozenset[tuple[str, str, int]] | None) -> Callable[[str, Value], bool] | None:
    """The messages a lossy channel may lose, from the (sender, receiver, SEG.SEQ) of the segments
    the trace shows lost (None: any): a message on their channel with that sequence number, the
    lost segment or a copy of it sent again."""
    if lost is None:
        return None
    chans = channels_by_ends(model)
    keys = {(chans[(a, b)].name, seq) for a, b, seq in lost if (a, b) in chans}
    return lambda channel, m: isinstance(m, dict) and (channel, m.get("seq")) in keys


def _follow(model: ir.Model, segments: list[Segment], coalesce_acks: bool, max_states: int, deadline: float | None,
            on_progress: Callable[[int, str | None], None] | None = None,
            timers: Mapping[str, float] | None = None, lost: frozenset[tuple[str, str, int]] | None = None) -> FollowResult:
    """Lazily first (`Follower.follow`); if that does not explain every segment, eagerly:
    the eager result is the verdict. `on_progress(segments followed, what changed or None)`."""
    expects, _ = expectations(model, segments)
    follower = Follower(model, pure_ack_fields(model) if coalesce_acks else None, max_states, timers, _losable(model, lost))
    initial = pinned_initials(model, segments)
    lazy = follower.follow(initial, expects, deadline, None if on_progress is None else lambda i, n: on_progress(i, None),
                           lazy=True)
    if lazy.explained == len(expects) or lazy.stopped:
        return lazy
    if on_progress is not None:
        on_progress(0, f"segment {lazy.explained + 1} needs every interleaving: following again")
    eager = follower.follow(initial, expects, deadline, None if on_progress is None else lambda i, n: on_progress(i, None))
    eager.states += lazy.states
    if eager.explained < min(len(expects), HANDSHAKE) and not eager.stopped:
        wider = pinned_initials(model, segments, peers=True)
        if len(wider) > len(initial):
            again = follower.follow(wider, expects, deadline)
            again.states += eager.states
            return again
    return eager


HANDSHAKE = 3  # segments: a rejection among the first ones is retried with wider initial values


def _explained(res: FollowResult, segments: list[Segment]) -> list[StepMatch]:
    if res.end is None:
        return []
    return [StepMatch(segments[link.observed], link.transition) for link in res.end.links() if link.observed is not None]


# ---------------------------------------------------------------- why a segment is not explained


def why_not(model: ir.Model, res: FollowResult, segments: list[Segment], expects: list[Expect]) -> str:
    """The reason segment `res.explained` (0-based) is not explained, as precise as the search
    allows: a constant it exceeds, the model's nearest send, or what the sender can do."""
    i = res.explained
    why = _why(model, res, segments, expects)
    if i == 0 and not any("SYN" in s.flags for s in segments):
        why += "; the trace has no SYN: the connection was opened before it starts, and the model starts CLOSED"
    return why


def _why(model: ir.Model, res: FollowResult, segments: list[Segment], expects: list[Expect]) -> str:
    i = res.explained
    seg, expect = segments[i], expects[i]
    over = _exceeds(model, expect)
    if over:
        return over
    best = _nearest(res.candidates, expect)
    if best is not None:
        from tcpspec.render.msc import message_label

        diffs = [f"{_short(f)}={v}" for f, v in expect.fields.items()
                 if not isinstance(v, bool) and best.message.get(f) != v]
        flag_diff = [f for f, v in expect.fields.items() if isinstance(v, bool) and best.message.get(f) != v]
        if best.early is not None and not diffs and not flag_diff and expect.quiet is not None:
            return (f"the model's {best.transition} sends {message_label(best.message)}, but only after "
                    f"{best.early:g} s of silence (a timer's segment); this one came {expect.quiet:.3f} s after the "
                    f"last segment its sender received (a probe not counted)")
        if flag_diff:
            theirs = ",".join(f for f in FLAG_FIELDS if f in seg.flags) or "no flags"
            return (f"the model's {best.transition} sends {message_label(best.message)} here; "
                    f"the trace has {theirs}" + (f" {' '.join(diffs)}" if diffs else ""))
        return (f"the model's {best.transition} sends {message_label(best.message)} here; "
                f"the trace has {', '.join(diffs) if diffs else seg.label}")
    full = _channel_full(model, res, expect)
    if full:
        return full
    flags = ",".join(f for f in FLAG_FIELDS if f in seg.flags) or "no flags"
    return (f"no run has {seg.src} send a {flags} segment to {seg.dst} after the explained prefix"
            + _sender_states(model, res, expect.sender))


PROBE_SECONDS = 20.0  # at most this long spent asking which constant would admit a segment (see its use)


def _too_small(model: ir.Model, rebuild: Callable[[dict[str, str]], ir.Model], segments: list[Segment], i: int,
               coalesce_acks: bool, deadline: float | None, budget: float = PROBE_SECONDS,
               tunable: set[str] | None = None, timers: Mapping[str, float] | None = None,
               lost: frozenset[tuple[str, str, int]] | None = None) -> str:
    """`MSS = 100 is too small for this segment: -D MSS=150 admits it` when raising int
    constants lets the model explain segments 1..i+1. Each constant has a few larger values
    to try (the segment's lengths and windows that exceed it, if the constant bounds such a
    field; what the prefix would set it to; one and two more; twice as much). First all are raised to their largest; if that admits the
    segment, each is put back in turn where the segment stays admitted without it, and those
    that remain are lowered to their smallest value that still admits it. Each try follows the
    prefix again with the rebuilt model."""
    from tcpspec.traffic.autoconf import derive

    until = time.process_time() + budget  # CPU seconds: the same answer on a busy machine as on an idle one
    prefix = segments[:i + 1]
    expect = expectations(model, prefix)[0][i]
    types = dict(model.channel(expect.channel).message.fields)
    numbers = [v for f, v in expect.fields.items()  # lengths and windows, not sequence numbers
               if isinstance(types.get(f), IntType) and isinstance(v, int) and not isinstance(v, bool)]
    derived = {s.name: s.value for s in derive(prefix, model.constants, window_shifts(prefix))}
    values = {k: v for k, v in model.constants.items()
              if isinstance(v, int) and not isinstance(v, bool) and (tunable is None or k in tunable)}
    bounds = {t.hi for t in types.values() if isinstance(t, IntType) and t.hi is not None}
    tries = {k: sorted({t for t in [*(numbers if v in bounds else []), derived.get(k, 0), v + 1, v + 2, 2 * v]
                        if isinstance(t, int) and t > v})
             for k, v in values.items()}  # the segment's numbers only for a constant that bounds one of its fields

    def admits(changes: dict[str, int]) -> bool | None:
        if time.process_time() > until or (deadline is not None and time.monotonic() > deadline):
            return None
        try:
            bigger = rebuild({k: str(v) for k, v in changes.items()})
        except Exception:  # noqa: BLE001 - values the model refuses (a range they bound) are no answer
            return False
        return _follow(bigger, prefix, coalesce_acks, 50_000, deadline, None, timers, lost).explained > i

    raised = {k: t[-1] for k, t in tries.items() if t}
    if not raised or not admits(raised):
        return ""
    changed = True
    while changed:  # put each back where the segment stays admitted without it, until none can be
        changed = False
        for k in list(raised):
            fewer = {n: v for n, v in raised.items() if n != k}
            ok = admits(fewer)
            if ok is None:
                return ""
            if ok:
                raised, changed = fewer, True
    for k in list(raised):
        for v in tries[k][:-1]:
            ok = admits({**raised, k: v})
            if ok is None:
                break
            if ok:
                raised[k] = v
                break
    if not raised:
        return ""
    field = _exceeds(model, expect)
    olds = " and ".join(f"{k} = {values[k]}" for k in raised)
    news = " ".join(f"-D {k}={v}" for k, v in raised.items())
    return (f"{field}; " if field else "") + f"{olds} {'is' if len(raised) == 1 else 'are'} too small for this segment: {news} admits it"


def _short(f: str) -> str:
    return "ack" if f in ACK_FIELDS else "win" if f in WINDOW_FIELDS else f


def _nearest(cands: list[Candidate], expect: Expect) -> Candidate | None:
    """The candidate send closest to the observation: flags first, then fewest other fields
    wrong, the acknowledgment number counted last (a wrong ack is the commonest slip)."""
    def cost(c: Candidate) -> tuple[int, int, int]:
        flags = sum(1 for f, v in expect.fields.items() if isinstance(v, bool) and c.message.get(f) != v)
        nums = [f for f, v in expect.fields.items() if not isinstance(v, bool) and c.message.get(f) != v]
        return flags, len(nums), sum(1 for f in nums if f not in ACK_FIELDS)

    cands = [c for c in cands if c.channel == expect.channel]
    return min(cands, key=cost) if cands else None


def _exceeds(model: ir.Model, expect: Expect) -> str:
    """`len=111 exceeds the model's len field (0..100)`: an observed value outside its field's
    type, which no send of the model can carry."""
    msg_type = model.channel(expect.channel).message
    assert isinstance(msg_type, RecordType)
    types = dict(msg_type.fields)
    for f, v in expect.fields.items():
        t = types.get(f)
        if not isinstance(t, IntType) or not isinstance(v, int) or isinstance(v, bool) or not t.bounded:
            continue
        assert t.lo is not None and t.hi is not None
        if not t.lo <= v <= t.hi:
            return f"{_short(f)}={v} is outside the model's {f} field ({t})"
    return ""


def _channel_full(model: ir.Model, res: FollowResult, expect: Expect) -> str:
    ch = model.channel(expect.channel)
    full = [n for n in res.closure if isinstance(n.state.get(ch.name), list) and len(n.state[ch.name]) >= ch.capacity]  # type: ignore[arg-type]
    if not full or len(full) < len(res.closure):
        return ""
    names = [k for k, c in model.constants.items() if c == ch.capacity and not isinstance(c, bool)]
    what = f"{names[0]} = {ch.capacity}" if names else f"capacity {ch.capacity}"
    fix = f": -D {names[0]}={ch.capacity + 1} or more" if names else ""
    return (f"{ch.name} is full ({what}) in every state the explained prefix leads to: the segment would be "
            f"one more in flight than the channel holds{fix}")


def _sender_states(model: ir.Model, res: FollowResult, sender: str) -> str:
    """` (client is in FIN_WAIT_2 or TIME_WAIT)`: the sender's control states there."""
    enums = [v.name for v in model.state_vars if v.instance == sender and v.local == "state"]
    if not enums:
        return ""
    seen = sorted({str(n.state[enums[0]]) for n in res.closure})
    return f" ({sender} is in {' or '.join(seen)})" if seen else ""

