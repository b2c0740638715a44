"""The state machine of a process, read off the model's semantics (for `tcpspec graph`).

The control state is the process's enum variable (`state` if it has several). An edge S -> S'
labelled `t` exists when transition t can fire from some state with `state == S` and end with
`state == S'`: asked of the solver on one step of the transition system, so the edges are those
of the guards as written (however they are phrased), not of a syntactic pattern. The pre-state
is not required to be reachable: like the RFC's diagram, the graph shows what each rule allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

from tcpspec.checker import ir
from tcpspec.core.diagnostics import UsageError
from tcpspec.core.types import EnumType


@dataclass
class StateMachine:
    process: str
    instance: str
    variable: str
    states: list[str]
    initial: str | None
    edges: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (from, to) -> transitions
    loops: dict[str, list[str]] = field(default_factory=dict)  # state -> transitions that keep it


def _instance_for(model: ir.Model, process: str | None) -> ir.Instance:
    if process is None:
        return model.instances[0] if model.instances else _no_process(model, None)
    for inst in model.instances:
        if inst.process == process or inst.name == process:
            return inst
    return _no_process(model, process)


def _no_process(model: ir.Model, process: str | None) -> ir.Instance:
    known = ", ".join(sorted({i.process for i in model.instances})) or "none"
    what = f"no process or instance named '{process}'" if process is not None else "no process instances"
    raise UsageError(f"{model.path}: {what} (processes: {known})")


def extract(model: ir.Model, process: str | None = None, timeout_ms: int = 5000) -> StateMachine:
    from tcpspec.engines.common import decode_state
    from tcpspec.encoding.theories import choose_theory
    from tcpspec.encoding.transition_system import TransitionSystem

    inst = _instance_for(model, process)
    enums = [v for v in model.state_vars if v.instance == inst.name and isinstance(v.type, EnumType)]
    if not enums:
        raise UsageError(f"{model.path}: process {inst.process} has no enum variable to draw as its state")
    var = next((v for v in enums if v.local == "state"), enums[0])
    assert isinstance(var.type, EnumType)
    members = list(var.type.members)
    init = model.init.get(var.name)
    initial = str(init.value) if isinstance(init, ir.Lit) else None
    sm = StateMachine(inst.process, inst.name, var.local, members, initial)
    ts = TransitionSystem(model, choose_theory(model, "auto"))
    step = ts.step_at(0)
    solver = ts.th.solver()
    solver.set("timeout", timeout_ms)
    solver.add(ts.well_formed(0), step.trans)
    pre, post = ts.state_at(0)[var.name], ts.state_at(1)[var.name]
    for i, t in enumerate(ts.transitions):
        if not isinstance(t, ir.Transition) or t.instance != inst.name:
            continue
        for s in members:
            solver.push()
            try:
                solver.add(ts.fires(step.act, i), pre == ts.th.constant(s, var.type))  # type: ignore[arg-type]
                while solver.check() == z3.sat:
                    after = str(decode_state(solver.model(), ts, 1)[var.name])
                    target = sm.loops.setdefault(s, []) if after == s else sm.edges.setdefault((s, after), [])
                    target.append(t.local)
                    solver.add(post != ts.th.constant(after, var.type))  # type: ignore[arg-type]
            finally:
                solver.pop()
    return sm


def to_dot(sm: StateMachine, self_loops: bool = False) -> str:
    """Graphviz DOT: states top to bottom in declaration order, edges labelled with transitions."""
    lines = [
        f'digraph "{sm.process}" {{',
        f'  label="{sm.process}: {sm.variable} (instance {sm.instance})"; labelloc=t; fontname="Helvetica";',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for s in sm.states:
        extra = ', penwidth=2.5, fillcolor="#d6f5d6"' if s == sm.initial else ""
        lines.append(f'  "{s}" [label="{s.replace("_", "-")}"{extra}];')
    for (a, b), names in sm.edges.items():
        lines.append(f'  "{a}" -> "{b}" [label="{_label(names)}"];')
    if self_loops:
        for s, names in sm.loops.items():
            lines.append(f'  "{s}" -> "{s}" [label="{_label(names)}", style=dashed, color="#888888"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _label(names: list[str]) -> str:
    return "\\n".join(dict.fromkeys(names))
