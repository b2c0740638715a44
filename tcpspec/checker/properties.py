"""Properties and final-state predicates: invariants, lemmas, reachability, step properties with
their `on` events, liveness and temporal formulas, checked in the scope they are written in.

The same declarations are checked at top level (over every instance) and inside a process (once
per instance), so they are read here, apart from both the model's check and the process's.
"""

from __future__ import annotations

from dataclasses import replace

from tcpspec.frontend import ast

from tcpspec.checker import ir
from tcpspec.checker.expr import ExprChecker
from tcpspec.checker.scope import Reporter, Scope
from tcpspec.checker.temporal import TemporalChecker
from tcpspec.core.diagnostics import Span
from tcpspec.core.types import BOOL

RANGE_OK = "range_ok"


def check_property(rep: Reporter, decl: ast.Property, scope: Scope, inst: str | None) -> ir.Property | None:
    """A property over one instance (`inst`) or, at top level, over all of them."""
    if decl.name == RANGE_OK:
        rep.error(decl.span, f"'{RANGE_OK}' is reserved for the built-in range property")
        return None
    name = f"{inst}.{decl.name}" if inst else decl.name
    if isinstance(decl, ast.StepProperty):
        return _step_property(rep, decl, scope, name, inst)
    ec = ExprChecker(rep, scope)
    if isinstance(decl, ast.Invariant):
        word = "lemma" if decl.lemma else "invariant"
        kind = ir.PropertyKind.LEMMA if decl.lemma else ir.PropertyKind.INVARIANT
        expr = ec.check_bool(decl.expr, f"{word} '{decl.name}'")
    elif isinstance(decl, ast.Reachable):
        kind, expr = ir.PropertyKind.REACHABLE, ec.check_bool(decl.expr, f"reachable '{decl.name}'")
    elif isinstance(decl, ast.Eventually):
        kind, expr = ir.PropertyKind.EVENTUALLY, ec.check_bool(decl.expr, f"eventually '{decl.name}'")
    elif isinstance(decl, ast.LeadsTo):
        pre = ec.check_bool(decl.pre, f"the left side of leads_to '{decl.name}'")
        post = ec.check_bool(decl.post, f"the right side of leads_to '{decl.name}'")
        if pre is None or post is None:
            return None
        return ir.Property(name, ir.PropertyKind.LEADS_TO, post, decl.span, decl.doc, instance=inst, when=pre)
    elif isinstance(decl, ast.Temporal):
        formula = TemporalChecker(ec, decl).check()
        if formula is None:
            return None
        return ir.Property(name, ir.PropertyKind.TEMPORAL, ir.Lit(True, BOOL, decl.span), decl.span, decl.doc,
                           instance=inst, formula=formula)
    else:
        rep.error(getattr(decl, "span", None), "not a property")
        return None
    if expr is None:
        return None
    return ir.Property(name, kind, expr, decl.span, decl.doc, instance=inst)


def check_final(rep: Reporter, decl: ast.Final, scope: Scope, inst: str | None) -> ir.Final | None:
    """A final-state predicate over one instance (`inst`) or, at top level, over all."""
    expr = ExprChecker(rep, scope).check_bool(decl.expr, f"final '{decl.name}'")
    if expr is None:
        return None
    return ir.Final(f"{inst}.{decl.name}" if inst else decl.name, expr, decl.span, inst)


def _step_property(rep: Reporter, decl: ast.StepProperty, scope: Scope, name: str,
                   inst: str | None) -> ir.Property | None:
    sscope = replace(scope, params={}, msgs={}, broken=set(scope.broken), primes=True)
    events = _step_events(rep, decl, scope, sscope)
    ec = ExprChecker(rep, sscope)
    when = ec.check_bool(decl.when, "the 'when' condition") if decl.when is not None else None
    ensure = ec.check_bool(decl.ensure, "the 'ensure' condition")
    if events is None or ensure is None or (decl.when is not None and when is None):
        return None
    return ir.Property(name, ir.PropertyKind.STEP, ensure, decl.span, decl.doc,
                       instance=inst, events=events, when=when)


def _step_events(rep: Reporter, decl: ast.StepProperty, scope: Scope,
                 sscope: Scope) -> tuple[ir.StepEvent, ...] | None:
    """The `on` list: channels resolved, messages bound; None when any event is wrong."""
    events: list[ir.StepEvent] = []
    bound: dict[str, Span] = {}
    used: dict[tuple[str, str], Span] = {}
    ok = True
    for ev in decl.events:
        kind = "receive" if isinstance(ev, ast.Receive) else "send"
        problem = _event_problem(ev, kind, scope, bound, used)
        ref = ExprChecker(rep, sscope).chan_ref(ev.channel, ev.index, ev.span, dynamic=False)
        chan = None if ref is None else ref.single
        if problem is not None:
            rep.error(ev.span, *problem)
        if chan is not None and (kind, chan.name) in used and problem is None:
            rep.error(ev.span, f"two {kind} events on channel '{ev.channel}'", f"first at {used[(kind, chan.name)]}")
            problem = ("",)
        bound.setdefault(ev.binding, ev.span)
        if chan is None or problem is not None:
            sscope.broken.add(ev.binding)
            ok = False
            continue
        used[(kind, chan.name)] = ev.span
        sscope.msgs[ev.binding] = chan.message
        events.append(ir.StepEvent(kind, ev.binding, chan))
    return tuple(events) if ok else None


def _event_problem(ev: ast.Receive | ast.SendEvent, kind: str, scope: Scope, bound: dict[str, Span],
                   used: dict[tuple[str, str], Span]) -> tuple[str, ...] | None:
    """Why an event's binding is unusable (message, notes), or None."""
    if kind == "receive" and any(k == "receive" for k, _ in used):
        first = next(s for (k, _), s in used.items() if k == "receive")
        return ("a step property can name at most one receive event", f"first receive at {first}")
    if ev.binding in bound:
        return (f"message name '{ev.binding}' is bound twice", f"first bound at {bound[ev.binding]}")
    if ev.binding in scope.local_names():
        return (f"message name '{ev.binding}' shadows a name of the process",)
    if scope.top_level and ev.binding in scope.env.instance_vars:
        return (f"message name '{ev.binding}' shadows instance '{ev.binding}'",)
    return None
