"""Solver-guided attacker steps for the explicit search (a concolic step).

An injected message's wide fields (32-bit sequence numbers) are searched from a sample (their
smallest value and the one next to the wrap-around, engines/explicit.py). The forged values an
attack needs are rarely in it: SYN-SENT accepting any SEG.ACK shows only with an
acknowledgment number past SND.NXT, which neither 0 nor 2^32-1 is when SND.NXT is 1; and each
extra sampled value multiplies the injections of every state. So instead of guessing more
values, the search asks Z3 from the concrete state it is about to expand: is there a message
whose injection, followed by at most one more step, breaks an open property? The pre-state is
fixed to the visited state's values (one conjunct per leaf, as the certificate writes a
state), so only the message's fields and the second step are unknown: a small query, asked
incrementally on one solver that holds two steps of the transition system.

Z3 only proposes values. The interpreter then takes the injection with them and every step
after it, and decides the properties, as for any other step; a trace found this way is
rebuilt and replayed like the others, and is not claimed shortest (the portfolio has BMC
confirm it, engines/portfolio.py). So nothing Z3 says here can change a verdict: a wrong
proposal only costs a query.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import z3

from tcpspec.checker import ir
from tcpspec.engines.explicit_cert import concrete_term
from tcpspec.interp.semantics import State
from tcpspec.core.types import Value

if TYPE_CHECKING:
    from tcpspec.encoding.transition_system import TransitionSystem

# A probe is one query; past this many CPU seconds (of the search's process) no more are asked.
PROBE_CPU_SECONDS = 1.5
QUERY_MS = 2000  # one query's limit: an unknown answer proposes nothing


def injections(model: ir.Model) -> list[ir.NetworkTransition]:
    return [t for t in model.transitions if isinstance(t, ir.NetworkTransition) and t.kind == "injection"]


class Prober:
    """One solver with two steps of `model` (the original model: states are given concretely)
    and the violation of any open property after the first or the second step."""

    def __init__(self, model: ir.Model, props: Sequence[ir.Property], cpu_seconds: float = PROBE_CPU_SECONDS) -> None:
        self.model = model
        self.props = [model.property(p.name) for p in props
                      if p.kind in (ir.PropertyKind.INVARIANT, ir.PropertyKind.STEP) and not p.builtin]
        self.cpu_seconds = cpu_seconds
        self.spent = 0.0
        self.queries = 0
        self._solver: z3.Solver | None = None
        self._ts: TransitionSystem | None = None
        self._bad: dict[str, z3.BoolRef] = {}

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.cpu_seconds or not self.props

    def _build(self) -> None:
        from tcpspec.encoding.theories import choose_theory
        from tcpspec.encoding.transition_system import TransitionSystem

        ts = TransitionSystem(self.model, choose_theory(self.model))
        s = ts.th.solver()
        s.set("timeout", QUERY_MS)
        s0, s1 = ts.step_at(0), ts.step_at(1)
        s.add(s0.trans, s1.trans, s0.range_ok, s1.range_ok)
        for p in self.props:
            if p.kind is ir.PropertyKind.STEP:
                bad = z3.Or(ts.step_violated(p, 0), ts.step_violated(p, 1))
            else:
                bad = z3.Or(z3.Not(ts.holds_at(p, 1)), z3.Not(ts.holds_at(p, 2)))
            self._bad[p.name] = bad
        self._ts, self._solver = ts, s

    def propose(self, state: State, open_: set[str]) -> list[tuple[str, dict[str, Value]]]:
        """Per injection (by name): a message whose injection into `state` leads to the
        violation of an open property within two steps, as Z3 sees it."""
        if self.exhausted:
            return []
        try:
            if self._solver is None:
                # Encoding the two steps, once, is not a probe and does not count against the
                # probes' budget: on a large model it would leave them none on a busy machine.
                self._build()
        except Exception:  # noqa: BLE001 - a model the encoding cannot say
            self.spent = self.cpu_seconds
            return []
        c0 = time.process_time()
        try:
            return self._propose(state, open_)
        except Exception:  # noqa: BLE001 - a state the encoding cannot say, a solver failure (memory, ...)
            self.spent = self.cpu_seconds  # no more probes: the search goes on as without them
            return []
        finally:
            self.spent += time.process_time() - c0

    def _propose(self, state: State, open_: set[str]) -> list[tuple[str, dict[str, Value]]]:
        bad = [b for name, b in self._bad.items() if name in open_]
        if not bad:
            return []
        ts, s = self._ts, self._solver
        assert ts is not None and s is not None
        out: list[tuple[str, dict[str, Value]]] = []
        s.push()
        try:
            s.add(concrete_term(self.model, ts, 0, state), z3.Or(bad))
            step = ts.step_at(0)
            for i, t in enumerate(ts.transitions):
                if not (isinstance(t, ir.NetworkTransition) and t.kind == "injection"):
                    continue
                self.queries += 1
                if s.check(ts.fires(step.act, i)) != z3.sat:
                    continue
                zm = s.model()
                out.append((t.name, {name: ts.th.decode(zm, step.params[i][name], pt) for name, pt in t.params}))
        finally:
            s.pop()
        return out

