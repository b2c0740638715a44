"""Traces as Apalache's Informal Trace Format (ITF), the way Quint writes it.

ITF lets other tools (Quint's trace viewer, the `itf` Rust crate, MBT harnesses) read our
counterexamples, and lets `replay` read them back. Spec:
https://apalache-mc.org/docs/adr/015adr-trace.html

Encoding: bool -> JSON bool; every integer (ranges, bvN, seqN) -> {"#bigint": "<decimal>"};
enum member -> JSON string; record -> JSON object; channel contents -> JSON list, head first;
map -> {"#map": [[key, value], ...]}; set -> {"#set": [element, ...]} (as Apalache and Quint
write them).
Each state also carries `mbt::actionTaken` (transition name, "init" for state 0) and
`mbt::nondetPicks` ({param: {"tag": "Some", "value": v}}, the taken transition's params only).
"""

from __future__ import annotations

import re

from typing import TYPE_CHECKING, Any

from tcpspec.core.diagnostics import UsageError
from tcpspec.core.trace import Trace, TraceStep, changed_keys
from tcpspec.core.types import MapValue, Value, values_in_range

if TYPE_CHECKING:
    from tcpspec.checker import ir
    from tcpspec.core.results import PropertyResult

Json = Any
StateValue = Value | list[Value]

FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"
ACTION_TAKEN = "mbt::actionTaken"
NONDET_PICKS = "mbt::nondetPicks"
INIT_ACTION = "init"


# ---------------------------------------------------------------- values


def encode_value(v: StateValue) -> Json:
    """One model value as ITF JSON. bool is tested before int: in Python a bool is an int."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return {"#bigint": str(v)}
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return [encode_value(x) for x in v]
    if isinstance(v, dict):
        return {k: encode_value(x) for k, x in v.items()}
    if isinstance(v, MapValue):
        return {"#map": [[encode_value(k), encode_value(x)] for k, x in v.items]}
    if isinstance(v, frozenset):
        return {"#set": [encode_value(x) for x in sorted(v, key=lambda x: (isinstance(x, str), x))]}
    raise TypeError(f"cannot encode {type(v).__name__} as ITF")


def decode_value(j: Json, where: str) -> StateValue:
    """ITF JSON back to a model value; `where` names the spot for error messages."""
    if isinstance(j, bool) or isinstance(j, str):
        return j
    if isinstance(j, int):  # plain JSON numbers are legal ITF too
        return j
    if isinstance(j, list):
        items = [decode_value(x, f"{where}[{i}]") for i, x in enumerate(j)]
        if any(isinstance(x, list) for x in items):
            raise UsageError(f"ITF: {where}: nested lists are not model values")
        return items  # type: ignore[return-value]
    if isinstance(j, dict):
        if "#bigint" in j:
            text = j["#bigint"]
            if isinstance(text, str) and len(text) <= 100 and re.fullmatch(r"-?[0-9]+", text):  # ASCII digits
                return int(text)
            shown = repr(text) if len(repr(text)) <= 40 else repr(text)[:37] + "..."
            raise UsageError(f"ITF: {where}: bad #bigint {shown} (a decimal number of at most 100 digits)")
        if "#map" in j:
            return _decode_map(j["#map"], where)
        if "#set" in j:
            return _decode_set(j["#set"], where)
        special = [k for k in j if k.startswith("#")]
        if special:
            raise UsageError(f"ITF: {where}: {special[0]} values are not supported")
        rec: dict[str, Value] = {}
        for k, x in j.items():
            fv = decode_value(x, f"{where}.{k}")
            if isinstance(fv, list):
                raise UsageError(f"ITF: {where}.{k}: a record field cannot be a list")
            rec[k] = fv
        return rec
    raise UsageError(f"ITF: {where}: unexpected JSON value {j!r}")


def _decode_map(pairs: Json, where: str) -> MapValue:
    if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise UsageError(f"ITF: {where}: #map must be a list of [key, value] pairs")
    items = [(decode_value(k, f"{where}.#map[{i}][0]"), decode_value(v, f"{where}.#map[{i}][1]"))
             for i, (k, v) in enumerate(pairs)]
    for k, v in items:
        if isinstance(k, (list, dict, MapValue, frozenset)) or isinstance(v, list):
            raise UsageError(f"ITF: {where}: a map's keys are scalars and its values model values")
    return MapValue(tuple(items))  # type: ignore[arg-type]


def _decode_set(elems: Json, where: str) -> frozenset:  # type: ignore[type-arg]
    if not isinstance(elems, list):
        raise UsageError(f"ITF: {where}: #set must be a list")
    out = [decode_value(x, f"{where}.#set[{i}]") for i, x in enumerate(elems)]
    if any(isinstance(x, (list, dict, MapValue, frozenset)) for x in out):
        raise UsageError(f"ITF: {where}: a set's elements are scalars")
    return frozenset(out)  # type: ignore[arg-type]


# ---------------------------------------------------------------- trace -> ITF


def state_vars_of(trace: Trace, model: ir.Model | None) -> list[str]:
    """Model order (state variables, then channels) when we have the model, then any other key
    of the trace's states: a trace never loses a value to a naming mismatch."""
    in_trace = list(trace.steps[0].state) if trace.steps else []
    if model is None:
        return in_trace
    ordered = [v.name for v in model.state_vars] + [c.name for c in model.channels]
    return [n for n in ordered if n in in_trace] + [n for n in in_trace if n not in ordered]


def step_to_itf(step: TraceStep, names: list[str]) -> dict[str, Json]:
    state: dict[str, Json] = {"#meta": {"index": step.index}}
    for name in names:
        state[name] = encode_value(step.state[name])
    state[ACTION_TAKEN] = step.transition if step.transition is not None else INIT_ACTION
    state[NONDET_PICKS] = {
        p: {"tag": "Some", "value": encode_value(v)} for p, v in step.params.items()
    }
    return state


def trace_to_itf(
    trace: Trace,
    *,
    source: str,
    prop: str,
    verdict: str,
    model: ir.Model | None = None,
    description: str = "",
) -> dict[str, Json]:
    """The ITF document of one trace; `#meta` says which model and property it is about."""
    names = state_vars_of(trace, model)
    doc: dict[str, Json] = {
        "#meta": {
            "format": "ITF",
            "format-description": FORMAT_DESCRIPTION,
            "source": source,
            "description": description or f"{verdict} {prop}: trace by tcpspec",
            "property": prop,
            "verdict": verdict,
        },
        "vars": names,
        "states": [step_to_itf(s, names) for s in trace.steps],
    }
    if trace.loop is not None:
        doc["loop"] = trace.loop
    return doc


def result_to_itf(result: PropertyResult, source: str, model: ir.Model | None = None) -> dict[str, Json] | None:
    """The ITF of a result's trace (None without one), described as a counterexample or witness."""
    if result.trace is None:
        return None
    what = "witness" if result.kind == "reachable" else "counterexample"
    verdict = result.verdict.value
    desc = f"{what} for {result.kind} {result.property} ({verdict}), found by tcpspec {result.engine}"
    return trace_to_itf(
        result.trace, source=source, prop=result.property, verdict=verdict, model=model, description=desc
    )


# ---------------------------------------------------------------- ITF -> trace


def itf_to_trace(doc: Json, model: ir.Model | None = None) -> Trace:
    """Read an ITF document back (for `replay`). With `model`, check names and value ranges and
    recover each step's received and sent messages from the channel contents."""
    if not isinstance(doc, dict) or not isinstance(doc.get("states"), list):
        raise UsageError("ITF: not a trace (no 'states' list)")
    names = doc.get("vars")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise UsageError("ITF: 'vars' must be a list of names")
    names = [n for n in names if not n.startswith("mbt::")]
    if model is not None:
        _check_vars(names, model)
    steps = [_itf_to_step(i, s, names) for i, s in enumerate(doc["states"])]
    for prev, step in zip(steps, steps[1:]):
        step.changed = changed_keys(prev.state, step.state)
        if model is not None:
            _check_step(step, model)
            _recover_messages(prev, step, model)
    if steps and model is not None:
        _check_step(steps[0], model)
    loop = doc.get("loop")
    if loop is not None and (not isinstance(loop, int) or not 0 <= loop < len(steps)):
        raise UsageError(f"ITF: bad loop index {loop!r}")
    return Trace(steps=steps, loop=loop)


def _itf_to_step(i: int, s: Json, names: list[str]) -> TraceStep:
    if not isinstance(s, dict):
        raise UsageError(f"ITF: states[{i}] is not an object")
    missing = [n for n in names if n not in s]
    if missing:
        raise UsageError(f"ITF: states[{i}] has no value for '{missing[0]}'")
    state = {n: decode_value(s[n], f"states[{i}].{n}") for n in names}
    action = s.get(ACTION_TAKEN)
    transition = None if action in (None, INIT_ACTION) and i == 0 else action
    if transition is not None and not isinstance(transition, str):
        raise UsageError(f"ITF: states[{i}].{ACTION_TAKEN} is not a string")
    return TraceStep(index=i, state=state, transition=transition, params=_decode_picks(i, s.get(NONDET_PICKS)))


def _decode_picks(i: int, picks: Json) -> dict[str, Value]:
    """Quint's Option encoding: `Some` carries the picked value, `None` means not picked here."""
    if picks is None:
        return {}
    if not isinstance(picks, dict):
        raise UsageError(f"ITF: states[{i}].{NONDET_PICKS} is not an object")
    params: dict[str, Value] = {}
    for name, opt in picks.items():
        where = f"states[{i}].{NONDET_PICKS}.{name}"
        if isinstance(opt, dict) and opt.get("tag") == "None":
            continue
        raw = opt["value"] if isinstance(opt, dict) and opt.get("tag") == "Some" else opt
        v = decode_value(raw, where)
        if isinstance(v, list):
            raise UsageError(f"ITF: {where}: a parameter cannot be a list")
        params[name] = v
    return params


def _check_vars(names: list[str], model: ir.Model) -> None:
    known = [v.name for v in model.state_vars] + [c.name for c in model.channels]
    for n in names:
        if n not in known:
            raise UsageError(f"ITF: '{n}' is not a state variable or channel of {model.path}")
    for n in known:
        if n not in names:
            raise UsageError(f"ITF: the trace has no '{n}' (a variable of {model.path})")


def _check_step(step: TraceStep, model: ir.Model) -> None:
    where = f"states[{step.index}]"
    for v in model.state_vars:
        val = step.state[v.name]
        if isinstance(val, list) or not values_in_range(v.type, val):
            raise UsageError(f"ITF: {where}.{v.name}: {val!r} is not a value of {v.type}")
    for c in model.channels:
        msgs = step.state[c.name]
        if not isinstance(msgs, list) or not all(values_in_range(c.message, m) for m in msgs):
            raise UsageError(f"ITF: {where}.{c.name}: not a list of {c.message} messages")
    if step.transition is not None:
        try:
            model.transition(step.transition)
        except KeyError:
            raise UsageError(f"ITF: {where}: no transition '{step.transition}' in {model.path}") from None


def _recover_messages(prev: TraceStep, step: TraceStep, model: ir.Model) -> None:
    """FIFO semantics make messages recoverable: the received one was the head, a sent one
    is the new tail (at most one send per channel per step)."""
    from tcpspec.checker import ir as _ir

    if step.transition is None:
        return
    t = model.transition(step.transition)
    if not isinstance(t, _ir.Transition):
        return
    base: dict[str, list[Value]] = {c.name: list(prev.state[c.name]) for c in model.channels}  # type: ignore[arg-type]
    if t.receive is not None:
        ch = t.receive[1].name
        if base[ch]:
            step.received = [(ch, base[ch][0])]
            base[ch] = base[ch][1:]
    for ch in _sent_channels(t.body):
        after = step.state[ch]
        assert isinstance(after, list)
        if len(after) == len(base[ch]) + 1 and after[:-1] == base[ch]:
            step.sent.append((ch, after[-1]))


def _sent_channels(body: tuple[Any, ...]) -> list[str]:
    from tcpspec.checker import ir as _ir

    out: list[str] = []
    for st in body:
        if isinstance(st, _ir.Send) and st.channel.name not in out:
            out.append(st.channel.name)
        elif isinstance(st, _ir.If):
            out.extend(c for c in _sent_channels(st.then + st.else_) if c not in out)
    return out
