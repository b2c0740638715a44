"""The explicit search's plan: which values each free input takes, and what data independence
covers, decided before a search starts.

A free value (an initial value without an init, a `choose` parameter, an injected field) takes
every value of its type when the type is small, else a sample or what `--values` gives; a
sequence space that data independence covers (engines/seqspace.py) starts from ISN 0 alone.
Whether anything was sampled decides what the search's silence may claim (engines/explicit.py:
`proved` only when nothing was), and the report names what was sampled; so the plan is a value
of its own, made here and read by the search, its certificate and its report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tcpspec.checker import ir
from tcpspec.core.diagnostics import UsageError
from tcpspec.engines import seqspace
from tcpspec.interp.evaluate import Env, eval_expr
from tcpspec.interp.semantics import fits_type
from tcpspec.interp.values import MAX_SUBSETS, Domain, State, all_values, cardinality, copy_state
from tcpspec.core.types import BitVecType, IntType, MapType, RecordType, SetType, Type, Value, composite_parts

MAX_BITS, MAX_RANGE = 4, 256  # what counts as small: every value is searched (interp.Domain's limits)


@dataclass
class Plan:
    """What one search runs on: the searched model, its initial states and domain, what was
    sampled (for the report) and which sequence spaces data independence covers."""

    searched: ir.Model
    initial: list[State]
    domain: Domain
    sampled: dict[str, list[Value]]  # free value -> the values searched, when not all of them
    independence: seqspace.Independence
    reads: list[str] = field(default_factory=list)  # opaque values earlier searches read (restarts)
    symmetry: str = ""  # the report's line: "rm, to_rm (3! = 6 permutations)" or "none (why)"

    @property
    def exhaustive(self) -> bool:
        return not self.sampled


def free_inputs(model: ir.Model) -> dict[str, Type]:
    """Every free value by the name `--values` knows it: variables without an initial value,
    `choose` parameters (`client.send_data.n`), injected fields (`c2s.injection.seq`)."""
    out: dict[str, Type] = {v.name: v.type for v in model.state_vars if v.name not in model.init}
    for t in model.transitions:
        if isinstance(t, ir.NetworkTransition) and t.kind != "injection":
            continue  # positions: enumerated from the channel
        for name, pt in t.params:
            out[f"{t.name}.{name}"] = pt
    return out


def resolve_values(model: ir.Model, given: Mapping[str, Sequence[Value]]) -> dict[str, list[Value]]:
    """`--values NAME=...`: NAME is a free value's full name or its last parts (`iss` for
    every instance's `iss`, `send_data.n`); each value must be of its type."""
    free = free_inputs(model)
    out: dict[str, list[Value]] = {}
    for name, values in given.items():
        hits = [k for k in free if k == name or k.endswith("." + name)]
        if not hits:
            known = ", ".join(free) or "none"
            raise UsageError(f"--values {name}: no free value of that name (free values: {known})")
        for k in hits:
            for v in values:
                if not fits_type(free[k], v) or isinstance(free[k], RecordType):
                    raise UsageError(f"--values {name}: {v} is not a value of {k}'s type {free[k]}")
            out[k] = list(values)
    return out


def _small(t: Type) -> bool:
    if isinstance(t, BitVecType):
        return t.width <= MAX_BITS
    if isinstance(t, IntType):
        return t.bounded and cardinality(t) <= MAX_RANGE
    if isinstance(t, RecordType):
        return all(_small(ft) for _, ft in t.fields)
    if isinstance(t, (MapType, SetType)):  # every value of every key, if there are few in all
        return all(_small(pt) for _, pt in composite_parts(t) or []) and cardinality(t) <= MAX_SUBSETS
    return True


def edge_sample(t: Type) -> list[Value]:
    """The values searched for a large type: the smallest and the one next to the wrap-around."""
    if isinstance(t, BitVecType):
        return [0, t.modulus - 1]
    if isinstance(t, IntType) and t.lo is not None and t.hi is not None:
        return list[Value](sorted({t.lo, t.hi}))
    raise UsageError(f"a value of type {t} cannot be searched: give its values with --values")


def _choices(key: str, t: Type, given: dict[str, list[Value]], sampled: dict[str, list[Value]]) -> list[Value]:
    if key in given:
        vals = given[key]
        if len({repr(v) for v in vals}) < cardinality(t):
            sampled[key] = vals
        return vals
    if isinstance(t, RecordType):
        per = {name: _choices(f"{key}.{name}", ft, given, sampled) for name, ft in t.fields}
        import itertools

        return [dict(zip(per, combo)) for combo in itertools.product(*per.values())]
    if _small(t):
        return all_values(t)
    if isinstance(t, (MapType, SetType)):  # too many maps or sets to try: the interpreter's sample
        sampled[key] = Domain(max_bits=MAX_BITS, max_range=MAX_RANGE).choices(key, t)[0]
        return sampled[key]
    sampled[key] = edge_sample(t)
    return sampled[key]


def plan(model: ir.Model, given: dict[str, list[Value]], prefer: Sequence[str] = (), avoid: Sequence[str] = (),
         opaque_constants: bool = True) -> Plan:
    """The domain of every free value, with data independence where it applies."""
    free = free_inputs(model)

    def enumerated(key: seqspace.Key) -> bool:  # a free input the search enumerates in full
        name = ".".join(key[1:])
        t = free.get(name)
        if t is None:  # an injected field: its parameter is named after the field
            return False
        if name in given:
            return len({repr(v) for v in given[name]}) >= cardinality(t)
        return _small(t)

    ind = seqspace.analyse(model, enumerated, avoid=list(avoid) + list(given), prefer=prefer,
                           opaque_constants=opaque_constants)
    sampled: dict[str, list[Value]] = {}
    values: dict[str, list[Value]] = {}
    for key, t in free.items():
        start = ind.start_value(key)
        if key in model.init or ind.covers(key):
            continue
        if start is not None:  # a space searched from ISN 0 whose inputs are sampled: a sample too
            sampled[key] = [start]  # type: ignore[list-item]
            continue
        values[key] = _choices(key, t, given, sampled)
    domain = Domain(values=values, max_bits=MAX_BITS, max_range=MAX_RANGE)
    return Plan(ind.model, _initial_states(ind.model, ind, values), domain, sampled, ind)


def _initial_states(searched: ir.Model, ind: seqspace.Independence, values: dict[str, list[Value]]) -> list[State]:
    """As `interp.initial_states`, with the covered sequence numbers at 0 (or opaque)."""
    partial: list[State] = [{}]
    channels: State = {ch.name: [] for ch in searched.channels}
    for var in searched.state_vars:
        init = searched.init.get(var.name)
        grown: list[State] = []
        for st in partial:
            start = ind.start_value(var.name)
            if init is not None:
                options = [eval_expr(init, Env(pre={**st, **channels}))]
            elif start is not None:
                options = [start]  # type: ignore[list-item]
            else:
                options = values[var.name]
            grown.extend({**st, var.name: v} for v in options if fits_type(var.type, v))
        partial = grown
    return [{**st, **copy_state(channels)} for st in partial]
