"""What a check is asked to do, defined once for the CLI, the project configuration, the gate's
jobs, the public API and the engines. No z3, no lark: `tcpspec --help` reads these.

The engines' names are not here: engines register themselves (engines/registry.py).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ENGINE = "auto"  # BMC and the prover side by side (engines/portfolio.py)
DEFAULT_DEPTH = 20  # the bound when neither --depth nor the model's `depth` declaration gives one
THEORIES = ("auto", "int", "bv")  # how numbers become Z3 terms (theories.py)
# The kinds a run may select (`--kind`, `kinds = [...]`); `deadlock` is asked for by --deadlock.
KINDS = ("invariant", "lemma", "step", "reachable", "eventually", "leads_to", "temporal")


@dataclass(frozen=True)
class CheckOptions:
    """What to check and how hard: `depth` is the BMC bound in transitions (exactly k steps);
    None: the model's `depth` declarations, else DEFAULT_DEPTH (`pipeline.bounds`)."""

    properties: tuple[str, ...] = ()  # empty: all; a name selects `name` and every `inst.name`
    kinds: tuple[str, ...] = ()  # empty: all; else only these kinds (invariant, step, reachable)
    depth: int | None = None
    timeout: float | None = None  # seconds per property; None: no limit
    engine: str = DEFAULT_ENGINE  # a name in the engine registry
    theory: str = "auto"  # number representation: auto | int | bv (see theories.py)
    memory_mb: int | None = None  # Z3's memory ceiling per process; past it: unknown, not a crash
    deadlock: bool = False  # also check the built-in `deadlock_free` (engines/deadlock.py)
    k_max: int = 4  # engine kind: k-induction up to this k for what 1-induction leaves (1: off)
    max_cex: int = 1  # violated properties: up to this many traces, each a different run (engines/more_cex.py)
    # False: a run ends at its first violation, like SPIN and TLC (what is open then is `unknown`,
    # results.STOPPED); True: every property is checked to the end.
    keep_going: bool = False
    # engine explicit (engines/explicit.py): --values NAME=A..B (values as ints), --max-states, --search
    values: tuple[tuple[str, tuple[int, ...]], ...] = ()
    max_states: int | None = None
    search: str = "bfs"
    symmetry: bool = True  # --no-symmetry: no reduction by a family's permutations (engines/family_symmetry.py)
