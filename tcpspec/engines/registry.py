"""Every engine under its name, called the same way: `engine(name).run(model, props, call)`.

The pipeline, the CLI's `--engine` choices and help, the project configuration and the public
API all read this table, so an engine exists for all of them once it is registered here. An
engine is a function

    def run(model: ir.Model, props: list[ir.Property], call: EngineCall) -> list[PropertyResult]

(`EngineCall`: engines/contract.py, below every engine, so that no engine imports this table)
that answers for exactly `props` (one result each, any order), within `call.options.depth`
steps where it is bounded and within `call.budget` (the run's `--timeout`, per property). It
raises `ModelError`/`UsageError` for what the user must fix and returns `unknown` results for
what it could not decide; it prints nothing. What it reports is checked like any engine's:
counterexamples replayed on the interpreter, proofs with a re-checked certificate.

To add one, register it at the end of this file, by "module:function" so that neither
`tcpspec --help` nor `import tcpspec` imports it before it is used (as "explicit" is).

Only this module names the engines; nothing else has an if/elif over them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tcpspec.core.diagnostics import UsageError
from tcpspec.engines.contract import EngineCall, EngineRun

if TYPE_CHECKING:
    from tcpspec.checker import ir
    from tcpspec.core.results import PropertyResult


@dataclass(frozen=True)
class Engine:
    """A registered engine. `target` is the function, or "module:function" imported on first use.
    `certificate`: its proofs come with a certificate (`check --certificate FILE` writes it).
    `independent`: it checks each property on its own, so the gate may give each property its
    own job (BMC); otherwise a model's properties stay in one job (one proof proves them all).
    `deadlock`: it decides `deadlock_free` itself (else BMC does, beside it). `cached_witnesses`:
    reachability targets the proof cache has a replayed witness for are not asked of it."""

    name: str
    help: str
    target: str | EngineRun
    certificate: bool = False
    independent: bool = False
    deadlock: bool = False
    cached_witnesses: bool = True

    def run(self, model: ir.Model, props: list[ir.Property], call: EngineCall) -> list[PropertyResult]:
        fn = self.target
        if isinstance(fn, str):
            module, _, attr = fn.partition(":")
            fn = getattr(importlib.import_module(module), attr)
        results = fn(model, props, call)
        # A Ctrl-C that Python dropped in a finalizer, and that no query came to raise, still
        # ends the run, with what the engine found (solving/interrupts.py).
        from tcpspec.solving import interrupts  # here: importing the table loads no solver

        try:
            interrupts.raise_if_pending()
        except KeyboardInterrupt:
            from tcpspec.core.results import RunInterrupted

            raise RunInterrupted(results) from None
        return results


_ENGINES: dict[str, Engine] = {}


def register(name: str, target: str | EngineRun, *, help: str, certificate: bool = False,
             independent: bool = False, deadlock: bool = False, cached_witnesses: bool = True,
             replace: bool = False) -> Engine:
    """Add an engine under `name` (a word the command line accepts). A name already taken is
    an error unless `replace`: two engines under one name would make a run's meaning depend on
    the order of imports."""
    if not name.isidentifier() or name != name.lower():
        raise ValueError(f"engine name '{name}': use a lowercase word, as `--engine NAME` takes it")
    if name in _ENGINES and not replace:
        raise ValueError(f"an engine named '{name}' is registered already")
    _ENGINES[name] = Engine(name, help, target, certificate, independent, deadlock, cached_witnesses)
    return _ENGINES[name]


def engine(name: str) -> Engine:
    """The engine called `name`; a name nobody registered is the user's error."""
    try:
        return _ENGINES[name]
    except KeyError:
        raise UsageError(f"unknown engine '{name}' (engines: {', '.join(names())})") from None


def names() -> tuple[str, ...]:
    """The registered names, in the order of registration (the order `--help` lists them)."""
    return tuple(_ENGINES)


def describe() -> str:
    """One line per engine, for `--help`."""
    return "\n".join(f"  {e.name:<8} {e.help}" for e in _ENGINES.values())


# ---------------------------------------------------------------- the built-in engines
# Each adapts an engine module's own signature to the contract; the module is imported only
# when the engine runs.


def _bmc(model: ir.Model, props: list[ir.Property], call: EngineCall) -> list[PropertyResult]:
    from tcpspec.engines.bmc import run_bmc

    tell = None if call.on_progress is None else (lambda k, n: call.progress(f"BMC depth {k}, {n} open"))
    o = call.options
    return run_bmc(model, props, call.depth, call.timeout, o.theory, on_depth=tell, keep_going=o.keep_going)


def _kind(model: ir.Model, props: list[ir.Property], call: EngineCall) -> list[PropertyResult]:
    from tcpspec.engines.prover import run_kind

    o = call.options
    return run_kind(model, props, call.depth, call.timeout, o.theory, k_max=o.k_max, keep_going=o.keep_going)


def _pdr(model: ir.Model, props: list[ir.Property], call: EngineCall) -> list[PropertyResult]:
    from tcpspec.engines.pdr import run_pdr

    o = call.options
    return run_pdr(model, props, call.timeout, o.theory, depth=call.depth, keep_going=o.keep_going,
                   on_progress=call.on_progress)


def _auto(model: ir.Model, props: list[ir.Property], call: EngineCall) -> list[PropertyResult]:
    from tcpspec.engines.portfolio import run_auto

    o = call.options
    return run_auto(model, props, call.depth, call.timeout, o.theory, on_progress=call.on_progress,
                    memory_mb=o.memory_mb, keep_going=o.keep_going, symmetry=o.symmetry)


register("bmc", _bmc, independent=True, deadlock=True, help="bounded model checking to --depth steps: the shortest counterexamples and witnesses")
register("kind", _kind, certificate=True,
         help="the induction prover (Houdini over generated lemmas, then k-induction), BMC for the rest")
register("pdr", _pdr, certificate=True,
         help="IC3/PDR (Z3's Spacer); refutations and reachability targets by BMC")
register("auto", _auto, certificate=True,
         help="the explicit search first, then BMC and the prover side by side; each property's first definitive verdict")
register("explicit", "tcpspec.engines.explicit:run", certificate=True, deadlock=True, cached_witnesses=False,
         help="breadth-first search of the interpreter's states (TLC-like); exhaustive: proved")
