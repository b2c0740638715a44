"""What a counterexample of exactly k steps ends with, and what its last step assumes.

BMC asks it at each depth (engines/bmc.py) and `--max-cex` asks it again for further runs
(engines/more_cex.py): one definition below both, so that the two cannot disagree on what a
violation is.
"""

from __future__ import annotations

import z3

from tcpspec.checker import ir
from tcpspec.encoding.transition_system import TransitionSystem


def bad_at(ts: TransitionSystem, prop: ir.Property, k: int) -> z3.BoolRef | None:
    """What a counterexample/witness of exactly k steps must end with (None: not at k=0)."""
    if prop.kind is ir.PropertyKind.DEADLOCK:  # --deadlock (engines/deadlock.py)
        from tcpspec.engines.deadlock import deadlocked_at

        return deadlocked_at(ts, k)
    if prop.kind is ir.PropertyKind.STEP:
        return None if k == 0 else ts.step_violated(prop, k - 1)
    holds = ts.holds_at(prop, k)
    return holds if prop.kind is ir.PropertyKind.REACHABLE else z3.Not(holds)


def range_assumption(ts: TransitionSystem, prop: ir.Property, k: int) -> list[z3.BoolRef]:
    """The last step's range check, as an assumption (none for the builtin `range_ok`, whose
    violation is that check failing); every earlier step is asserted in range."""
    if k == 0:
        return []
    ok = ts.step_at(k - 1).range_ok
    return [] if prop.builtin else [ok]
