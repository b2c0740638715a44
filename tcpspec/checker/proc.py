"""Instantiating processes: bind arguments, type variables, transitions and properties per instance.

A process is checked once per instance, with its value parameters folded to literals and its
channel parameters bound to global channels; the `Reporter` drops repeated diagnostics. A process
without instances is still checked, against placeholder arguments, and the result thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tcpspec.frontend import ast, ast_expr

from tcpspec.checker import ir
from tcpspec.checker.const import const_value
from tcpspec.checker.defs import TypeResolver, def_signature
from tcpspec.checker.expr import ExprChecker
from tcpspec.checker.properties import check_final, check_property
from tcpspec.checker.scope import ChanFamily, Env, InstFamily, Reporter, Scope, suggest
from tcpspec.checker.stmt import StmtChecker, warn_reads_after_writes
from tcpspec.checker.type_decls import family_bounds
from tcpspec.core.diagnostics import Span
from tcpspec.core.types import BOOL, IntType, MapType, RecordType, SetType, Type, default_value, is_finite, value_text, values_in_range



@dataclass
class _Signature:
    """A process's parameters, resolved once: value params and channel params by name."""

    order: list[str] = field(default_factory=list)
    spans: dict[str, Span] = field(default_factory=dict)
    values: dict[str, Type] = field(default_factory=dict)
    chans: dict[str, RecordType] = field(default_factory=dict)
    chan_families: dict[str, tuple[RecordType, int, int]] = field(default_factory=dict)  # message, lo, hi
    broken: set[str] = field(default_factory=set)


@dataclass
class _Member:
    """One instance (a singleton, or a family's member) between the two phases."""

    decl_index: int
    name: str
    proc: ast.ProcessDecl
    sig: _Signature
    scope: Scope


def value_fits(t: Type, value: object) -> bool:
    if isinstance(t, (MapType, SetType)):
        return values_in_range(t, value)  # type: ignore[arg-type]
    if isinstance(t, IntType) and t.lo is not None and t.hi is not None and isinstance(value, int):
        return t.lo <= value <= t.hi
    return True


class ProcessChecker:
    """Instantiates every instance; collects state vars, inits and transitions in order."""

    def __init__(self, rep: Reporter, env: Env, resolve: TypeResolver, placeholder: bool = False) -> None:
        self.rep = rep
        self.env = env
        self.resolve = resolve
        self.placeholder = placeholder
        self.instances: list[ir.Instance] = []
        self.state_vars: list[ir.StateVar] = []
        self.init: dict[str, ir.Expr] = {}
        self.transitions: list[ir.Transition] = []
        self.range_span: Span | None = None
        self.finals: list[ir.Final] = []
        self.fairness: dict[str, str] = {}  # `fair transition`: qualified name -> weak | strong

    # ------------------------------------------------------------ instances

    def instantiate_all(self, decls: list[ast.Decl]) -> dict[int, list[ir.Property]]:
        """Instantiate in declaration order; the properties of each instance by decl index.

        Two phases: every instance's arguments and variables first, then every instance's
        transitions and properties, which may read any instance's variables."""
        procs = {d.name: d for d in decls if isinstance(d, ast.ProcessDecl)}
        sigs = {name: self._signature(p) for name, p in procs.items()}
        used: set[str] = set()
        members: list[_Member] = []
        for index, decl in enumerate(decls):
            if not isinstance(decl, ast.InstanceDecl):
                continue
            proc = procs.get(decl.process)
            if proc is None:
                self._unknown_process(decl, set(procs))
                continue
            used.add(proc.name)
            for name, binder, self_index in self._members(decl):
                scope = self._instance(decl, name, binder, self_index, proc, sigs[proc.name])
                members.append(_Member(index, name, proc, sigs[proc.name], scope))
        out: dict[int, list[ir.Property]] = {}
        for m in members:
            out.setdefault(m.decl_index, []).extend(self._body(m.name, m.proc, m.scope))
        for name, proc in procs.items():
            if name not in used:
                self._check_alone(proc, sigs[name])
        return out

    def _members(self, decl: ast.InstanceDecl) -> list[tuple[str, dict[str, ir.Lit], ir.Lit | None]]:
        """(instance name, the binder's value, `self`) for a singleton or each family member."""
        if decl.family is None:
            return [(decl.name, {}, None)]
        b = decl.family
        ec = ExprChecker(self.rep, Scope(self.env))
        lo, hi = ec.const_int(b.lo, "a family's lower bound"), ec.const_int(b.hi, "a family's upper bound")
        if lo is None or hi is None or hi < lo:
            if lo is not None and hi is not None:
                self.rep.error(b.span, f"empty family {lo}..{hi}: the low bound exceeds the high bound")
            self.env.broken.add(decl.name)
            return []
        if hi - lo + 1 > 1024:
            self.rep.error(b.span, f"a family of {hi - lo + 1} instances: at most 1024")
            self.env.broken.add(decl.name)
            return []
        if b.var in self.env.kinds or b.var in self.env.members:
            self.rep.error(b.span, f"'{b.var}' already names something here; choose another name for the index")
        self.env.families[decl.name] = InstFamily(decl.name, lo, hi)
        typ = IntType(lo, hi)
        return [(f"{decl.name}[{v}]", {b.var: ir.Lit(v, IntType(v, v), b.span)}, ir.Lit(v, typ, b.span))
                for v in range(lo, hi + 1)]

    def _unknown_process(self, decl: ast.InstanceDecl, procs: set[str]) -> None:
        self.env.broken.add(decl.name)
        kind = self.env.kinds.get(decl.process)
        if kind is not None:
            self.rep.error(decl.process_span, f"'{decl.process}' is a {kind}, not a process")
        else:
            hint = suggest(decl.process, procs)
            self.rep.error(decl.process_span, f"unknown process '{decl.process}'{hint}")

    def _signature(self, proc: ast.ProcessDecl) -> _Signature:
        sig = _Signature()
        for param in proc.params:
            if param.name in sig.spans:
                self.rep.error(param.span, f"parameter '{param.name}' is already defined",
                               f"first defined at {sig.spans[param.name]}")
                continue
            sig.order.append(param.name)
            sig.spans[param.name] = param.span
            typ = self._param_type(param)
            if typ is None:
                sig.broken.add(param.name)
            elif isinstance(param.type, ast_expr.ChanType) and param.type.family is not None:
                assert isinstance(typ, RecordType)
                bounds = self._family_bounds(param.type.family)
                if bounds is None:
                    sig.broken.add(param.name)
                else:
                    sig.chan_families[param.name] = (typ, *bounds)
            elif isinstance(param.type, ast_expr.ChanType):
                assert isinstance(typ, RecordType)
                sig.chans[param.name] = typ
            else:
                sig.values[param.name] = typ
        return sig

    def _family_bounds(self, fam: ast_expr.Family) -> tuple[int, int] | None:
        """A family's indices: `[N]` is 0..N-1, `[LO..HI]` as written."""
        return family_bounds(self.rep, self.env, fam)

    def _param_type(self, param: ast.Param) -> Type | None:
        if isinstance(param.type, ast_expr.ChanType):
            msg = self.resolve(param.type.message)
            if msg is not None and not isinstance(msg, RecordType):
                self.rep.error(param.type.message.span, f"a channel carries messages, not {msg}")
                return None
            return msg
        typ = self.resolve(param.type)
        if isinstance(typ, RecordType):
            self.rep.error(param.span, f"parameter '{param.name}' must be a channel or a constant "
                           f"(bool, integer range, enum), not message {typ}")
            return None
        return typ

    def _instance(self, decl: ast.InstanceDecl, name: str, binder: dict[str, ir.Lit], self_index: ir.Lit | None,
                  proc: ast.ProcessDecl, sig: _Signature) -> Scope:
        """Bind the arguments and create the variables of one instance; its scope for phase two."""
        scope = Scope(self.env, instance=name, self_index=self_index)
        scope.broken |= sig.broken
        args = Scope(self.env, values=dict(binder))
        given: dict[str, Span] = {}
        for arg in decl.args:
            if arg.name in given:
                self.rep.error(arg.span, f"argument '{arg.name}' is given twice", f"first given at {given[arg.name]}")
                continue
            given[arg.name] = arg.span
            self._bind_arg(arg, proc, sig, scope, args)
        missing = [p for p in sig.order if p not in given]
        if missing:
            names = ", ".join(f"'{m}'" for m in missing)
            self.rep.error(decl.span, f"instance '{decl.name}' is missing argument{'s' if len(missing) > 1 else ''} "
                           f"{names} of process {proc.name}")
            scope.broken |= set(missing)
        bound = [(p, chan.name) for p, chan in scope.chans.items()]
        bound += [(f"{p}[{i}]", fam.member(i).name) for p, fam in scope.chan_families.items()
                  for i in range(fam.lo, fam.hi + 1)]
        index = None if self_index is None else self_index.value
        self.instances.append(ir.Instance(name, proc.name, tuple(bound), family=decl.name if binder else "",
                                          index=index if isinstance(index, int) else None))
        self._declare_vars(name, proc, sig, scope)
        return scope

    def _bind_arg(self, arg: ast.Arg, proc: ast.ProcessDecl, sig: _Signature, scope: Scope, args: Scope) -> None:
        if arg.name in sig.chans:
            chan = self._chan_arg(arg, sig.chans[arg.name], args)
            if chan is not None:
                scope.chans[arg.name] = chan
        elif arg.name in sig.chan_families:
            fam = self._family_arg(arg, *sig.chan_families[arg.name])
            if fam is not None:
                scope.chan_families[arg.name] = fam
        elif arg.name in sig.values:
            lit = self._value_arg(arg, sig.values[arg.name], args)
            if lit is not None:
                scope.values[arg.name] = lit
        elif arg.name not in sig.broken:
            hint = suggest(arg.name, sig.order)
            self.rep.error(arg.span, f"process {proc.name} has no parameter '{arg.name}'{hint}")
            return
        if arg.name not in scope.chans and arg.name not in scope.values and arg.name not in scope.chan_families:
            scope.broken.add(arg.name)

    def _chan_arg(self, arg: ast.Arg, message: RecordType, args: Scope) -> ir.Channel | None:
        value = arg.value
        ec = ExprChecker(self.rep, args)
        if isinstance(value, ast_expr.Name) and not value.primed:
            ref = ec.chan_ref(value.name, None, value.span)
        elif isinstance(value, ast_expr.Index) and isinstance(value.base, ast_expr.Name) and not value.base.primed:
            ref = ec.chan_ref(value.base.name, value.index, value.span, dynamic=False)
        else:
            self.rep.error(value.span, f"argument '{arg.name}' must be a channel")
            return None
        chan = None if ref is None else ref.single
        if chan is not None and chan.message != message:
            self.rep.error(value.span, f"channel '{chan.name}' carries {chan.message}, "
                           f"but parameter '{arg.name}' needs {message}")
            return None
        return chan

    def _family_arg(self, arg: ast.Arg, message: RecordType, lo: int, hi: int) -> ChanFamily | None:
        value = arg.value
        fam = self.env.chan_families.get(value.name) if isinstance(value, ast_expr.Name) and not value.primed else None
        if fam is None:
            if not (isinstance(value, ast_expr.Name) and value.name in self.env.broken):
                self.rep.error(value.span, f"argument '{arg.name}' must be a family of channels "
                               f"(declared 'channel NAME[{hi - lo + 1}]: ...')")
            return None
        if fam.message != message:
            self.rep.error(value.span, f"channel family '{fam.name}' carries {fam.message}, "
                           f"but parameter '{arg.name}' needs {message}")
            return None
        if (fam.lo, fam.hi) != (lo, hi):
            self.rep.error(value.span, f"channel family '{fam.name}' has members {fam.lo}..{fam.hi}, "
                           f"but parameter '{arg.name}' needs {lo}..{hi}")
            return None
        return fam

    def _value_arg(self, arg: ast.Arg, typ: Type, args: Scope) -> ir.Lit | None:
        out = ExprChecker(self.rep, args).check_as(arg.value, typ, f"parameter '{arg.name}'")
        if out is None:
            return None
        value = const_value(out)
        if value is None:
            self.rep.error(arg.value.span, f"argument '{arg.name}' must be a constant expression")
            return None
        if not value_fits(typ, value):
            self.rep.error(arg.value.span, f"argument '{arg.name}' = {value} is out of range {typ}")
            return None
        return ir.Lit(value, typ, arg.value.span)

    def _check_alone(self, proc: ast.ProcessDecl, sig: _Signature) -> None:
        """Check a process nobody instantiates, against placeholder arguments; keep only errors."""
        scope = Scope(self.env, instance=proc.name)
        scope.broken |= sig.broken
        for name, typ in sig.values.items():
            scope.values[name] = ir.Lit(default_value(typ), typ, sig.spans[name])
        for name, msg in sig.chans.items():
            scope.chans[name] = ir.Channel(name, msg, 2, frozenset(), sig.spans[name])
        for name, (msg, lo, hi) in sig.chan_families.items():
            chans = tuple(ir.Channel(f"{name}[{i}]", msg, 2, frozenset(), sig.spans[name]) for i in range(lo, hi + 1))
            scope.chan_families[name] = ChanFamily(name, lo, hi, chans, msg)
        scope.self_index = ir.Lit(0, IntType(0, 0), proc.span)
        checker = ProcessChecker(self.rep, self.env, self.resolve, placeholder=True)
        checker._declare_vars(proc.name, proc, sig, scope)
        checker._body(proc.name, proc, scope)

    # ------------------------------------------------------------ the body of one instance

    def _declare_vars(self, inst: str, proc: ast.ProcessDecl, sig: _Signature, scope: Scope) -> None:
        scope.vars = self._vars(inst, proc, sig, scope)
        if not self.placeholder:
            self.env.instance_vars[inst] = scope.vars
            self.env.instance_values[inst] = dict(scope.values)
            self.env.broken |= {f"{inst}.{n}" for n in scope.broken}
            self.state_vars.extend(scope.vars.values())

    def _body(self, inst: str, proc: ast.ProcessDecl, scope: Scope) -> list[ir.Property]:
        """Transitions, properties and finals of one instance: these may read every instance."""
        scope = replace(scope, foreign=True)
        scope.home = scope
        self._process_defs(proc, scope)
        seen: dict[str, Span] = {}
        for t in proc.transitions:
            if self._fresh(t.name, t.span, seen, "transition"):
                for tr in self._transitions(inst, t, scope):
                    self.transitions.append(tr)
                    if t.fair:
                        self.fairness[tr.name] = t.fair
        props: list[ir.Property] = []
        seen = {}
        for p in proc.properties:
            if self._fresh(p.name, p.span, seen, "property"):
                prop = check_property(self.rep, p, scope, inst)
                if prop is not None:
                    props.append(prop)
        for f in proc.finals:
            if self._fresh(f.name, f.span, seen, "final state predicate"):
                final = check_final(self.rep, f, scope, inst)
                if final is not None:
                    self.finals.append(final)
        return props

    def _process_defs(self, proc: ast.ProcessDecl, scope: Scope) -> None:
        """The process's defs, visible in its transitions, properties and other defs."""
        for d in proc.defs:
            if d.name in scope.defs:
                self.rep.error(d.span, f"def '{d.name}' is already defined", f"first defined at {scope.defs[d.name].decl.span}")
                continue
            if d.name in scope.vars or d.name in scope.values or d.name in scope.chans:
                self.rep.error(d.span, f"def '{d.name}' has the name of a variable or parameter of the process")
                continue
            sig = def_signature(self.rep, d, self.resolve, top_level=False)
            if sig is not None:
                scope.defs[d.name] = sig
        for sig in scope.defs.values():
            ExprChecker(self.rep, scope).check_def_alone(sig)

    def _fresh(self, name: str, span: Span, seen: dict[str, Span], what: str) -> bool:
        if name in seen:
            self.rep.error(span, f"{what} '{name}' is already defined", f"first defined at {seen[name]}")
            return False
        seen[name] = span
        return True

    def _vars(self, inst: str, proc: ast.ProcessDecl, sig: _Signature, scope: Scope) -> dict[str, ir.StateVar]:
        done: dict[str, ir.StateVar] = {}
        seen = dict(sig.spans)
        for index, vd in enumerate(proc.vars):
            if not self._fresh(vd.name, vd.span, seen, "variable"):
                continue
            typ = self._var_type(vd)
            if typ is None:
                scope.broken.add(vd.name)
                continue
            var = ir.StateVar(f"{inst}.{vd.name}", inst, vd.name, typ, vd.span)
            if vd.init is not None:
                later = [v.name for v in proc.vars[index + 1:]]
                self._init(vd, var, replace(scope, vars=dict(done), hidden=hidden_for(vd.name, later)))
            done[vd.name] = var
        return done

    def _var_type(self, vd: ast.VarDecl) -> Type | None:
        if isinstance(vd.type, ast_expr.ChanType):
            self.rep.error(vd.type.span, f"variable '{vd.name}' cannot be a channel")
            return None
        return self.resolve(vd.type)

    def _init(self, vd: ast.VarDecl, var: ir.StateVar, scope: Scope) -> None:
        assert vd.init is not None
        out = ExprChecker(self.rep, scope).check_as(vd.init, var.type, f"variable '{vd.name}'")
        if out is None or self.placeholder:
            return
        value = const_value(out)
        if value is not None and not value_fits(var.type, value):
            self.rep.error(vd.init.span, f"initial value {value_text(value)} of '{vd.name}' is out of range {var.type}")
            return
        self.init[var.name] = out

    # ------------------------------------------------------------ transitions

    def _transitions(self, inst: str, t: ast.Transition, scope: Scope) -> list[ir.Transition]:
        """One transition; with `receive m from ch[any j]`, one per member of the family, named
        `inst.t[j=2]`, with `j` bound to the member's index."""
        rcv = t.receive
        if rcv is None or rcv.any_var is None:
            return [self._transition(inst, t, scope)]
        fam = ExprChecker(self.rep, scope).scope.chan_family(rcv.channel)
        if fam is None:
            what = "a channel" if scope.channel(rcv.channel) is not None else "not a channel"
            self.rep.error(rcv.span, f"'{rcv.channel}' is {what}, not a family of channels: 'any' picks one of a "
                           "family's members")
            return []
        j = rcv.any_var
        if self._shadows(j, rcv.span, scope, "index name"):
            return []
        if j in scope.env.kinds or j in scope.env.members or j == rcv.binding:
            self.rep.error(rcv.span, f"'{j}' already names something here; choose another name for the index")
            return []
        out = []
        for i in range(fam.lo, fam.hi + 1):
            bound = replace(scope, values={**scope.values, j: ir.Lit(i, IntType(i, i), rcv.span)})
            out.append(self._transition(inst, t, bound, fam.member(i), f"[{j}={i}]"))
        return out

    def _transition(self, inst: str, t: ast.Transition, scope: Scope, member: ir.Channel | None = None,
                    suffix: str = "") -> ir.Transition:
        tscope = replace(scope, params={}, msgs={}, broken=set(scope.broken))
        for p in t.choose:
            self._choose(p, scope, tscope)
        receive = self._receive(t.receive, scope, tscope, member) if t.receive else None
        ec = ExprChecker(self.rep, tscope)
        guard = ec.check_bool(t.guard, "a guard") if t.guard is not None else None
        stmts = StmtChecker(self.rep, self._note_range)
        body = stmts.lower(t.body, ec)
        stmts.check_sends(t.name, body)
        if not self.placeholder:
            warn_reads_after_writes(self.rep, body)
        return ir.Transition(
            name=f"{inst}.{t.name}{suffix}", instance=inst, local=t.name, params=tuple(tscope.params.items()),
            receive=receive, guard=guard or ir.Lit(True, BOOL, t.span), body=body, span=t.span, doc=t.doc,
        )

    def _shadows(self, name: str, span: Span, scope: Scope, what: str) -> bool:
        """A choose parameter or message name may not hide a variable or process parameter."""
        if name in scope.vars:
            self.rep.error(span, f"{what} '{name}' shadows variable '{name}'")
        elif name in scope.values or name in scope.chans or name in scope.chan_families or name in scope.broken:
            self.rep.error(span, f"{what} '{name}' shadows parameter '{name}' of the process")
        else:
            return False
        return True

    def _choose(self, p: ast.Param, scope: Scope, tscope: Scope) -> None:
        if p.name in tscope.params or p.name in tscope.msgs:
            self.rep.error(p.span, f"choose parameter '{p.name}' is already defined")
            return
        if self._shadows(p.name, p.span, scope, "choose parameter"):
            return
        typ = None if isinstance(p.type, ast_expr.ChanType) else self.resolve(p.type)
        if isinstance(p.type, ast_expr.ChanType):
            self.rep.error(p.type.span, f"choose parameter '{p.name}' cannot be a channel")
        elif typ is not None and (isinstance(typ, (RecordType, MapType, SetType)) or not is_finite(typ)):
            self.rep.error(p.span, f"choose parameter '{p.name}' needs a finite type "
                           f"(bool, an enum, a range LO..HI, bvN, seqN), not {typ}")
            typ = None
        if typ is None:
            tscope.broken.add(p.name)
        else:
            tscope.params[p.name] = typ

    def _receive(self, rcv: ast.Receive, scope: Scope, tscope: Scope,
                 member: ir.Channel | None = None) -> tuple[str, ir.Channel] | None:
        chan = member
        if chan is None:
            ref = ExprChecker(self.rep, tscope).chan_ref(rcv.channel, rcv.index, rcv.span, dynamic=False)
            chan = None if ref is None else ref.single
        if rcv.binding in tscope.params:
            self.rep.error(rcv.span, f"message name '{rcv.binding}' is already a choose parameter")
            return None
        if self._shadows(rcv.binding, rcv.span, scope, "message name") or chan is None:
            tscope.broken.add(rcv.binding)
            return None
        tscope.msgs[rcv.binding] = chan.message
        return rcv.binding, chan

    def _note_range(self, span: Span) -> None:
        if self.range_span is None and not self.placeholder:
            self.range_span = span



def hidden_for(own: str, later: list[str]) -> dict[str, str]:
    """Variables an initial value may not read: its own and those declared after it."""
    hidden = {n: f"variable '{n}' is declared after '{own}'; an initial value may only read "
                 "variables declared before it" for n in later}
    hidden[own] = f"variable '{own}' cannot be used in its own initial value"
    return hidden
