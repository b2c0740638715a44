"""`fair` declarations resolved to the transitions they name, once every transition exists.

A target may be a transition, a channel (its receiving transitions), an instance or a family of
either, so fairness can only be read after processes and the network are instantiated: the last
step of the model's check, kept apart from the declarations it reads.
"""

from __future__ import annotations

from tcpspec.frontend import ast

from tcpspec.checker import ir
from tcpspec.checker.expr import ExprChecker
from tcpspec.checker.scope import Env, Reporter, Scope


def resolve_fairness(rep: Reporter, decls: list[ast.FairDecl], transitions: list[ir.AnyTransition],
                     declared: dict[str, str], env: Env) -> dict[str, str]:
    """`fair` declarations -> {transition name: weak | strong}; strong wins over weak.

    A target is a transition (`client.timeout`, `c2s.loss`), a channel (every process
    transition that receives from it: the channel delivers), or an instance (all its
    transitions). A family stands for each of its members (`fair rm.vote;` is every member's
    `vote`), `rm[0]` for one. A fault switched off by its constant (`-D LOSS=false`) is accepted
    and ignored.
    """
    out = dict(declared)
    for decl in decls:
        for target in decl.targets:
            names = _fair_names(rep, target, env)
            if names is None:
                continue
            hits = [t for name in names for t in _fair_hits(name, transitions, env)]
            if not hits and not all(_switched_off_fault(name, env) for name in names):
                rep.error(target.span, f"'{target.text}' is not a transition, channel or instance",
                          "fair takes transitions (client.timeout, c2s.loss), channels (their "
                          "receiving transitions) or instances (all their transitions)")
                continue
            for t in hits:
                if out.get(t.name) != "strong":
                    out[t.name] = decl.strength
    return out


def _fair_names(rep: Reporter, target: ast.FairTarget, env: Env) -> list[str] | None:
    """The qualified names a target stands for: a family's members, or one member."""
    bases = [target.base]
    fam = env.families.get(target.base) or env.chan_families.get(target.base)
    if target.index is not None:
        index = ExprChecker(rep, Scope(env)).const_int(target.index, "a family index")
        if index is None:
            return None
        if fam is None or not fam.lo <= index <= fam.hi:
            what = "not a family" if fam is None else f"members {fam.lo}..{fam.hi}"
            rep.error(target.span, f"'{target.base}[{index}]': '{target.base}' has {what}")
            return None
        bases = [f"{target.base}[{index}]"]
    elif fam is not None:
        bases = [f"{target.base}[{i}]" for i in range(fam.lo, fam.hi + 1)]
    return [b + (f".{target.member}" if target.member else "") for b in bases]


def _fair_hits(target: str, transitions: list[ir.AnyTransition], env: Env) -> list[ir.AnyTransition]:
    by_name = [t for t in transitions if t.name == target or t.name.startswith(target + "[")]
    if by_name:
        return by_name
    if target in env.channels:
        return [t for t in transitions if isinstance(t, ir.Transition) and t.receive is not None
                and t.receive[1].name == target]
    return [t for t in transitions if isinstance(t, ir.Transition) and t.instance == target]


def _switched_off_fault(target: str, env: Env) -> bool:
    chan, _, fault = target.rpartition(".")
    return chan in env.channels and fault in ir.FAULT_KINDS
