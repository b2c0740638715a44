"""The state-space search of the explicit engine: breadth-first, depth-first or random (swarm).

States are the interpreter's (`interp.take` computes every step); what is kept of a visited
state is a 64-bit hash of its canonical tuple (hash compaction, as TLC's fingerprints), plus,
per breadth-first level, the parent's index and the step taken, so that a trace is rebuilt by
taking those steps again from its initial state. A hash collision would make the search skip
a state it has not seen: `Outcome.collision` is the chance of that (the same estimate TLC
prints: n^2 / 2^65 for n states).

Guards and properties are decided by engines/explicit_eval.py (the interpreter's values, with
opaque sequence numbers in three-valued logic). A step code names a transition and the index
of its parameter values, so the same step can be taken again while rebuilding a trace (the
steps, the fingerprint and the codes: engines/explicit_steps.py).
"""

from __future__ import annotations

import random
import resource
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tcpspec.checker import ir
from tcpspec.engines.explicit_eval import StepCheck, decide
from tcpspec.engines.explicit_steps import Moves, canonical, concrete
from tcpspec.engines.explicit_symmetry import Reducer
from tcpspec.interp.values import Domain, OpaqueRead, State, copy_state
from tcpspec.interp.evaluate import Env
from tcpspec.interp.semantics import StepOutcome, take
from tcpspec.core.types import Value

if TYPE_CHECKING:
    from tcpspec.engines.explicit_probe import Prober

Path = tuple[int, tuple[int, ...]]  # (index of the initial state, step codes)
PROBE_ROUNDS = 8  # solver proposals per state expanded, while each breaks a property not broken before
PROBE_PATIENCE = 32  # after a probe's violation ends the search: states probed without a new one
MEMORY_EVERY = 0.2  # seconds between two checks of the memory bound


@dataclass
class Progress:
    states: int
    depth: int
    seconds: float


@dataclass
class Limits:
    depth: int
    max_states: int | None = None
    memory_mb: int | None = None
    deadline: float | None = None  # time.monotonic()
    # CPU seconds of this process (a head start's budget, the same work on a busy machine); a
    # breadth-first search also stops before a level it does not expect to finish within it
    cpu_seconds: float | None = None
    stop_at_first: frozenset[str] = frozenset()  # properties whose violation ends the search (after its level)


@dataclass
class Outcome:
    """What a search found. `levels`: depths searched in full (every state of every run of up
    to that many steps was visited); `complete`: every reachable state was visited."""

    found: dict[str, Path] = field(default_factory=dict)
    states: int = 0
    levels: int = 0
    diameter: int = 0
    complete: bool = False
    cut: str = ""  # why it stopped early: "max-states", "memory", "timeout", "budget", "" (depth or done)
    seconds: float = 0.0
    probed: set[str] = field(default_factory=set)  # found through a solver's proposal (explicit_probe.py)
    # With symmetry: a property found as the image of another's violation, with the permutation
    # that maps that run onto one violating it; and the properties whose run ends in a step
    # (step properties: the last state is not made canonical).
    moved: dict[str, tuple[int, ...]] = field(default_factory=dict)
    step_end: set[str] = field(default_factory=set)

    @property
    def collision(self) -> float:
        return min(1.0, self.states * self.states / 2.0**65)


class Search:
    """One search over `searched` (the model with opaque constants) from `initial`."""

    def __init__(self, searched: ir.Model, initial: list[State], props: list[ir.Property], domain: Domain,
                 deadlock: ir.Property | None = None, on_progress: Callable[[Progress], None] | None = None,
                 keep: int = 0, prober: Prober | None = None, reducer: Reducer | None = None) -> None:
        self.model = searched
        self.prober = prober
        self.reducer = reducer  # symmetry: one state per orbit (engines/explicit_symmetry.py)
        self.paths_canonical = False  # the search's paths start from canonical states (bfs with a reducer)
        self.initial = initial
        self.moves = Moves(searched, searched, domain)
        self.state_props = [(p, decide(p.expr), _names(ir.state_reads(p.expr))) for p in props if p.kind is not ir.PropertyKind.STEP
                            and p.kind is not ir.PropertyKind.DEADLOCK]
        self.var_keys = [v.name for v in searched.state_vars]
        self.chan_keys = [c.name for c in searched.channels]
        checks = [StepCheck(p) for p in props if p.kind is ir.PropertyKind.STEP]
        self.step_props = [[c for c in checks if c.may_apply(t)] for t, _, _, _ in self.moves.items]
        self.deadlock = deadlock
        self.on_progress = on_progress
        self.key = canonical(searched)
        self._memory_asked = float("-inf")  # time.monotonic() of the last memory check
        self.out = Outcome()
        self._open = {p.name for p in props} | ({deadlock.name} if deadlock is not None else set())
        # Every state visited, while there are at most `keep` (for a certificate); None past it.
        self.kept: list[State] | None = [] if keep > 0 else None
        self._keep = keep

    def _keep_state(self, state: State) -> None:
        if self.kept is not None:
            self.kept.append(state)
            if len(self.kept) > self._keep:
                self.kept = None

    # -------------------------------------------------- properties

    def _state_hits(self, state: State, parent: State | None = None) -> list[str]:
        """The open state properties `state` violates (targets it reaches). Given the parent it
        was reached from, only those that read something the step changed: the parent was
        checked when it was found, and every property still open held there."""
        changed = None if parent is None else self._changed(parent, state)
        hits = []
        env = Env(pre=state)
        for p, test, read in self.state_props:
            if p.name not in self._open or (changed is not None and read is not None and read.isdisjoint(changed)):
                continue
            if test(env) == (p.kind is ir.PropertyKind.REACHABLE):
                hits.append(p.name)
        return hits

    def _changed(self, parent: State, state: State) -> set[str]:
        """Keys whose value is not the parent's own object (values are never changed in place;
        a step copies the channel lists but keeps the messages)."""
        out = {k for k in self.var_keys if state[k] is not parent[k]}
        for k in self.chan_keys:
            a, b = parent[k], state[k]
            if len(a) != len(b) or any(x is not y for x, y in zip(a, b)):  # type: ignore[arg-type]
                out.add(k)
        return out

    def _step_hits(self, ti: int, pre: State, t: ir.AnyTransition, outcome: StepOutcome) -> list[str]:
        return [c.prop.name for c in self.step_props[ti] if c.prop.name in self._open and not c.ok(pre, t, outcome)]

    def _deadlocked(self, state: State) -> bool:
        from tcpspec.interp.live import deadlock_problem

        return deadlock_problem(self.model, state) is None

    def _found(self, names: list[str], path: Path, step: bool = False) -> None:
        for name in names:
            if name in self._open:
                self._open.discard(name)
                self.out.found[name] = path
                if step:
                    self.out.step_end.add(name)
                if self.reducer is not None:
                    # Every property of the orbit is violated too (the permuted run): the
                    # search may never meet it in a canonical state.
                    names_ = self.reducer.perm.names
                    for p in self.reducer.perm.all():
                        other = names_.property(name, p)
                        if other in self._open:
                            self._open.discard(other)
                            self.out.found[other] = path
                            self.out.moved[other] = p
                            if step:
                                self.out.step_end.add(other)

    def orbit_key(self, state: State) -> int:
        """The visited set's key: the canonical state's hash under symmetry."""
        return self.key(state) if self.reducer is None else self.reducer.canon(state)[2]

    # -------------------------------------------------- breadth-first

    def bfs(self, limits: Limits) -> Outcome:
        """Level by level: the first trace found for a property is a shortest one."""
        t0 = time.monotonic()
        seen: set[int] = set()
        parents: list[array] = []  # per level: index of the parent in the level before
        codes: list[array] = []  # per level: the step taken from it (level 0: initial index)
        frontier: list[State] = []
        par0, code0 = array("l"), array("q")

        def visit(st: State, into: list[State], par: array, cod: array, parent: int, code: int) -> State | None:
            """Add `st` (its canonical state, under symmetry) to the next level unless it was
            seen; the state added, or None."""
            if self.reducer is not None:
                st, _, k = self.reducer.canon(st)
            else:
                k = self.key(st)
            if k in seen:
                return None
            seen.add(k)
            self._keep_state(st)
            into.append(st)
            par.append(parent)
            cod.append(code)
            return st

        self.paths_canonical = self.reducer is not None
        for i, st in enumerate(self.initial):
            got = visit(st, frontier, par0, code0, -1, i)
            if got is not None:
                self._found(self._state_hits(got), (i, ()))
        parents.append(par0)
        codes.append(code0)
        out = self.out
        out.states = len(seen)
        level = 0
        stop_after = False
        quiet = 0  # states probed since a probe last broke a property
        last_tick = t0
        self._cpu0 = time.process_time()
        level_cpu: list[float] = [0.0]  # CPU seconds spent when each level was done
        while frontier and self._open and level < limits.depth and not stop_after:
            nxt: list[State] = []
            npar, ncode = array("l"), array("q")
            for j, st in enumerate(frontier):
                if j % 8 == 0:
                    now = time.monotonic()
                    cut = self._cut(limits, len(seen), now) or (
                        "" if out.probed else self._hopeless(limits, level_cpu[-1], j, len(frontier)))
                    if cut:
                        out.cut, out.levels, out.seconds = cut, level, now - t0
                        return out
                    if self.on_progress is not None and now - last_tick >= 0.5:
                        last_tick = now
                        self.on_progress(Progress(len(seen), level + 1, now - t0))
                if self.prober is not None and not self.prober.exhausted and level < limits.depth:
                    before = len(out.probed)
                    self._probe(st, self._path(parents, codes, level, j, None), limits.depth)
                    quiet = 0 if len(out.probed) > before else quiet + 1
                if out.probed and any(n in limits.stop_at_first for n in out.probed):
                    # The run ends with a violation that is not a shortest one (the portfolio's
                    # BMC confirms or shortens it): no more levels, only the probes of this one,
                    # for the other properties broken as soon, until they find nothing new.
                    assert self.prober is not None
                    if self.prober.exhausted or quiet >= PROBE_PATIENCE or j == len(frontier) - 1:
                        out.levels, out.states, out.seconds = level, len(seen), time.monotonic() - t0
                        return out
                    continue
                moves = self.moves.steps(st)
                if not moves and self.deadlock is not None and self.deadlock.name in self._open and self._deadlocked(st):
                    self._found([self.deadlock.name], self._path(parents, codes, level, j, None))
                for code, t, _params, outcome in moves:
                    ti = code % self.moves.n
                    if self.step_props[ti]:
                        bad = self._step_hits(ti, st, t, outcome)
                        if bad:
                            self._found(bad, self._path(parents, codes, level, j, code), step=True)
                    if not outcome.range_ok:
                        continue
                    assert outcome.state is not None
                    child = visit(outcome.state, nxt, npar, ncode, j, code)
                    if child is None:
                        continue
                    hits = self._state_hits(child, st)
                    if hits:
                        self._found(hits, self._path(parents, codes, level, j, code))
                if self.out.found and any(n in limits.stop_at_first for n in self.out.found):
                    stop_after = True  # the rest of this level still counts (every violation at its depth)
            level += 1
            level_cpu.append(time.process_time() - self._cpu0)
            out.states = len(seen)
            if nxt:
                out.diameter = level
                parents.append(npar)
                codes.append(ncode)
            frontier = nxt
        out.levels = level
        out.complete = not frontier and not stop_after
        out.seconds = time.monotonic() - t0
        return out

    def _probe(self, st: State, path: Path, depth: int) -> None:
        """Take the injections a solver proposes from `st` (explicit_probe.py), then every step
        after each, deciding the properties on the interpreter as for any step."""
        assert self.prober is not None
        pre = concrete(st)
        for _ in range(PROBE_ROUNDS):  # again while a proposal breaks something new
            before = len(self.out.probed)
            for name, params in self.prober.propose(pre, self._open):  # type: ignore[arg-type]
                self._take_proposed(st, path, name, params, len(path[1]) + 2 <= depth)
            if len(self.out.probed) == before:
                return

    def _take_proposed(self, st: State, path: Path, name: str, params: dict[str, Value], then: bool) -> None:
        """The proposed injection from `st` (reached by `path`) and, if `then` (the bound
        allows it), every step after it."""
        n = self.moves.n
        ti = self.moves.index[name]
        t, free, _, _ = self.moves.items[ti]
        code = self.moves.extra(ti, params)
        first = (path[0], path[1] + (code,))
        try:
            outcome = take(free, st, params)
            if not outcome.enabled:
                return
            self._found_probed(self._step_hits(ti, st, t, outcome) if self.step_props[ti] else [], first)
            if not outcome.range_ok:
                return
            mid = outcome.state
            assert mid is not None
            self._found_probed(self._state_hits(mid, st), first)
            for code2, t2, _params, out2 in self.moves.steps(mid) if then else []:
                second = (path[0], first[1] + (code2,))
                ti2 = code2 % n
                self._found_probed(self._step_hits(ti2, mid, t2, out2) if self.step_props[ti2] else [], second)
                if out2.range_ok and out2.state is not None:
                    self._found_probed(self._state_hits(out2.state, mid), second)
        except OpaqueRead:
            pass  # the proposal reads what data independence hid: the search's own steps decide

    def _found_probed(self, names: list[str], path: Path) -> None:
        names = [x for x in names if x in self._open]
        self._found(names, path)
        self.out.probed.update(names)

    def _hopeless(self, limits: Limits, started: float, done: int, total: int) -> str:
        """"budget" when the level under way, `done` of its `total` states expanded since
        `started` (CPU seconds into the search), would end past the CPU budget by half again:
        a level cut short clears no depth, so a head start had better stop now."""
        if limits.cpu_seconds is None or done < 16:
            return ""
        spent = time.process_time() - self._cpu0
        expected = started + (spent - started) * total / done
        return "budget" if expected > 1.5 * limits.cpu_seconds else ""

    @staticmethod
    def _path(parents: list[array], codes: list[array], level: int, j: int, code: int | None) -> Path:
        """The initial state and steps leading to state j of `level` (then `code`, if given)."""
        steps: list[int] = [] if code is None else [code]
        while level > 0:
            steps.append(codes[level][j])
            j = parents[level][j]
            level -= 1
        return codes[0][j], tuple(reversed(steps))

    def _cut(self, limits: Limits, states: int, now: float) -> str:
        if limits.max_states is not None and states >= limits.max_states:
            return "max-states"
        if limits.cpu_seconds is not None and time.process_time() - self._cpu0 >= limits.cpu_seconds:
            return "budget"
        if limits.deadline is not None and now >= limits.deadline:
            return "timeout"
        # getrusage costs up to ~10 ms here (measured: a third of a 10 s search when asked every
        # 8 states): asked at most every MEMORY_EVERY seconds.
        if limits.memory_mb is not None and now - self._memory_asked >= MEMORY_EVERY:
            self._memory_asked = now
            if resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > limits.memory_mb * 1024:
                return "memory"
        return ""

    # -------------------------------------------------- depth-first and random

    def dfs(self, limits: Limits, rng: random.Random | None = None) -> Outcome:
        """Depth-first to `limits.depth` steps. A state is searched again when it is reached by a
        shorter run than before (so that the bound cuts no run it should not). With `rng`, the
        steps of each state are tried in a random order (one member of a swarm). Traces are
        not the shortest."""
        t0 = time.monotonic()
        self._cpu0 = time.process_time()
        self.paths_canonical = False  # its paths are taken from the states themselves
        out = self.out
        best: dict[int, int] = {}
        for i, st in enumerate(self.initial):
            if not self._open:
                break
            stack: list[tuple[State, list, int]] = []  # state, its moves not yet taken, the code that led here
            path: list[int] = []
            k = self.orbit_key(st)
            if best.get(k, limits.depth + 1) <= 0:
                continue
            best[k] = 0
            self._found(self._state_hits(st), (i, ()))
            stack.append((st, self._ordered(st, rng), -1))
            count = 0
            while stack and self._open:
                count += 1
                if count % 64 == 0:
                    now = time.monotonic()
                    cut = self._cut(limits, len(best), now)
                    if cut:
                        out.cut, out.states, out.seconds = cut, len(best), now - t0
                        return out
                    if self.on_progress is not None and count % 4096 == 0:
                        self.on_progress(Progress(len(best), len(path), now - t0))
                st, moves, _ = stack[-1]
                if not moves:
                    stack.pop()
                    if path:
                        path.pop()
                    continue
                code, t, _params, outcome = moves.pop()
                ti = code % self.moves.n
                if self.step_props[ti]:
                    bad = self._step_hits(ti, st, t, outcome)
                    if bad:
                        self._found(bad, (i, tuple(path + [code])), step=True)
                if not outcome.range_ok:
                    continue
                child = outcome.state
                assert child is not None
                d = len(path) + 1
                k = self.orbit_key(child)
                if best.get(k, limits.depth + 1) <= d:
                    continue
                best[k] = d
                out.diameter = max(out.diameter, d)
                self._found(self._state_hits(child, st), (i, tuple(path + [code])))
                if d < limits.depth:
                    path.append(code)
                    nxt = self._ordered(child, rng)
                    if not nxt and self.deadlock is not None and self.deadlock.name in self._open and self._deadlocked(child):
                        self._found([self.deadlock.name], (i, tuple(path)))
                    stack.append((child, nxt, code))
        out.states = len(best)
        out.seconds = time.monotonic() - t0
        out.levels = limits.depth
        out.complete = out.diameter < limits.depth and not out.cut
        return out

    def _ordered(self, st: State, rng: random.Random | None) -> list:
        moves = self.moves.steps(st)
        moves.reverse()  # popped from the end: model order
        if rng is not None:
            rng.shuffle(moves)
        return moves

    # -------------------------------------------------- traces

    def run_of(self, path: Path, prop: str | None = None) -> list[tuple[State, ir.AnyTransition | None, dict[str, Value], StepOutcome | None]]:
        """The states and steps of `path`, taken again on the searched model (under symmetry:
        the concrete run that ends in the state or step found for `prop`)."""
        if self.reducer is not None:
            return self._run_under_symmetry(path, prop)
        i, steps = path
        st = copy_state(self.initial[i])
        out: list[tuple[State, ir.AnyTransition | None, dict[str, Value], StepOutcome | None]] = [(st, None, {}, None)]
        for code in steps:
            t, params, outcome = self.moves.again(st, code)
            nxt = outcome.state if outcome.state is not None else st
            out.append((nxt, t, params, outcome))
            st = nxt
        return out


    def _run_under_symmetry(self, path: Path, prop: str | None) -> list[
            tuple[State, ir.AnyTransition | None, dict[str, Value], StepOutcome | None]]:
        """A path of canonical states c0 -s1-> c1 ... (c_m = p_m(s_m)) as a concrete run: the
        run y_0 .. y_k with y_k the state found and y_m = (p_k o ... o p_m+1)(c_m), each step
        found again among the steps of y_m (an automorphism maps steps onto steps); then,
        for a property found as another's image, mapped by that permutation."""
        red = self.reducer
        assert red is not None
        ident = red.perm.identity
        i, steps = path
        step_end = prop in self.out.step_end
        cur = copy_state(self.initial[i])
        if self.paths_canonical:
            cur = red.canon(cur)[0]
        states, perms = [cur], []
        last_step: tuple[ir.AnyTransition, dict[str, Value], StepOutcome] | None = None
        for n, code in enumerate(steps):
            t, params, outcome = self.moves.again(cur, code)
            nxt = outcome.state if outcome.state is not None else cur
            if self.paths_canonical and not (step_end and n == len(steps) - 1):
                nxt, p, _ = red.canon(nxt)
            else:
                p = ident
            states.append(nxt)
            perms.append(p)
            last_step = (t, params, outcome)
            cur = nxt
        acc = red.perm.identity
        ys = [states[-1]]
        for m in range(len(steps) - 1, -1, -1):
            acc = tuple(acc[perms[m][k]] for k in range(len(acc)))
            ys.append(red.perm.apply(states[m], acc))
        ys.reverse()
        moved = self.out.moved.get(prop or "", ident)
        ys = [red.perm.apply(y, moved) for y in ys]
        out: list[tuple[State, ir.AnyTransition | None, dict[str, Value], StepOutcome | None]] = [(ys[0], None, {}, None)]
        for m in range(len(steps)):
            final = m == len(steps) - 1
            if final and step_end and moved == ident and last_step is not None:
                t, params, outcome = last_step  # from y_k-1 = c_k-1 itself: the very step found
            else:
                t, params, outcome = self._step_to(ys[m], ys[m + 1], prop if final and step_end else None)
            out.append((outcome.state if outcome.state is not None else ys[m], t, params, outcome))
        return out

    def _step_to(self, pre: State, post: State, prop: str | None) -> tuple[ir.AnyTransition, dict[str, Value], StepOutcome]:
        """A step from `pre` to `post` (one that breaks the step property `prop`, if given)."""
        want = self.key(post)
        for code, t, params, outcome in self.moves.steps(pre):
            ti = code % self.moves.n
            if prop is not None:
                if any(c.prop.name == prop and not c.ok(pre, t, outcome) for c in self.step_props[ti]):
                    if outcome.state is None or self.key(outcome.state) == want:
                        return t, params, outcome
                continue
            if outcome.range_ok and outcome.state is not None and self.key(outcome.state) == want:
                return t, params, outcome
        raise AssertionError("symmetry: no step between two states of a permuted run")


def _names(reads: tuple[str, ...] | None) -> frozenset[str] | None:
    return None if reads is None else frozenset(reads)
