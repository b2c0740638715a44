"""Follow the model along an observed sequence of sends, one observation at a time.

A capture shows what was sent, in order; what each endpoint received, and when, and what it
did without sending (timers, user calls) is not in it. A trace checker that searched for a
whole explaining run from the start (BMC) took exponential time in the trace's length. This
one keeps a *frontier*: every model state, concrete, that is consistent with the observations
so far. Between two observations it explores the silent steps (steps that send nothing, or
only a message the caller says may go unseen) breadth first, deduplicating states; then it
keeps the successors whose sends are exactly the next observation. Each observation is
visited once, so the time grows with the trace's length times the frontier's size, which the
observations keep small: every observed send pins the sender's numbers.

The search is on the interpreter's concrete semantics (`tcpspec.interp.semantics`), so a run found is a
run of the model; it is replayed through `interp_search.run_is_behaviour` all the same before
it is reported. Values are concrete from the start: the caller pins free initial values (the
ISNs) from the observations that show them, and a `choose` parameter copied verbatim into a
sent field (a payload length) takes the observed field's value instead of every value of its
type. Other large parameters take the type's sample (`interp.default_sample`) and the numbers
the instance's next two segments show in the fields the parameter reaches; a parameter stored
in a variable that sends copy into a field (a window stored in `rcv_wnd`, sent as `wnd`) takes
only the values those segments show, when they show one (a window a stack opens shows on
the next segment it sends). Either can miss a run but never invents one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from tcpspec.checker import ir
from tcpspec.interp.evaluate import Env, compile_expr
from tcpspec.interp.semantics import State, StepOutcome, take
from tcpspec.interp.values import all_values, cardinality, default_sample
from tcpspec.core.trace import Trace, TraceStep, changed_keys
from tcpspec.core.types import EnumType, Value, values_in_range

SMALL = 64  # parameters with at most this many values are enumerated


@dataclass(frozen=True)
class Expect:
    """One observed message: the channel it was sent on, the instance that sent it, and the
    fields it must have (fields not listed may hold anything)."""

    channel: str
    sender: str
    fields: Mapping[str, Value]
    quiet: float | None = None  # seconds since the previous observation (None: no times)


@dataclass
class Link:
    """A step of a run being followed; `observed` is the index of the first expectation its
    sends matched (None for a silent step). Runs share their prefixes."""

    parent: Link | None
    transition: str
    params: dict[str, Value]
    outcome: StepOutcome
    observed: int | None = None


@dataclass
class Node:
    state: State
    link: Link | None
    origin: int  # which initial state the run started from

    def links(self) -> list[Link]:
        out: list[Link] = []
        link = self.link
        while link is not None:
            out.append(link)
            link = link.parent
        return out[::-1]


@dataclass
class Candidate:
    """A send the model could make where an observation is not explained (for diagnosis)."""

    node: Node
    transition: str
    params: dict[str, Value]
    message: Mapping[str, Value]
    channel: str
    early: float | None = None  # a timer's send that matches, but sooner than the timer fires (its least silence)


@dataclass
class FollowResult:
    """How far the observations were followed. `explained` of them are matched; when that is
    not all, `closure` holds the states reachable silently after the explained prefix, and
    `candidates` the sends the model could make there on the next observation's channel;
    `stopped` is set when a bound ended the search (undecided, not rejected)."""

    explained: int
    initial: list[State]
    end: Node | None  # a node after the last explained observation
    closure: list[Node] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    stopped: str = ""
    largest_frontier: int = 0
    states: int = 0

    def trace(self, node: Node | None = None) -> Trace:
        """The run to `node` (default: `end`) as a Trace, states and steps as the model's."""
        node = node or self.end
        assert node is not None
        state = self.initial[node.origin]
        steps = [TraceStep(0, state)]
        for i, link in enumerate(node.links(), 1):
            after = link.outcome.state
            assert after is not None
            steps.append(TraceStep(i, after, link.transition, dict(link.params), changed_keys(state, after),
                                   list(link.outcome.received), list(link.outcome.sent)))
            state = after
        return Trace(steps)


@dataclass
class _Send:
    """A send of a transition: its channel, the fields its literal fixes to a constant, the
    parameters it copies into a field, and whether every run of the body makes it."""

    channel: str
    constants: dict[str, Value]
    copied: dict[str, str]  # param -> field
    always: bool


class _Rule:
    """A process transition, prepared once: its compiled guard, its receive channel, its
    sends (see `_Send`), its parameters' small domains."""

    def __init__(self, t: ir.Transition) -> None:
        self.t = t
        self.name = t.name
        self.guard = compile_expr(t.guard)
        self.recv = t.receive[1].name if t.receive is not None else None
        self.binding = t.receive[0] if t.receive is not None else ""
        self.sends: list[_Send] = []
        _scan(t.body, self.sends, True)
        self.small: dict[str, list[Value]] = {n: all_values(pt) for n, pt in t.params if cardinality(pt) <= SMALL}
        self.types = dict(t.params)
        self.pre = _enum_preconditions(t.guard)
        self.stored: dict[str, set[str]] = {}  # param -> the variables the body assigns it to
        _stores(t.body, self.stored)
        self.shows: dict[str, set[str]] = {}  # param -> the message fields those variables are sent in (Follower)

    def param_sets(self, expect: Expect, unseen: Mapping[str, Value] | None,
                   hints: Mapping[str, Sequence[int]] | None = None, prune: bool = True) -> list[dict[str, Value]]:
        """The parameter values worth trying when the next observation is `expect`: none at
        all when a send the body always makes can be neither that observation nor an unseen
        message (unless not `prune`: the near misses a rejection reports); a copied parameter
        takes the value the field needs."""
        wanted: dict[str, set[Value]] = {}
        for send in self.sends:
            observed = send.channel == expect.channel and (_agree(send.constants, expect.fields) or not prune)
            hidden = unseen is not None and self.recv is not None and _agree(send.constants, unseen)
            if send.always and not observed and not hidden:
                return []
            if not send.always:
                continue
            for param, f in send.copied.items():
                vals = wanted.setdefault(param, set())
                if observed and f in expect.fields:
                    vals.add(expect.fields[f])
                if hidden and unseen is not None and f in unseen:
                    vals.add(unseen[f])
        per: list[list[Value]] = []
        for name, ptype in self.t.params:
            if name in wanted:
                per.append([v for v in wanted[name] if values_in_range(ptype, v)])
            elif name in self.small:
                per.append(self.small[name])
            else:
                fields = self.shows.get(name) or set((hints or {}).keys())
                seen = [h for f in sorted(fields) for h in (hints or {}).get(f, ()) if values_in_range(ptype, h)]
                if self.shows.get(name) and seen:  # its own next segments show the value it stored
                    per.append(list(dict.fromkeys(seen)))
                else:
                    per.append(list(dict.fromkeys([*default_sample(ptype), *seen])))
        return list(_product([n for n, _ in self.t.params], per))


def _enum_preconditions(guard: ir.Expr) -> dict[str, frozenset[Value]]:
    """The values the guard's top-level conjuncts allow an enum variable (`state == LISTEN`,
    `state == A || state == B`): a cheap test that rules most transitions out in a state."""
    out: dict[str, frozenset[Value]] = {}
    for c in _conjuncts(guard):
        allowed = _enum_alternatives(c)
        if allowed is not None:
            name, values = allowed
            out[name] = out[name] & values if name in out else values
    return out


def _conjuncts(e: ir.Expr) -> list[ir.Expr]:
    if isinstance(e, ir.Binary) and e.op == "and":
        return _conjuncts(e.left) + _conjuncts(e.right)
    return [e]


def _enum_alternatives(e: ir.Expr) -> tuple[str, frozenset[Value]] | None:
    if isinstance(e, ir.Binary) and e.op == "eq":
        for a, b in ((e.left, e.right), (e.right, e.left)):
            if isinstance(a, ir.Var) and not a.primed and isinstance(a.type, EnumType) and isinstance(b, ir.Lit):
                return a.var.name, frozenset([b.value])
        return None
    if isinstance(e, ir.Binary) and e.op == "or":
        left, right = _enum_alternatives(e.left), _enum_alternatives(e.right)
        if left is not None and right is not None and left[0] == right[0]:
            return left[0], left[1] | right[1]
    return None


def _agree(constants: Mapping[str, Value], fields: Mapping[str, Value]) -> bool:
    return all(f not in fields or (fields[f] == v and type(fields[f]) is type(v)) for f, v in constants.items())


def _product(names: list[str], per: list[list[Value]]) -> list[dict[str, Value]]:
    import itertools

    return [dict(zip(names, combo)) for combo in itertools.product(*per)]


def _stores(body: Sequence[ir.Stmt], out: dict[str, set[str]]) -> None:
    """param -> the variables an assignment `v := p` stores it in."""
    for s in body:
        if isinstance(s, ir.Assign):
            inner = s.value.arg if isinstance(s.value, ir.Convert) else s.value
            if isinstance(inner, ir.Param):
                out.setdefault(inner.name, set()).add(s.target.name)
        elif isinstance(s, ir.If):
            _stores(s.then, out)
            _stores(s.else_, out)


def _sent_vars(body: Sequence[ir.Stmt], out: dict[str, set[str]]) -> None:
    """variable -> the message fields a send copies it into (`wnd: rcv_wnd`)."""
    for s in body:
        if isinstance(s, ir.Send) and isinstance(s.message, ir.RecordLit):
            for fname, e in s.message.fields:
                inner = e.arg if isinstance(e, ir.Convert) else e
                if isinstance(inner, ir.Var) and not inner.primed:
                    out.setdefault(inner.var.name, set()).add(fname)
        elif isinstance(s, ir.If):
            _sent_vars(s.then, out)
            _sent_vars(s.else_, out)


def _scan(body: Sequence[ir.Stmt], out: list[_Send], always: bool) -> None:
    for s in body:
        if isinstance(s, ir.Send):
            constants: dict[str, Value] = {}
            copied: dict[str, str] = {}
            if isinstance(s.message, ir.RecordLit):
                for fname, e in s.message.fields:
                    inner = e.arg if isinstance(e, ir.Convert) else e
                    if isinstance(e, ir.Lit):
                        constants[fname] = e.value
                    elif isinstance(inner, ir.Param):
                        copied.setdefault(inner.name, fname)
            out.append(_Send(s.channel.name, constants, copied, always))
        elif isinstance(s, ir.If):
            _scan(s.then, out, False)
            _scan(s.else_, out, False)


class Follower:
    """The model prepared for following observations (see the module doc)."""

    def __init__(self, model: ir.Model, unseen: Mapping[str, Value] | None, max_states: int = 200_000,
                 timers: Mapping[str, float] | None = None, losable: Callable[[str, Value], bool] | None = None) -> None:
        """`unseen`: the fields a message sent in answer to a received one (a step with a
        `receive`) must have to be missing from the observations: a delayed pure ACK folded
        into a later segment. A spontaneous send (a timer's, a user call's) is always
        observed. None: every send is observed.
        `max_states` bounds the silent states explored between two observations. `timers`:
        transition -> the least silence (seconds) before the segment it sends, for transitions
        a timer fires (a keep-alive probe); with observations that have times, a segment sent
        sooner is not one of theirs. `losable(channel, message)`: the messages a lossy channel may
        lose (None: any); the others are delivered, so that a network the trace shows losing one
        segment does not multiply the frontier by every other segment's loss."""
        self.losable = losable
        self.model = model
        self.unseen = unseen
        self.max_states = max_states
        self.timers = dict(timers or {})
        self.rules = [_Rule(t) for t in model.transitions if isinstance(t, ir.Transition)]
        sent_in: dict[str, set[str]] = {}
        for rule in self.rules:
            _sent_vars(rule.t.body, sent_in)
        for rule in self.rules:
            for param, targets in rule.stored.items():
                rule.shows[param] = {f for v in targets for f in sent_in.get(v, ())}
        self.control = sorted({v for r in self.rules for v in r.pre})
        self.faults = [t for t in model.transitions if isinstance(t, ir.NetworkTransition) and t.kind != "injection"]

    def hidden(self, message: Value) -> bool:
        return self.unseen is not None and isinstance(message, dict) and _agree(self.unseen, message) and all(
            f in message for f in self.unseen)

    def plan(self, expect: Expect, hints: Mapping[str, Mapping[str, Sequence[int]]] | None = None,
             prune: bool = True) -> list[tuple[_Rule, list[dict[str, Value]]]]:
        """The rules worth trying before `expect`, each with its parameter values (`hints`:
        per instance and field, the numbers its coming segments show, tried for a large
        parameter no send copies: those of the fields its variable is sent in, if any)."""
        out = []
        for rule in self.rules:
            sets = rule.param_sets(expect, self.unseen, (hints or {}).get(rule.t.instance), prune)
            if sets:
                out.append((rule, sets))
        return out

    def steps(self, state: State, plan: list[tuple[_Rule, list[dict[str, Value]]]],
              cache: dict[tuple[object, ...], list[tuple[_Rule, list[dict[str, Value]]]]], only: str | None = None
              ) -> Iterator[tuple[str, dict[str, Value], StepOutcome, bool]]:
        """Every enabled step from `state`: the planned process transitions whose enum
        preconditions hold (looked up once per control state in `cache`), of instance `only`
        if given, then the channels' faults (no injection); each with whether it answers a
        received segment (only such a step's send may be unseen)."""
        control = tuple(state[v] for v in self.control)
        applicable = cache.get(control)
        if applicable is None:
            now = dict(zip(self.control, control))
            applicable = [(r, sets) for r, sets in plan if all(now[v] in ok for v, ok in r.pre.items())]
            cache[control] = applicable
        for rule, sets in applicable:
            if only is not None and rule.t.instance != only:
                continue
            msgs: dict[str, Value] = {}
            if rule.recv is not None:
                queue = state[rule.recv]
                assert isinstance(queue, list)
                if not queue:
                    continue
                msgs[rule.binding] = queue[0]
            for params in sets:
                if not rule.guard(Env(pre=state, params=params, msgs=msgs)):
                    continue
                outcome = take(rule.t, state, params)
                if outcome.enabled and outcome.range_ok:
                    yield rule.name, params, outcome, rule.recv is not None
        for t in self.faults:
            queue = state[t.channel.name]
            assert isinstance(queue, list)
            for i in range(len(queue)):
                if t.kind == "loss" and self.losable is not None and not self.losable(t.channel.name, queue[i]):
                    continue
                outcome = take(t, state, {"i": i})
                if outcome.enabled:
                    yield t.name, {"i": i}, outcome, False

    def follow(self, initial: list[State], expects: Sequence[Expect], deadline: float | None = None,
               on_progress: Callable[[int, int], None] | None = None, lazy: bool = False) -> FollowResult:
        """Match `expects` in order, from any of the `initial` states.

        `lazy`: between two observations, only the sender of the next one takes silent steps
        (the others too when the channel it sends on is full, or when that finds no match).
        The others' silent steps are put off to a later gap, where they are taken if needed,
        which keeps the frontier from holding every interleaving of both ends' receives. A run
        found so is a run of the model; but a step put off may not behave the same later (a
        guard reading a channel's length), so a lazy rejection is only a reason to follow again
        eagerly."""
        frontier = [Node(s, None, k) for k, s in enumerate(initial)]
        result = FollowResult(0, initial, None)
        for i, expect in enumerate(expects):
            closure, matched, cands, stopped = self._gap(frontier, expects, i, deadline, lazy)
            if lazy and not matched and not stopped:  # what was put off may be needed now
                closure, matched, cands, stopped = self._gap(frontier, expects, i, deadline, False)
            result.states += len(closure)
            if stopped:
                result.stopped = stopped
                result.end, result.closure = frontier[0] if frontier else None, closure
                return result
            if not matched:
                result.end, result.closure = frontier[0], closure
                result.candidates = cands + self._near_misses(closure, expects, i)
                return result
            frontier = matched
            result.explained = i + 1
            result.largest_frontier = max(result.largest_frontier, len(frontier))
            if on_progress is not None:
                on_progress(i + 1, len(frontier))
        result.end = frontier[0]
        return result

    def _gap(self, frontier: list[Node], expects: Sequence[Expect], i: int, deadline: float | None,
             lazy: bool = False) -> tuple[list[Node], list[Node], list[Candidate], str]:
        """The silent closure of `frontier` and the successors that send expectation `i`."""
        expect = expects[i]
        capacity = self.model.channel(expect.channel).capacity
        seen: dict[Hashable, Node] = {}
        queue: list[Node] = []
        for node in frontier:
            key = state_key(node.state)
            if key not in seen:
                seen[key] = node
                queue.append(node)
        matched: dict[Hashable, Node] = {}
        cands: list[Candidate] = []
        head = 0
        plan = self.plan(expect, _hints(expects, i))
        cache: dict[tuple[object, ...], list[tuple[_Rule, list[dict[str, Value]]]]] = {}
        while head < len(queue):
            node = queue[head]
            head += 1
            if head % 256 == 0 and deadline is not None and time.monotonic() > deadline:
                return queue, [], [], "the time limit"
            outbox = node.state[expect.channel]
            only = expect.sender if lazy and isinstance(outbox, list) and len(outbox) < capacity else None
            for name, params, outcome, answers in self.steps(node.state, plan, cache, only):
                after = outcome.state
                assert after is not None
                sent = outcome.sent
                if not sent or (answers and all(self.hidden(m) for _, m in sent)):
                    key = state_key(after)
                    if key not in seen:
                        if len(seen) >= self.max_states:
                            return queue, [], [], f"more than {self.max_states} states between segments {i} and {i + 1}"
                        child = Node(after, Link(node.link, name, params, outcome), node.origin)
                        seen[key] = child
                        queue.append(child)
                if sent:
                    early = name in self.timers and expect.quiet is not None and expect.quiet < self.timers[name]
                    if _matches(sent, expect) and not early:
                        key = state_key(after)
                        if key not in matched:
                            matched[key] = Node(after, Link(node.link, name, params, outcome, i), node.origin)
                    else:
                        ch, m = sent[0]
                        if ch == expect.channel and isinstance(m, dict):
                            cands.append(Candidate(node, name, params, m, ch, self.timers[name] if early else None))
        return queue, list(matched.values()), cands, ""


    def _near_misses(self, closure: list[Node], expects: Sequence[Expect], i: int) -> list[Candidate]:
        """The sends on the observation's channel that the plan left out because their
        literal fields differ from it (a FIN without the data the trace's FIN carries)."""
        expect = expects[i]
        full = self.plan(expect, _hints(expects, i), prune=False)
        pruned = {rule.name for rule, _ in self.plan(expect, _hints(expects, i))}
        extra = [(rule, sets) for rule, sets in full if rule.name not in pruned]
        out: list[Candidate] = []
        for node in closure[:MAX_NEAR]:
            for name, params, outcome, _ in self.steps(node.state, extra, {}):
                if len(outcome.sent) == 1 and outcome.sent[0][0] == expect.channel and isinstance(outcome.sent[0][1], dict):
                    out.append(Candidate(node, name, params, outcome.sent[0][1], expect.channel))
        return out


def state_key(state: State) -> Hashable:
    """A hashable image of a state, cheaper than `interp.freeze`: values by position. Every
    state lists the same keys in the same order and each key holds values of one type, so
    `True` and `1` never meet in one position; messages and records keep their fields' order
    (the checker's declaration order)."""
    return tuple(_flat(v) for v in state.values())


def _flat(v: Value | list[Value]) -> Hashable:
    if isinstance(v, list):
        return tuple(_flat(x) for x in v)
    if isinstance(v, dict):
        return tuple(_flat(x) for x in v.values())
    return v


MAX_NEAR = 2000  # states of a rejected gap searched for near misses

HINT_AHEAD = 2  # segments of each instance whose numbers are tried for its large silent parameters


def _hints(expects: Sequence[Expect], i: int) -> dict[str, dict[str, list[int]]]:
    """Per instance and field, the integer values of its next segments from observation `i`
    on: a value it sets silently (the window it chose) shows up on a segment it sends later."""
    out: dict[str, dict[str, list[int]]] = {}
    counts: dict[str, int] = {}
    for e in expects[i:]:
        if counts.get(e.sender, 0) >= HINT_AHEAD:
            if len(counts) > 1 and all(n >= HINT_AHEAD for n in counts.values()):
                break
            continue
        counts[e.sender] = counts.get(e.sender, 0) + 1
        fields = out.setdefault(e.sender, {})
        for f, v in e.fields.items():
            if isinstance(v, int) and not isinstance(v, bool) and v not in fields.setdefault(f, []):
                fields[f].append(v)
    return out


def _matches(sent: list[tuple[str, Value]], expect: Expect) -> bool:
    """The step sends exactly the expected message (a step sending on two channels at once
    cannot be one observation, and the wire shows one segment at a time)."""
    if len(sent) != 1:
        return False
    ch, msg = sent[0]
    if ch != expect.channel or not isinstance(msg, dict):
        return False
    for f, v in expect.fields.items():
        got = msg.get(f)
        if got != v or type(got) is not type(v):
            return False
    return True
