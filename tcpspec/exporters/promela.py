"""A checked model as Promela, so that SPIN can search it exhaustively (and we can compare).

The translation follows the interpreter's semantics (docs/language.md), not the Z3 encoder:

- every record is flattened into one variable per field; a channel of capacity C becomes C
  slots per field plus a length, with empty slots held at zero (one state, one vector);
- one proctype per process instance (and one `network` proctype for the enabled faults); each
  transition is one `d_step` branch of a `do` loop whose first statement is its guard (with
  `choose` parameters: an `atomic` branch that first picks them), so a step of SPIN is a step
  of the model, and pan.c has one transition for it, without undo code per statement;
- a send to a full channel, or a store outside a variable's range, makes the transition
  disabled (`range_ok` reports the latter): the branch restores what it changed (what it
  copied first: only what a failure can spoil), a stutter step that adds no state; so does a
  `select`ed parameter value for which the guard is false;
- invariants and reachability targets are branches of a `monitor` process that fire when the
  invariant is false / the target is true; step properties are checked at the end of the
  transition. Each prints `VIOLATED name` / `REACHED name` and fails an assertion, so one
  `pan -c0` run reports every property (compile pan with `-DPRINTF`);
- numbers: seqN and bvN are two's-complement `int`s (compile pan with `-fwrapv`), masked to N
  bits below 32; serial order is the sign of the difference. SPIN must enumerate the values a
  state variable without an initial value may hold, so wide ones take `isn_values`, and wide
  `choose` parameters take `payload_range` (`ExportOptions`).
"""

from __future__ import annotations

from tcpspec.checker import ir
from tcpspec.core.diagnostics import UsageError
from tcpspec.exporters import comment_text
from tcpspec.core.results import steps
from tcpspec.exporters.promela_expr import (
    SMALL,
    ExportOptions,
    Scope,
    chan_len,
    expr,
    flat,
    hidden_type,
    ident,
    leaves,
    lit,
    lit_leaves,
    ptype,
    values_of,
)
from tcpspec.core.types import IntType, MapType, RecordType, Type, default_value

__all__ = ["ExportOptions", "export_promela", "PAN_CFLAGS", "PAN_RUNFLAGS"]

PAN_CFLAGS = ("-O2", "-fwrapv", "-DPRINTF", "-DSAFETY", "-DNOCLAIM", "-DVECTORSZ=4096", "-w")
PAN_RUNFLAGS = ("-E", "-n", "-m1000000")


def export_promela(model: ir.Model, options: ExportOptions = ExportOptions()) -> str:
    """The whole Promela model (see the module doc for the translation)."""
    from tcpspec.run.pipeline import select_properties

    props = select_properties(model, options.properties)
    g = _Gen(model, options, props)
    return "\n".join(g.render()) + "\n"


def slot(c: ir.Channel, suffix: str, i: int | str) -> str:
    return f"{ident(c.name)}{suffix}[{i}]"


def _writes(body: tuple[ir.Stmt, ...]) -> tuple[list[str], list[str]]:
    """The variables a body may assign and the channels it may send to, in first-seen order."""
    vs: list[str] = []
    cs: list[str] = []

    def walk(stmts: tuple[ir.Stmt, ...]) -> None:
        for s in stmts:
            if isinstance(s, ir.Assign) and s.target.name not in vs:
                vs.append(s.target.name)
            elif isinstance(s, ir.Send) and s.channel.name not in cs:
                cs.append(s.channel.name)
            elif isinstance(s, ir.If):
                walk(s.then)
                walk(s.else_)

    walk(body)
    return vs, cs


class _Gen:
    """Emits the Promela text; holds the model, the options and the selected properties."""

    def __init__(self, model: ir.Model, options: ExportOptions, props: list[ir.Property]):
        self.m, self.o = model, options
        self.step_props = [p for p in props if p.kind is ir.PropertyKind.STEP]
        self.state_props = [p for p in props if p.kind is not ir.PropertyKind.STEP]
        self.hidden: dict[str, str] = {}  # scratch variable -> declaration

    # ------------------------------------------------------------ top level

    def render(self) -> list[str]:
        body: list[str] = []
        for inst in self.m.instances:
            ts = [t for t in self.m.transitions if isinstance(t, ir.Transition) and t.instance == inst.name]
            body += self._proctype(f"P_{ident(inst.name)[2:]}", ts)
        net = [t for t in self.m.transitions if isinstance(t, ir.NetworkTransition)]
        if net:
            body += self._proctype("network", net)
        body += self._monitor() + self._init()
        return self._header() + self._globals() + sorted(self.hidden.values()) + [""] + body

    def _header(self) -> list[str]:
        return [
            f"/* {comment_text(self.m.path)} as Promela, written by `tcpspec export --to promela`.",
            f"   Free wide values range over {list(self.o.isn_values)}"
            + (f" (only {', '.join(self.o.isn_vars)}; others take the first)" if self.o.isn_vars else "")
            + ("; wide `choose` parameters over "
               f"{self.o.payload_range[0]}..{self.o.payload_range[1]}" if self.o.payload_range else "")
            + (f"; runs are cut after {steps(self.o.max_steps)}." if self.o.max_steps is not None
               else "; runs are not cut (no --max-steps)."),
            "   Build: spin -a FILE && gcc " + " ".join(PAN_CFLAGS) + " -o pan pan.c && ./pan "
            + " ".join(PAN_RUNFLAGS) + " -c0",
            "   A violated property prints `VIOLATED name`, a reached target `REACHED name`. */",
            "",
        ]

    def _globals(self) -> list[str]:
        out = []
        for v in self.m.state_vars:
            for suffix, t in leaves(v.type, ""):
                out.append(f"{ptype(t)} {ident(v.name)}{suffix};")
                self._scratch(f"s_{ident(v.name)}{suffix}", t)
        for c in self.m.channels:
            for suffix, t in leaves(c.message, ""):
                out.append(f"{ptype(t)} {ident(c.name)}{suffix}[{max(1, c.capacity)}];")
                self._scratch(f"s_{ident(c.name)}{suffix}", t, max(1, c.capacity))
            out.append(f"byte {chan_len(c)};")
            self._scratch(f"s_{chan_len(c)}", IntType(0, 255))
        if self.o.max_steps is not None:
            out.append("short steps;  /* steps taken: runs are cut at max_steps */")
            self._scratch("s_steps", IntType(0, 30000))
        self._scratch("blk", IntType(0, 1))
        self._scratch("rng", IntType(0, 1))
        return out

    def _scratch(self, name: str, t: Type, n: int = 0) -> str:
        self.hidden[name] = f"hidden {hidden_type(t)} {name}{f'[{n}]' if n else ''};"
        return name

    def _proctype(self, name: str, ts: list[ir.AnyTransition]) -> list[str]:
        out = [f"proctype {name}() {{", "  do"]
        for t in ts:
            out += [f"  /* {t.name} */"] + ["  " + line for line in self._transition(t)]
        out += ["  od", "}", ""]
        return out

    # ------------------------------------------------------------ transitions

    def _transition(self, t: ir.AnyTransition) -> list[str]:
        params = {p: self._scratch(f"p_{ident(t.name)}_{p}", pt) for p, pt in t.params}
        recv = t.receive if isinstance(t, ir.Transition) else None
        first = f"({chan_len(recv[1])} > 0)" if recv else "true"
        if self.o.max_steps is not None:
            first = f"(steps < {self.o.max_steps} && {first})"
        msgs = {recv[0]: [slot(recv[1], s, 0) for s, _ in leaves(recv[1].message, "")]} if recv else {}
        guard = self._guard(t, Scope(msgs=msgs, params=params))
        picks = [line for p, pt in t.params for line in self._pick(params[p], self._param_values(t, p, pt))]
        # The received message leaves its channel at the end, when the body neither reads nor
        # sends to that channel: nothing to restore for it then.
        defer = isinstance(t, ir.Transition) and recv is not None and recv[1].name not in _channels_used(t.body)
        saved_vars, saved_chans = self._saved(t, defer)
        pre = {v: f"s_{ident(v)}" for v in saved_vars} | {c: f"s_{ident(c)}" for c in saved_chans}
        effect = self._snapshot(saved_vars, saved_chans, save=True)
        effect += ["blk = 0;", "rng = 0;"] + (["steps = steps + 1;"] if self.o.max_steps is not None else [])
        if isinstance(t, ir.Transition):
            effect += self._process_effect(t, params, defer)
        else:
            effect += self._fault_effect(t, params)
        effect += self._finish(t, params, pre, saved_vars, saved_chans, defer)
        # The effect is deterministic, so a `d_step`: SPIN compiles it into one transition with
        # no undo code per statement (pan.c of broken/tcp_passive_time_wait: gcc -O2 25 s -> 4 s).
        # With parameters it stays `atomic`: a `select` inside a d_step would always take its
        # first value (and a d_step nested in the atomic made pan search without end).
        if not picks:
            out = [f":: d_step {{ ({first} && {guard}) ->"] + ["     " + x for x in effect]
            out[-1] = out[-1].rstrip(";")
            return out + ["   }"]
        out = [f":: atomic {{ {first} ->"] + ["     " + x for x in picks]
        out += ["     if", f"     :: ({guard}) ->"] + ["        " + x for x in effect]
        out += ["     :: else -> skip", "     fi;"] + [f"     {p} = 0;" for p in params.values()]
        out[-1] = out[-1].rstrip(";")
        return out + ["   }"]

    def _saved(self, t: ir.AnyTransition, defer: bool) -> tuple[list[str], list[str]]:
        """What the transition must copy first: what a failure restores (`_restored`) and what
        its step properties read in the state before the step."""
        vs, cs = self._touched(t)
        if isinstance(t, ir.NetworkTransition):
            return vs, cs
        early = _restored(t.body, self._range_checked)
        if t.receive is not None and not defer and early is not None:
            early.add(t.receive[1].name)
        read = self._step_reads(t)
        keep = (early or set()) | read
        return [v for v in vs if v in keep], [c for c in cs if c in keep]

    def _step_reads(self, t: ir.Transition) -> set[str]:
        """State variables and channels the step properties checked after `t` read unprimed."""
        out: set[str] = set()
        for p in self.step_props:
            if p.builtin or (p.instance is not None and t.instance != p.instance):
                continue
            for e in ([p.when] if p.when is not None else []) + [p.expr]:
                out |= _unprimed_reads(e)
        return out

    def _range_checked(self, s: ir.Stmt) -> bool:
        """Whether a statement stores a value that may lie outside its type (`rng`)."""
        if isinstance(s, ir.Assign):
            t = s.target.type
            return isinstance(t, IntType) and t.bounded and s.value.type != t
        if isinstance(s, ir.Send):
            parts = _field_parts(s.message, s.channel.message)
            return any(isinstance(lt, IntType) and lt.bounded and ft != lt
                       for (_, lt), (ft, count) in zip(leaves(s.channel.message, ""), _expand(parts)) if count == 1)
        return False

    def _guard(self, t: ir.AnyTransition, sc: Scope) -> str:
        if isinstance(t, ir.Transition):
            return expr(t.guard, sc)
        c, n = t.channel, chan_len(t.channel)
        if t.kind == "injection":
            return f"({n} < {c.capacity})"
        i = sc.params["i"]
        return {"loss": f"({i} < {n})", "duplication": f"({i} < {n} && {n} < {c.capacity})",
                "reordering": f"({i} + 1 < {n})"}[t.kind]

    def _param_values(self, t: ir.AnyTransition, p: str, pt: Type) -> tuple[str, ...] | tuple[int, int]:
        """The values a parameter is `select`ed from: all of a small type, else the options'."""
        if isinstance(t, ir.NetworkTransition) and t.kind != "injection":
            return (0, t.channel.capacity - 1)
        if isinstance(pt, IntType) and pt.bounded and pt.hi - pt.lo + 1 > SMALL:  # type: ignore[operator]
            if self.o.payload_range is None:
                raise UsageError(f"{t.name}: parameter {p} has {pt.hi - pt.lo + 1} values: "  # type: ignore[operator]
                                 "give --payload-range A..B for SPIN to enumerate")
            lo, hi = max(pt.lo, self.o.payload_range[0]), min(pt.hi, self.o.payload_range[1])  # type: ignore[type-var]
            return (lo, hi)
        return values_of(pt, list(self.o.isn_values))

    @staticmethod
    def _pick(var: str, values: tuple[str, ...] | tuple[int, int]) -> list[str]:
        if values and isinstance(values[0], int):
            lo, hi = values
            return [f"select({var} : {lo} .. {hi});"]
        return ["if"] + [f":: {var} = {v}" for v in values] + ["fi;"]

    def _touched(self, t: ir.AnyTransition) -> tuple[list[str], list[str]]:
        """The state variables and channels a transition may change (snapshot, restore)."""
        if isinstance(t, ir.NetworkTransition):
            return [], [t.channel.name]
        vs, sent = _writes(t.body)
        cs: list[str] = [t.receive[1].name] if t.receive else []
        return vs, cs + [c for c in sent if c not in cs]

    def _snapshot(self, vs: list[str], cs: list[str], save: bool) -> list[str]:
        """Copy the touched state into the scratch copies (save) or back (restore)."""
        pairs: list[tuple[str, str]] = []
        for v in vs:
            pairs += [(f"s_{ident(v)}{s}", f"{ident(v)}{s}") for s, _ in leaves(self.m.var(v).type, "")]
        for name in cs:
            c = self.m.channel(name)
            for s, _ in leaves(c.message, ""):
                pairs += [(f"s_{ident(name)}{s}[{i}]", slot(c, s, i)) for i in range(c.capacity)]
            pairs.append((f"s_{chan_len(c)}", chan_len(c)))
        if self.o.max_steps is not None:
            pairs.append(("s_steps", "steps"))
        return [f"{a} = {b};" if save else f"{b} = {a};" for a, b in pairs]

    # ------------------------------------------------------------ effects

    def _process_effect(self, t: ir.Transition, params: dict[str, str], defer: bool = False) -> list[str]:
        out: list[str] = []
        msgs: dict[str, list[str]] = {}
        if t.receive:
            binding, c = t.receive
            names = []
            for s, lt in leaves(c.message, ""):
                names.append(self._scratch(f"m_{ident(t.name)}_{binding}{s}", lt))
                out.append(f"{names[-1]} = {slot(c, s, 0)};")
            msgs[binding] = names
            if not defer:
                out += self._shift(c, 0)
        self._sent_flags(t)
        sc = Scope(msgs=msgs, params=params)
        return out + [f"f_{ident(c)}_sent = 0;" for c in self._sends(t)] + self._stmts(t.body, sc)

    @staticmethod
    def _sends(t: ir.Transition) -> list[str]:
        """The channels the body may send to."""
        return _writes(t.body)[1]

    def _sent_flags(self, t: ir.Transition) -> None:
        for c in self._sends(t):
            self._scratch(f"f_{ident(c)}_sent", IntType(0, 1))
            for s, lt in leaves(self.m.channel(c).message, ""):
                self._scratch(f"f_{ident(c)}{s}", lt)

    def _shift(self, c: ir.Channel, start: int | str) -> list[str]:
        """Remove the message at `start` (an index or a variable): later ones move up one."""
        out = []
        for s, lt in leaves(c.message, ""):
            for j in range(c.capacity - 1):
                nxt = slot(c, s, j + 1)
                if isinstance(start, int):
                    if j >= start:
                        out.append(f"{slot(c, s, j)} = {nxt};")
                else:
                    out.append(f"{slot(c, s, j)} = ({j} >= {start} -> {nxt} : {slot(c, s, j)});")
            out.append(f"{slot(c, s, c.capacity - 1)} = {lit(default_value(lt), lt)};")
        return out + [f"{chan_len(c)} = {chan_len(c)} - 1;"]

    def _stmts(self, body: tuple[ir.Stmt, ...], sc: Scope) -> list[str]:
        out: list[str] = []
        for s in body:
            if isinstance(s, ir.Assign):
                parts = leaves(s.target.type, "")
                targets = [f"{ident(s.target.name)}{suf}" for suf, _ in parts]
                values = flat(s.value, sc)
                if isinstance(s.target.type, MapType) and not isinstance(s.value, ir.Var):
                    # A map's element may be stored out of its range: check every bounded part.
                    for (dst, src), (_, lt) in zip(zip(targets, values), parts):
                        out += self._store([(dst, src)], lt, IntType())
                else:
                    out += self._store(list(zip(targets, values)), s.target.type, s.value.type)
            elif isinstance(s, ir.Send):
                out += self._send(s, sc)
            elif isinstance(s, ir.Let):
                base = "l_" + "".join(ch if ch.isalnum() else "_" for ch in s.name)
                names = [self._scratch(f"{base}{suf}", lt) for suf, lt in leaves(s.value.type, "")]
                sc.locals[s.name] = names
                out += [f"{n} = {v};" for n, v in zip(names, flat(s.value, sc))]
            else:
                then = self._stmts(s.then, sc) or ["skip"]
                other = self._stmts(s.else_, sc) or ["skip"]
                out += ["if", f":: {expr(s.cond, sc)} ->"] + ["   " + x for x in then]
                out += [":: else ->"] + ["   " + x for x in other] + ["fi;"]
        return out

    @staticmethod
    def _store(pairs: list[tuple[str, str]], target: Type, value: Type) -> list[str]:
        """Assignments; a value of a wider int type is range-checked (else `rng`)."""
        if isinstance(target, IntType) and target.bounded and value != target:
            (dst, src), = pairs
            ok = f"({target.lo} <= {src} && {src} <= {target.hi})"
            return ["if", f":: {ok} -> {dst} = {src}", ":: else -> rng = 1", "fi;"]
        return [f"{dst} = {src};" for dst, src in pairs]

    def _send(self, s: ir.Send, sc: Scope) -> list[str]:
        c, n = s.channel, chan_len(s.channel)
        assert isinstance(s.message.type, RecordType)
        values = flat(s.message, sc)
        stores: list[str] = []
        parts = _field_parts(s.message, c.message)
        k = 0
        for (suf, lt), (ftype, count) in zip(leaves(c.message, ""), _expand(parts)):
            stores += self._store([(slot(c, suf, n), values[k])], lt, ftype if count == 1 else lt)
            k += 1
        first = [f"f_{ident(c.name)}{suf} = {slot(c, suf, n)};" for suf, _ in leaves(c.message, "")]
        out = ["if", f":: ({n} < {c.capacity}) ->"] + ["   " + x for x in stores]
        out += [f"   if :: f_{ident(c.name)}_sent == 0 ->"] + ["        " + x for x in first]
        out += [f"        f_{ident(c.name)}_sent = 1", "   :: else -> skip", "   fi;"]
        out += [f"   {n} = {n} + 1", ":: else -> blk = 1", "fi;"]
        return out

    def _fault_effect(self, t: ir.NetworkTransition, params: dict[str, str]) -> list[str]:
        c, n = t.channel, chan_len(t.channel)
        if t.kind == "loss":
            return self._shift(c, params["i"])
        if t.kind == "duplication":
            return [f"{slot(c, s, n)} = {slot(c, s, params['i'])};" for s, _ in leaves(c.message, "")] + [
                f"{n} = {n} + 1;"]
        if t.kind == "reordering":
            i = params["i"]
            out = []
            for s, lt in leaves(c.message, ""):
                tmp = self._scratch(f"x_{ident(c.name)}{s}", lt)
                out += [f"{tmp} = {slot(c, s, i)};", f"{slot(c, s, i)} = {slot(c, s, f'{i} + 1')};",
                        f"{slot(c, s, f'{i} + 1')} = {tmp};"]
            return out
        out = [f"{slot(c, s, n)} = {params[s[1:]]};" for s, _ in leaves(c.message, "")]
        return out + [f"{n} = {n} + 1;"]

    # ------------------------------------------------------------ checks

    def _finish(self, t: ir.AnyTransition, params: dict[str, str], pre: dict[str, str],
                saved_vars: list[str], saved_chans: list[str], defer: bool = False) -> list[str]:
        """Disabled (full channel) or out of range: restore (once); else take the deferred
        receive and check the step properties (one `if`, a branch per property)."""
        restore = self._snapshot(saved_vars, saved_chans, save=False)
        range_prop = [p for p in self.step_props if p.builtin]
        out = ["if", ":: (blk || rng) ->"]
        if range_prop:
            out += [f'   if :: (!blk && rng) -> printf("VIOLATED {range_prop[0].name}\\n"); assert(false)',
                    "   :: else -> skip", "   fi;"]
        out += ["   " + x for x in restore] or ["   skip"]
        out.append(":: else ->")
        if defer:
            assert isinstance(t, ir.Transition) and t.receive is not None
            out += ["   " + x for x in self._shift(t.receive[1], 0)]
        # One `if` per property: in a d_step, an `if` takes its first true branch only, and
        # every property a step breaks must be reported.
        checks = [b for p in self.step_props if not p.builtin for b in self._step_check(p, t, params, pre)]
        for b in checks:
            out += ["   if", "   " + b, "   :: else -> skip", "   fi;"]
        if not checks:
            out.append("   skip")
        else:
            out[-1] = out[-1].rstrip(";")
        out.append("fi;")
        return out

    def _step_check(self, p: ir.Property, t: ir.AnyTransition, params: dict[str, str],
                    pre: dict[str, str]) -> list[str]:
        if isinstance(t, ir.NetworkTransition):
            if p.events or p.instance is not None:
                return []
        elif p.instance is not None and t.instance != p.instance:
            return []
        msgs: dict[str, list[str]] = {}
        applies: list[str] = []
        for ev in p.events:
            assert isinstance(t, ir.Transition)
            if ev.kind == "receive":
                if t.receive is None or t.receive[1].name != ev.channel.name:
                    return []
                msgs[ev.binding] = [f"m_{ident(t.name)}_{t.receive[0]}{s}" for s, _ in leaves(ev.channel.message, "")]
            else:
                if ev.channel.name not in self._sends(t):  # no send on this path
                    return []
                applies.append(f"f_{ident(ev.channel.name)}_sent")
                msgs[ev.binding] = [f"f_{ident(ev.channel.name)}{s}" for s, _ in leaves(ev.channel.message, "")]
        sc = Scope(msgs=msgs, params=params, pre=pre, step=True)
        cond = " && ".join(applies + ([expr(p.when, sc)] if p.when is not None else [])) or "true"
        return [f":: ({cond}) && !{expr(p.expr, sc)} -> printf(\"VIOLATED {p.name}\\n\"); assert(false)"]

    def _monitor(self) -> list[str]:
        out = ["proctype monitor() {", "  do"]
        sc = Scope(msgs={}, params={})
        for p in self.state_props:
            e = expr(p.expr, sc)
            if p.over_states:
                out.append(f'  :: atomic {{ !{e} -> printf("VIOLATED {p.name}\\n"); assert(false) }}')
            else:
                out.append(f'  :: atomic {{ {e} -> printf("REACHED {p.name}\\n"); assert(false) }}')
        if not self.state_props:
            out.append("  :: false")
        return out + ["  od", "}", ""]

    def _init(self) -> list[str]:
        out = ["init {", "  atomic {"]
        sc = Scope(msgs={}, params={})
        for v in self.m.state_vars:
            e = self.m.init.get(v.name)
            if e is None:
                wide = list(self.o.isn_values)
                if self.o.isn_vars and v.local not in self.o.isn_vars:
                    wide = wide[:1]
                for suf, lt in leaves(v.type, ""):
                    out += ["    " + x for x in self._pick(f"{ident(v.name)}{suf}", values_of(lt, wide))]
            else:
                for (suf, lt), val in zip(leaves(v.type, ""), flat(e, sc)):
                    if isinstance(lt, IntType) and e.type != v.type:
                        out.append(f"    ({lt.lo} <= {val} && {val} <= {lt.hi});")
                    out.append(f"    {ident(v.name)}{suf} = {val};")
        for c in self.m.channels:  # messages in flight at the start
            for i, msg in enumerate(c.init):
                for (suf, lt), v in zip(leaves(c.message, ""), lit_leaves(msg, c.message)):
                    out.append(f"    {slot(c, suf, i)} = {lit(v[0], lt)};")
            if c.init:
                out.append(f"    {chan_len(c)} = {len(c.init)};")
        runs = [f"run P_{ident(i.name)[2:]}();" for i in self.m.instances]
        if any(isinstance(t, ir.NetworkTransition) for t in self.m.transitions):
            runs.append("run network();")
        out += ["    " + x for x in runs + ["run monitor()"]]
        return out + ["  }", "}"]


def _channels_used(body: tuple[ir.Stmt, ...]) -> set[str]:
    """Channels a body reads (`len`, `ch[i]`) or sends to."""
    out: set[str] = set()

    def walk_expr(e: object) -> None:
        if isinstance(e, (ir.ChanLen, ir.ChanSlot)):
            out.add(e.channel.name)
        if hasattr(e, "__dataclass_fields__") and not isinstance(e, ir.Channel):
            for f in e.__dataclass_fields__:  # type: ignore[union-attr]
                if f not in ("type", "span", "var", "channel"):
                    walk_expr(getattr(e, f))
        elif isinstance(e, tuple):
            for x in e:
                walk_expr(x)

    for s in body:
        if isinstance(s, ir.Send):
            out.add(s.channel.name)
        walk_expr(s)
    return out


def _restored(body: tuple[ir.Stmt, ...], checked) -> set[str] | None:  # type: ignore[no-untyped-def]
    """What a failure of the body (a send that finds its channel full, a store `checked` says may
    leave its range) must restore, or None when the body cannot fail. The body runs on after a
    failure, so every variable it writes; a channel it sends to, unless the only ways to fail are
    sends to that same channel (a send that fails writes nothing, and when it succeeds nothing
    else can fail)."""
    written: set[str] = set()
    sent: set[str] = set()
    fails: list[tuple[str, str]] = []

    def walk(stmts: tuple[ir.Stmt, ...]) -> None:
        for s in stmts:
            if isinstance(s, ir.Assign):
                written.add(s.target.name)
                if checked(s):
                    fails.append(("store", s.target.name))
            elif isinstance(s, ir.Send):
                sent.add(s.channel.name)
                fails.append(("send", s.channel.name))
                if checked(s):
                    fails.append(("store", s.channel.name))
            elif isinstance(s, ir.If):
                walk(s.then)
                walk(s.else_)

    walk(body)
    if not fails:
        return None
    only = {name for kind, name in fails if kind == "send"} if all(k == "send" for k, _ in fails) else set()
    return written | {c for c in sent if not (only == {c})}


def _unprimed_reads(e: object) -> set[str]:
    """State variables and channels an expression reads in the state before the step."""
    out: set[str] = set()
    todo = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, ir.Var):
            if not x.primed:
                out.add(x.var.name)
        elif isinstance(x, (ir.ChanLen, ir.ChanSlot)):
            out.add(x.channel.name)
        elif hasattr(x, "__dataclass_fields__"):
            todo += [getattr(x, f) for f in x.__dataclass_fields__ if f not in ("type", "span")]  # type: ignore[union-attr]
        elif isinstance(x, tuple):
            todo += list(x)
    return out


def _field_parts(message: ir.Expr, rt: RecordType) -> list[tuple[Type, int]]:
    """Per field of the sent record: the type of the value sent for it and its leaf count."""
    if isinstance(message, ir.Local):  # the types of what the `let` computed
        return _field_parts(message.bound, rt)
    if isinstance(message, ir.RecordLit):
        return [(fe.type, len(leaves(ft, ""))) for (_, fe), (_, ft) in zip(message.fields, rt.fields)]
    return [(ft, len(leaves(ft, ""))) for _, ft in rt.fields]


def _expand(parts: list[tuple[Type, int]]) -> list[tuple[Type, int]]:
    out: list[tuple[Type, int]] = []
    for t, n in parts:
        out += [(t, n)] * n
    return out
