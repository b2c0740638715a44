"""Which message sequences can one model send that another cannot? (`tcpspec diff`)

The observable behaviour of a model is the sequence of messages its processes *send*, in order:
each a channel name and a message value (every field). Receives, internal steps and the
network's own transitions (loss, duplication, reordering, injection) are not observed; they
only matter through what the processes send next. Two models are comparable when they have the
same channel names, each carrying the same message fields with the same types.

A difference "A not in B" is a run of A of at most `depth` steps whose first j sends no run of
B of at most `other_depth` steps sends (B's run sends those j messages, in order, and nothing
in between). The search goes by j = 1, 2, ...: the first j found is the shortest such sequence
for these bounds, so the first j-1 messages are ones B can send too and message j is the one it
cannot. Numbers stay symbolic (every ISN, every length); the exists-forall question is answered
by counterexample-guided refinement over B's paths (`_Search.unmatched`), each forall small
enough for Z3. A solver that gives up makes the verdict `unknown`, never "no difference".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from tcpspec.checker import ir
from tcpspec.core.diagnostics import UsageError
from tcpspec.solving.budget import Budget
from tcpspec.engines.common import extract_trace, fired, prefer_small_values
from tcpspec.solving.query import check
from tcpspec.core.results import steps as plural_steps
from tcpspec.encoding.theories import Sym, Theory, choose_theory
from tcpspec.core.trace import Trace
from tcpspec.encoding.transition_system import StepSyms, TransitionSystem
from tcpspec.core.types import Value

Message = tuple[str, Value]  # (channel name, message value)


@dataclass
class DiffResult:
    """The outcome of comparing two models, both directions.

    verdict: "same" (no difference up to the bounds), "different", or "unknown" (timeout).
    For "different": `producer` ("a" or "b") sends `messages`; the other model can send
    `messages[:first_unmatched - 1]` but not `messages[:first_unmatched]` (1-based index).
    `witness` is the producer's run (replayed on the interpreter); `other_prefix` the other
    model's run sending the matched prefix.
    """

    verdict: str
    depth: int
    other_depth: int
    producer: str | None = None
    messages: list[Message] = field(default_factory=list)
    first_unmatched: int | None = None
    witness: Trace | None = None
    other_prefix: Trace | None = None
    longest: int = 0  # "same": the longest message sequence compared (runs had no more sends)
    note: str = ""  # "different": the other model sends the sequence after all, in a longer run
    paths: int = 0  # how many paths of the matching model the search generalized (a cost figure)
    reason: str = ""
    seconds: float = 0.0
    directions: tuple[str, ...] = ("a", "b")


# ---------------------------------------------------------------- comparability


def comparable(a: ir.Model, b: ir.Model, absent_default: bool = False) -> list[str]:
    """Why the two models' observations cannot be compared (empty: they can). With
    `absent_default`, a field only one model declares is no obstacle (see `observed_channels`)."""
    problems: list[str] = []
    ca = {c.name: c for c in a.channels}
    cb = {c.name: c for c in b.channels}
    for name in sorted(set(ca) - set(cb)):
        problems.append(f"channel '{name}' is only in model A")
    for name in sorted(set(cb) - set(ca)):
        problems.append(f"channel '{name}' is only in model B")
    for name in sorted(set(ca) & set(cb)):
        fa, fb = dict(ca[name].message.fields), dict(cb[name].message.fields)
        for f in sorted(set(fa) - set(fb)) if not absent_default else ():
            problems.append(f"channel '{name}': field '{f}' is only in model A's {ca[name].message.name}")
        for f in sorted(set(fb) - set(fa)) if not absent_default else ():
            problems.append(f"channel '{name}': field '{f}' is only in model B's {cb[name].message.name}")
        for f in [f for f, _ in ca[name].message.fields if f in fb]:
            if fa[f] != fb[f]:
                problems.append(f"channel '{name}': field '{f}' is {fa[f]} in model A but {fb[f]} in model B")
    return problems


def observed_channels(a: ir.Model, b: ir.Model) -> list[ir.Channel]:
    """The channels as observed: A's, each message type with B's extra fields appended. A model
    without a field is taken to send it always at its type's zero (false, 0, first member):
    the seed's Segment has no `rst`, so it never sends a RST."""
    from dataclasses import replace

    from tcpspec.core.types import RecordType

    cb = {c.name: c for c in b.channels}
    out: list[ir.Channel] = []
    for c in sorted(a.channels, key=lambda c: c.name):
        names = {f for f, _ in c.message.fields}
        extra = tuple((f, t) for f, t in cb[c.name].message.fields if f not in names)
        out.append(replace(c, message=RecordType(c.message.name, c.message.fields + extra)))
    return out


# ---------------------------------------------------------------- encoding


def _prefixed(th: Theory, prefix: str, record: list[z3.ExprRef]) -> Theory:
    """The same theory, but its fresh constants are named `prefix...` and collected in `record`:
    both models name their variables `client.iss@0`, which must be two different constants."""
    base = type(th)

    class Prefixed(base):  # type: ignore[valid-type,misc]
        def fresh_number(self, name: str, t):  # type: ignore[no-untyped-def]
            c = base.fresh_number(self, prefix + name, t)
            record.append(c)
            return c

        def fresh(self, name: str, t):  # type: ignore[no-untyped-def]
            s = base.fresh(self, name, t)
            if isinstance(s, z3.BoolRef) and z3.is_const(s):
                s = z3.Bool(prefix + name)
                record.append(s)
            return s

    return Prefixed()


class _Word:
    """The compared message sequence: per position a channel number and one message per channel."""

    def __init__(self, th: Theory, channels: list[ir.Channel], n: int, name: str = "w") -> None:
        self.th, self.channels, self.n = th, channels, n
        self.chan = [z3.Int(f"{name}|chan{p}") for p in range(n)]
        self.msgs: list[dict[str, Sym]] = [
            {c.name: th.fresh(f"{name}|{p}|{c.name}", c.message) for c in channels} for p in range(n)
        ]

    def index(self, cname: str) -> int:
        return [c.name for c in self.channels].index(cname)

    def at(self, p: int, cname: str, msg: dict[str, z3.ExprRef]) -> z3.BoolRef:
        """Position p is `msg` on channel `cname` (fields `msg` lacks are at their zero)."""
        mine = self.msgs[p][cname]
        assert isinstance(mine, dict)
        rec = self.channels[self.index(cname)].message
        return z3.And([self.chan[p] == self.index(cname)]
                      + [mine[f] == (msg[f] if f in msg else self.th.zero(t)) for f, t in rec.fields])

    def is_value(self, p: int, cname: str, value: Value) -> z3.BoolRef:
        """Position p is the concrete message `value` on channel `cname`."""
        rec = self.channels[self.index(cname)].message
        const = self.th.constant(value, rec)
        assert isinstance(const, dict)
        return self.at(p, cname, const)

    def decode(self, zm: z3.ModelRef) -> list[Message]:
        out: list[Message] = []
        for p in range(self.n):
            c = self.channels[zm.eval(self.chan[p], model_completion=True).as_long()]  # type: ignore[attr-defined]
            out.append((c.name, self.th.decode(zm, self.msgs[p][c.name], c.message)))
        return out


class _Run:
    """A run of at most `k` steps of one model whose sends are exactly the word's n messages.

    `live[s]`: step s is taken; a run stops once and stays stopped. `formula` says all of it.
    The transition system `ts` (its per-step encodings, the costly part) is shared by every
    run of the same model and role, whatever the word.
    """

    def __init__(self, ts: TransitionSystem, prefix: str, word: _Word, k: int) -> None:
        self.ts, self.k, self.word = ts, k, word
        self.live = [z3.Bool(f"{prefix}live@{s}") for s in range(k)]
        cs: list[z3.BoolRef] = [self.ts.init()]
        count: z3.ArithRef = z3.IntVal(0)
        for s in range(k):
            step = self.ts.step_at(s)
            cs.append(z3.Implies(self.live[s], z3.And(step.trans, step.range_ok, self.ts.well_formed(s + 1))))
            if s + 1 < k:
                cs.append(z3.Implies(self.live[s + 1], self.live[s]))
            count = self._sends(s, step, count, cs)
        cs.append(count == word.n)
        self.formula = z3.And(cs)

    def _sends(self, s: int, step: StepSyms, count: z3.ArithRef, cs: list[z3.BoolRef]) -> z3.ArithRef:
        """Every send of step s lands at the next position of the word and equals it there.

        One match per channel, not per transition: the message is an if-chain over the step's
        choice (one transition fires). Sends of one step go in channel-name order, here and in
        `_path_match` alike."""
        from tcpspec.encoding.encoder import sym_ite

        n = self.word.n
        for cname in sorted({c for eff in step.effects for c in eff.sends}):
            senders = [(i, eff.sends[cname]) for i, eff in enumerate(step.effects) if cname in eff.sends]
            sent = z3.And(self.live[s], z3.Or([z3.And(self.ts.fires(step.act, i), cond) for i, (cond, _) in senders]))
            msg = senders[-1][1][1]
            for i, (_, m) in reversed(senders[:-1]):
                msg = sym_ite(self.ts.fires(step.act, i), m, msg)  # type: ignore[assignment]
            match = z3.Or([z3.And(count == p, self.word.at(p, cname, msg)) for p in range(n)] or [z3.BoolVal(False)])
            cs.append(z3.Implies(sent, match))
            count = count + z3.If(sent, 1, 0)  # type: ignore[assignment]
        return z3.simplify(count)  # type: ignore[return-value]

    def length(self, zm: z3.ModelRef) -> int:
        return sum(1 for b in self.live if z3.is_true(zm.eval(b, model_completion=True)))

    def trace(self, zm: z3.ModelRef) -> Trace:
        return extract_trace(zm, self.ts, self.length(zm))


# ---------------------------------------------------------------- search


@dataclass
class _Found:
    producer: str
    messages: list[Message]
    witness: Trace


def _theory(a: ir.Model, b: ir.Model, name: str) -> Theory:
    """One representation for both (the word's terms are shared): integers if either wants them."""
    if name != "auto":
        return choose_theory(a, name)
    ta, tb = choose_theory(a, "auto"), choose_theory(b, "auto")
    return ta if ta.name == "int" or tb.name != "int" else tb


class _Search:
    """The queries of one comparison: who sends what, within which bounds and budget."""

    def __init__(self, models: dict[str, ir.Model], th: Theory, depth: int, other_depth: int, budget: Budget) -> None:
        self.models, self.th, self.depth, self.other_depth, self.budget = models, th, depth, other_depth, budget
        self.channels = observed_channels(models["a"], models["b"])
        self.reason = ""
        self.paths = 0  # paths of the other model generalized, over the whole search
        self._systems: dict[str, TransitionSystem] = {}
        self.directions: tuple[str, ...] = ("a", "b")

    def system(self, who: str, role: str) -> TransitionSystem:
        """The unrolling of model `who` for one role ("run": the sender, "m": the matcher),
        built once: its constants are named `who|role|...`, apart from the other role's."""
        key = f"{who}|{role}|"
        if key not in self._systems:
            self._systems[key] = TransitionSystem(self.models[who], _prefixed(self.th, key, []))
        return self._systems[key]

    def _ask(self, solver: z3.Solver) -> z3.CheckSatResult:
        out = check(solver, [], self.budget)
        if out.result == z3.unknown:
            self.reason = out.reason or "the solver gave up"
        return out.result

    def unmatched(self, who: str, n: int) -> str | _Found:
        """A run of `who` whose n sends no run of the other model of <= other_depth steps sends;
        else "none" (`who` has no run with n sends), "matched" (each is matched) or "unknown".

        Counterexample-guided: a candidate run of `who` is checked against the other model; if
        the other matches it, the *path* it took (its transitions, in order) is generalized over
        all its data (ISNs, parameters): the next candidate must be unmatched by every path seen
        so far, for every value of that path's free inputs (a small forall, over the path's
        initial values and parameters only). There are finitely many paths, so this ends.
        """
        other = "b" if who == "a" else "a"
        word = _Word(self.th, self.channels, n)
        run = _Run(self.system(who, "run"), f"{who}|run|", word, self.depth)
        solver = z3.Solver()
        solver.add(run.formula)
        matcher = _Matcher(self, other, n, self.other_depth)
        searched = False
        while True:
            r = self._ask(solver)
            if r != z3.sat:
                return "unknown" if r == z3.unknown else "matched" if searched else "none"
            searched = True
            zm = solver.model()
            messages = word.decode(zm)
            path = self.matching_path(matcher, messages)
            if isinstance(path, z3.CheckSatResult):
                if path == z3.unsat:
                    zm = self._smaller(solver, run, zm, matcher)
                    return _Found(who, word.decode(zm), _trim(run.trace(zm), n))
                return "unknown"
            self.paths += 1
            match, bound = _path_match(self.models[other], self.th, f"{other}|p{self.paths}|", path, word)
            solver.add(z3.ForAll(bound, z3.Not(match)) if bound else z3.Not(match))

    def _smaller(self, solver: z3.Solver, run: _Run, zm: z3.ModelRef, matcher: "_Matcher") -> z3.ModelRef:
        """The same difference with small numbers (ISNs 0, ...) when one exists: easier to read."""
        small = prefer_small_values(solver, run.ts, run.length(zm), [], self.budget, max_checks=24)
        if small is zm or matcher.match(run.word.decode(small), self) != z3.unsat:
            return zm
        return small

    def matching_path(self, matcher: "_Matcher", messages: list[Message]) -> list[int] | z3.CheckSatResult:
        """The transitions of a run of the matcher's model sending exactly `messages`."""
        r = matcher.match(messages, self)
        if r != z3.sat:
            return r
        zm = matcher.model_of_run
        assert zm is not None
        trace = _trim(matcher.run.trace(zm), len(messages))
        return [fired(zm, matcher.run.ts, s) for s in range(trace.length)]

    def other_prefix(self, who: str, messages: list[Message]) -> Trace | None:
        """A run of `who` of <= other_depth steps sending exactly `messages` (None if none)."""
        matcher = _Matcher(self, who, len(messages), self.other_depth)
        if matcher.match(messages, self, small=True) != z3.sat:
            return None
        assert matcher.model_of_run is not None
        return _trim(matcher.run.trace(matcher.model_of_run), len(messages))


class _Matcher:
    """Runs of one model (<= k steps) sending a given concrete sequence of n messages: the
    unrolling is built once, each sequence is asked in its own solver frame."""

    def __init__(self, search: "_Search", who: str, n: int, k: int) -> None:
        self.word = _Word(search.th, search.channels, n, f"m{who}")
        self.run = _Run(search.system(who, "m"), f"{who}|m|", self.word, k)
        self.solver = z3.Solver()
        self.solver.add(self.run.formula)
        self.model_of_run: z3.ModelRef | None = None

    def match(self, messages: list[Message], search: "_Search", small: bool = False) -> z3.CheckSatResult:
        """Is there such a run? If so, `self.model_of_run` is it (with `small`: with small
        initial values and parameters, for showing)."""
        self.solver.push()
        try:
            for p, (cname, msg) in enumerate(messages):
                self.solver.add(self.word.is_value(p, cname, msg))
            r = search._ask(self.solver)
            self.model_of_run = None
            if r == z3.sat:
                zm = self.solver.model()
                if small:
                    zm = prefer_small_values(self.solver, self.run.ts, self.run.length(zm), [], search.budget, 24)
                self.model_of_run = zm
            return r
        finally:
            self.solver.pop()


def _path_match(
    model: ir.Model, th_kind: Theory, prefix: str, path: list[int], word: _Word,
) -> tuple[z3.BoolRef, list[z3.ExprRef]]:
    """`model` taking exactly the transitions `path` from an initial state sends the word; and
    the constants that formula is over (initial values, parameters): no per-step state copies,
    each state is a term of the initial one, so a forall over them stays small."""
    from tcpspec.encoding import encoder as enc

    consts: list[z3.ExprRef] = []
    th = _prefixed(th_kind, prefix, consts)
    ts = TransitionSystem(model, th)
    cs: list[z3.BoolRef] = [ts.init()]
    state = ts.state_at(0)
    count: z3.ArithRef = z3.IntVal(0)
    for s, i in enumerate(path):
        t = ts.transitions[i]
        params: dict[str, Sym] = {}
        for pname, ptype in t.params:
            params[pname] = th.fresh(f"{t.name}.{pname}@{s}", ptype)
            cs.extend(th.well_formed(params[pname], ptype))
        eff = enc.execute(th, model, t, state, params)
        cs += eff.enabled + eff.range_ok + _legal(th, model, eff.post)
        for cname, (cond, msg) in sorted(eff.sends.items()):
            cs.append(z3.Implies(cond, z3.Or([z3.And(count == p, word.at(p, cname, msg)) for p in range(word.n)]
                                             or [z3.BoolVal(False)])))
            count = count + z3.If(cond, 1, 0)  # type: ignore[assignment]
        state = eff.post
    cs.append(count == word.n)
    return z3.And(cs), consts


def _trim(trace: Trace, n: int) -> Trace:
    """The run up to (and including) the step of its n-th send: later silent steps say nothing."""
    seen = 0
    for s, step in enumerate(trace.steps):
        if seen >= n:
            return Trace(trace.steps[:s])
        seen += len(step.sent)
    return trace


def diff_models(
    a: ir.Model, b: ir.Model, depth: int = 6, other_depth: int | None = None, timeout: float | None = None,
    theory: str = "auto", directions: tuple[str, ...] = ("a", "b"), absent_default: bool = False,
) -> DiffResult:
    """The shortest message sequence one model sends and the other cannot (see the module doc).

    `directions`: "a" looks for sequences of A that B cannot send, "b" the converse.
    `other_depth` (default 2 * depth) bounds the runs of the model that has to match: it may
    need internal steps the sender does not (a passive OPEN, a receive the sender folds in).
    `absent_default`: compare models whose messages have different fields (see `observed_channels`).
    """
    problems = comparable(a, b, absent_default)
    if problems:
        missing = any("field" in x and "only in model" in x for x in problems)
        hint = " (--absent-as-default: a missing field counts as always 0/false)" if missing else ""
        raise UsageError("the models are not comparable: " + "; ".join(problems) + hint)
    t0 = time.perf_counter()
    other = 2 * depth if other_depth is None else other_depth
    search = _Search({"a": a, "b": b}, _theory(a, b, theory), depth, other, Budget(timeout))
    search.directions = tuple(directions)
    secs = lambda: round(time.perf_counter() - t0, 3)  # noqa: E731
    live = list(directions)
    n, longest = 0, 0
    while live:
        n += 1
        for who in list(live):
            found = search.unmatched(who, n)
            if isinstance(found, _Found):
                return _report(search, found, n, secs())
            if found == "none":
                live.remove(who)
            elif found == "unknown":
                return DiffResult("unknown", depth, other, reason=f"{search.reason} at {n} messages",
                                  longest=n - 1, seconds=secs(), directions=tuple(directions), paths=search.paths)
            else:
                longest = n
    return DiffResult("same", depth, other, longest=longest, seconds=secs(), directions=tuple(directions),
                      paths=search.paths)


def _report(search: _Search, found: _Found, n: int, seconds: float) -> DiffResult:
    from tcpspec.interp.search import run_is_behaviour

    model = search.models[found.producer]
    replay = run_is_behaviour(model, found.witness)
    if not replay.ok:
        raise RuntimeError(f"the difference's run does not replay on the interpreter: {replay.message}")
    other = "b" if found.producer == "a" else "a"
    prefix = search.other_prefix(other, found.messages[: n - 1]) if n > 1 else None
    return DiffResult("different", search.depth, search.other_depth, found.producer, found.messages, n,
                      found.witness, prefix, seconds=seconds, note=_longer_match(search, other, found.messages),
                      paths=search.paths, directions=search.directions)


def _longer_match(search: _Search, other: str, messages: list[Message]) -> str:
    """Does the other model send the sequence with more steps than allowed? Then the difference
    is one of the bounds only, and the report says so (one query, at depth + other_depth)."""
    k = search.depth + search.other_depth
    matcher = _Matcher(search, other, len(messages), k)
    if search.budget.expired or matcher.match(messages, search) != z3.sat:
        return ""
    assert matcher.model_of_run is not None
    steps = _trim(matcher.run.trace(matcher.model_of_run), len(messages)).length
    return (f"model {other.upper()} sends this sequence in a run of {plural_steps(steps)}: this is a difference "
            f"within --other-depth {search.other_depth} only")


def _legal(th: Theory, model: ir.Model, state: dict[str, object]) -> list[z3.BoolRef]:
    """State terms hold legal values, as `TransitionSystem.well_formed` asks of every state copy
    of a run (implied by `range_ok`; said again so a path is never looser than a run)."""
    from tcpspec.encoding.encoder import ChanSym

    cs: list[z3.BoolRef] = []
    for v in model.state_vars:
        cs += th.well_formed(state[v.name], v.type)  # type: ignore[arg-type]
    for c in model.channels:
        ch = state[c.name]
        assert isinstance(ch, ChanSym)
        for slot in ch.slots:
            cs += th.well_formed(slot, c.message)
    return cs


def load_pair(path_a: str, path_b: str, defines: dict[str, str]) -> tuple[ir.Model, ir.Model]:
    """Both models, each `-D NAME=VALUE` applied to every model that declares NAME (a model
    before and after an edit usually share their constants); a NAME neither declares is an error."""
    from tcpspec.frontend import ast
    from tcpspec.checker.check import check_program
    from tcpspec.frontend.parser import load_program

    programs = [load_program(path_a), load_program(path_b)]
    declared = [{d.name for f in p.files for d in f.decls if isinstance(d, ast.ConstDecl)} for p in programs]
    unknown = sorted(n for n in defines if not any(n in names for names in declared))
    if unknown:
        raise UsageError(f"-D: no constant named {', '.join(repr(n) for n in unknown)} in either model")
    a, b = (check_program(p, {k: v for k, v in defines.items() if k in names}) for p, names in zip(programs, declared))
    return a, b

