"""Is a trace seen on the wire a behaviour of the model? (`tcpspec replay`)

A wire trace lists the segments sent, in order; when each was received and what the endpoints
did in between is not in it. So the question is symbolic: is there a run of the model whose
sends, in order, are exactly the observed segments? The run is the BMC unrolling of the
transition system with a send counter: every send at position p must equal observation p (its
channel from the `<from> -> <to>` pair, its flags and numbers); the ISNs, the receive order and
the silent steps are the solver's to find, crossing segments of a simultaneous open or close
included. When no run explains everything, the longest explained prefix is found, and a relaxed
query (same flags, any numbers) names the transition that should have sent the next segment and
the numbers it would have used: "the model's server.established_recv_fin sends ACK ack=161".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from tcpspec import ir
from tcpspec.diagnostics import UsageError
from tcpspec.trace import Trace
from tcpspec.types import BoolType
from tcpspec.wire import Segment

FLAG_FIELDS = {"SYN": "syn", "ACK": "ack", "FIN": "fin", "RST": "rst", "PSH": "psh"}
ACK_FIELDS = ("ackno", "ack_no", "acknum")


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

    @property
    def first_unexplained(self) -> int | None:
        """1-based index of the first segment no run explains (None if all are)."""
        return None if self.verdict == "accepted" else len(self.explained) + 1


def _channels(model: ir.Model) -> dict[tuple[str, str], ir.Channel]:
    """(sender instance, receiver instance) -> channel, from who sends and who receives."""
    senders: dict[str, set[str]] = {}
    receivers: dict[str, set[str]] = {}

    def sends(stmts: tuple[ir.Stmt, ...], inst: str) -> None:
        for s in stmts:
            if isinstance(s, ir.Send):
                senders.setdefault(s.channel.name, set()).add(inst)
            for sub in ("then", "else_", "body"):
                inner = getattr(s, sub, None)
                if isinstance(inner, tuple):
                    sends(inner, inst)

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


class _Observation:
    def __init__(self, model: ir.Model, seg: Segment, chans: dict[tuple[str, str], ir.Channel]) -> None:
        if (seg.src, seg.dst) not in chans:
            pairs = ", ".join(f"{a} -> {b}" for a, b in chans) or "none"
            raise UsageError(f"{seg.where}: the model has no channel from {seg.src} to {seg.dst} (it has: {pairs})")
        self.seg = seg
        self.channel = chans[(seg.src, seg.dst)]
        fields = dict(self.channel.message.fields)
        self.flags = {f: name in seg.flags for name, f in FLAG_FIELDS.items() if f in fields}
        self.ignored = sorted(name for name in seg.flags if FLAG_FIELDS[name] not in fields)
        self.numbers: dict[str, int] = {}
        if "seq" in fields:
            self.numbers["seq"] = seg.seq
        ack_field = next((f for f in ACK_FIELDS if f in fields), None)
        if ack_field is not None and seg.ack is not None and "ACK" in seg.flags:
            self.numbers[ack_field] = seg.ack
        if "len" in fields:
            self.numbers["len"] = seg.length

    def matches(self, th, msg: dict[str, z3.ExprRef], free: tuple[str, ...] = ()) -> z3.BoolRef:  # type: ignore[no-untyped-def]
        """Flags and numbers as observed; the numbers in `free` (all: `("*",)`) may differ."""
        fields = dict(self.channel.message.fields)
        cs = [msg[f] == th.constant(v, BoolType()) for f, v in self.flags.items()]
        cs += [msg[f] == th.constant(v, fields[f]) for f, v in self.numbers.items() if f not in free and "*" not in free]
        return z3.And(cs) if cs else z3.BoolVal(True)


def _pure_ack(th, msg: dict[str, z3.ExprRef], fields: dict[str, object]) -> z3.BoolRef:  # type: ignore[no-untyped-def]
    """A segment that only acknowledges: ACK set, no other flag, no payload."""
    if "ack" not in fields:
        return z3.BoolVal(False)
    cs = [msg["ack"] == th.constant(True, BoolType())]
    cs += [msg[f] == th.constant(False, BoolType()) for f in ("syn", "fin", "rst") if f in fields]
    if "len" in fields:
        cs.append(msg["len"] == th.constant(0, fields["len"]))
    return z3.And(cs)


def check_conformance(
    model: ir.Model, segments: list[Segment], slack: int | None = None, timeout: float | None = 120.0,
    coalesce_acks: bool = True,
) -> Conformance:
    """With `coalesce_acks`, a pure ACK the model sends may be missing from the trace: real
    stacks delay ACKs and fold them into the next segment (RFC 9293 §3.8.6.3), which this
    model, acknowledging each segment at once, cannot express; the next segment the trace does
    show must then carry the same or a later acknowledgment, as the model's own next one does."""
    from tcpspec.engines.common import extract_trace
    from tcpspec.theories import choose_theory
    from tcpspec.transition_system import TransitionSystem

    t0 = time.perf_counter()
    chans = _channels(model)
    obs = [_Observation(model, s, chans) for s in segments]
    n = len(obs)
    kmax = 2 * n + 6 if slack is None else n + slack
    ts = TransitionSystem(model, choose_theory(model, "auto"))
    ignored = sorted({f for o in obs for f in o.ignored})
    deadline = None if timeout is None else time.monotonic() + timeout
    main = _Unrolling(ts, model, obs, coalesce_acks, deadline)
    secs = lambda: round(time.perf_counter() - t0, 3)  # noqa: E731
    best, best_k, best_trace, best_matches = 0, 0, None, []  # the longest explained prefix so far
    for k in range(1, kmax + 1):  # runs of exactly k steps, shortest first
        main.add_step()
        # "more than `best` explained" first: when it is unsat (most depths of a rejected
        # trace), so is "all n explained" (best < n), and one query per depth is saved.
        r = main.ask(*main.strict, main.counts[k] > best)
        if r == z3.sat:
            r = main.ask(*main.strict, main.counts[k] == n)
            if r == z3.sat:
                zm = main.solver.model()
                trace = extract_trace(zm, ts, k)
                return Conformance("accepted", segments, main.explained(zm, trace, segments), trace,
                                   ignored_flags=ignored, seconds=secs())
            if r == z3.unsat:
                # Asked again for its model: keeping the first one instead was slower.
                r = main.ask(*main.strict, main.counts[k] > best)
        while r == z3.sat:
            zm = main.solver.model()
            best_trace = extract_trace(zm, ts, k)
            best_matches = main.explained(zm, best_trace, segments)
            best, best_k = len(best_matches), k
            r = main.ask(*main.strict, main.counts[k] > best)
        if r == z3.unknown:
            return Conformance("unknown", segments, best_matches, best_trace,
                               f"gave up after {secs():.0f} s; {best} of {n} segments explained so far", ignored, secs())
    # Why is segment `best` not explained? A run sending it with only its ack wrong, else with
    # any numbers wrong, a few steps past the explained prefix (a fresh unrolling: short runs).
    why = _Unrolling(ts, model, obs, coalesce_acks, deadline)
    reason = ""
    for level in ("ack", "any"):
        for k in range(1, min(kmax, best_k + 6) + 1):
            if len(why.counts) <= k:
                why.add_step()
            if k < best_k:
                continue
            loose, other = (why.relax_ack, why.relax) if level == "ack" else (why.relax, why.relax_ack)
            if why.ask(loose, z3.Not(other), why.relax_at == best, why.counts[k] == best + 1) == z3.sat:
                reason = _why(why.solver.model(), ts, obs, best, k, why.skips)
                break
        if reason:
            break
    if not reason:
        seg = segments[best]
        flags = ",".join(sorted(seg.flags)) or "no flags"
        reason = f"no run has {seg.src} send a {flags} segment to {seg.dst} after the explained prefix"
    return Conformance("rejected", segments, best_matches, best_trace, reason, ignored, secs())


class _Unrolling:
    """The transition system unrolled step by step, with the send counter and the matching."""

    def __init__(self, ts, model: ir.Model, obs: list[_Observation], coalesce: bool, deadline: float | None) -> None:  # type: ignore[no-untyped-def]
        self.ts, self.model, self.obs, self.coalesce, self.deadline = ts, model, obs, coalesce, deadline
        self.solver = ts.th.solver()
        self.solver.add(ts.init())
        self.counts: list[z3.ArithRef] = [z3.IntVal(0)]
        self.skips: list[tuple[int, str, z3.BoolRef]] = []
        self.relax = z3.Bool("__relax")  # the send at `relax_at` needs only the flags ...
        self.relax_ack = z3.Bool("__relax_ack")  # ... or everything but the acknowledgment number
        self.relax_at = z3.Int("__relax_at")
        self.strict = [z3.Not(self.relax), z3.Not(self.relax_ack)]

    def add_step(self) -> None:
        ts, k, n = self.ts, len(self.counts) - 1, len(self.obs)
        step = ts.step_at(k)
        self.solver.add(step.trans, step.range_ok, z3.Implies(step.range_ok, ts.well_formed(k + 1)))
        count = self.counts[-1]
        added: z3.ArithRef = z3.IntVal(0)
        for i, eff in enumerate(step.effects):
            off: z3.ArithRef = z3.IntVal(0)
            for cname, (cond, msg) in eff.sends.items():
                sent = z3.And(ts.fires(step.act, i), cond)
                if self.coalesce:
                    skip = z3.Bool(f"__skip{k}_{i}_{cname}")
                    self.skips.append((k, cname, skip))
                    fields = dict(self.model.channel(cname).message.fields)
                    self.solver.add(z3.Implies(skip, _pure_ack(ts.th, msg, fields)))
                    sent = z3.And(sent, z3.Not(skip))
                pos = count + off
                off = off + z3.If(sent, 1, 0)
                match = z3.Or([z3.And(pos == p, z3.Or(
                    o.matches(ts.th, msg),
                    z3.And(self.relax_ack, self.relax_at == p, o.matches(ts.th, msg, ACK_FIELDS)),
                    z3.And(self.relax, self.relax_at == p, o.matches(ts.th, msg, ("*",))),
                )) for p, o in enumerate(self.obs) if o.channel.name == cname] or [z3.BoolVal(False)])
                self.solver.add(z3.Implies(sent, z3.And(pos < n, match)))
                added = added + z3.If(sent, 1, 0)
        self.counts.append(z3.simplify(count + added))

    def ask(self, *goal: z3.BoolRef) -> z3.CheckSatResult:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                return z3.unknown
            self.solver.set("timeout", max(1, int(left * 1000)))
        return self.solver.check(*goal)

    def explained(self, zm: z3.ModelRef, trace: Trace, segments: list[Segment]) -> list[StepMatch]:
        skipped = {(k, c) for k, c, b in self.skips if z3.is_true(zm.eval(b, model_completion=True))}
        out: list[StepMatch] = []
        for k, step in enumerate(trace.steps[1:]):
            for cname, _ in step.sent:
                if (k, cname) not in skipped and len(out) < len(segments):
                    out.append(StepMatch(segments[len(out)], step.transition or "?"))
        return out


def _why(zm: z3.ModelRef, ts, obs: list[_Observation], m: int, k: int, skips) -> str:  # type: ignore[no-untyped-def]
    """Segment m (0-based) is not explained, but a run sends one with its flags: what numbers?"""
    from tcpspec.engines.common import extract_trace
    from tcpspec.render.msc import message_label

    skipped = {(j, c) for j, c, b in skips if z3.is_true(zm.eval(b, model_completion=True))}
    trace = extract_trace(zm, ts, k)
    seen = 0
    for j, step in enumerate(trace.steps[1:]):
        for cname, msg in step.sent:
            if (j, cname) in skipped:
                continue
            if seen == m:
                diffs = [f"{'ack' if f in ACK_FIELDS else f}={v}" for f, v in obs[m].numbers.items()
                         if isinstance(msg, dict) and msg.get(f) != v]
                return (f"the model's {step.transition} sends {message_label(msg)} here; "
                        f"the trace has {', '.join(diffs) if diffs else obs[m].seg.label}")
            seen += 1
    return "no run of the model sends it"
