"""Candidate lemmas for the prover's Houdini (engines/houdini.py): cheap, typed, bounded in number.

Every candidate is an ir expression over the state of one step (no primes), so the encoder
gives it the very semantics of the model, and `show` prints it in model syntax for the
certificate. Channel slots are `ir.ChanSlot` (`c2s[0]`, as a user writes them); a slot
candidate is always guarded by `len(ch) > i`.

Families (nothing protocol-specific; every name comes from the model):
- `bool`     a bool variable is constant: `b`, `!b`
- `enum`     an enum variable never takes a value: `e != V`
- `rel`      two variables of the same sequence/bit-vector type: `x == y`, `x <= y`, `y <= x`
             (for seqN written `!(y < x)`: see `_relations`), `x == y + 1` (a SYN or FIN
             consumes one number)
- `cond`     under `e == V ==> ...` for each enum variable e and member V: the same
             instance's `bool`/`rel` atoms, `len(ch) == 0`, other enum variables' values, and
             `len(ch) > i ==> !ch[i].b` for the bool fields of messages in flight; under
             `b ==> ...` / `!b ==> ...` for each bool b: the same instance's atoms and enum values
- `diff`     (opt-in, `interval_candidates`) bounded signed distances `lo <= y - x <= hi`,
             bounds from sampled reachable states
- `shape`    a message in flight's own fields: `ch[i].a ==> ch[i].b`, `ch[i].a ==> !ch[i].b`,
             `ch[i].a ==> ch[i].n == lo` (and under `!ch[i].a`) for bool fields a, b, int field n
- `slot`     a message in flight vs the state: `len(ch) > i ==> ch[i].f REL x` for every
             sequence field f and variable x of its type, `!ch[i].b` for bool fields, and
             `ch[i].f REL ch[i].g` between its own fields
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass

import z3

from tcpspec.checker import ir
from tcpspec.core.diagnostics import Span
from tcpspec.encoding.encoder import Env, eval_expr
from tcpspec.encoding.transition_system import TransitionSystem
from tcpspec.engines.frozen import frozen
from tcpspec.core.types import BitVecType, BoolType, EnumType, IntType, MapType, MapValue, SetType
from tcpspec.interp import evaluate, values

DEFAULT_CAP = 8000
_SPAN = Span("<lemma>", 0, 0)
_BOOL = BoolType()


@dataclass(frozen=True)
class Candidate:
    """A state predicate the prover may keep if it turns out inductive."""

    name: str
    expr: ir.Expr
    family: str = ""

    @property
    def text(self) -> str:
        return show(self.expr)

    def at(self, ts: TransitionSystem, k: int) -> z3.BoolRef:
        return holds(ts, self.expr, k)


# ---------------------------------------------------------------- evaluation


def in_flight(model: ir.Model) -> Iterator[tuple[ir.Channel, ir.Msg, ir.Expr]]:
    """Every channel slot as a message expression, with its guard `len(ch) > i`."""
    for c in model.channels:
        for i in range(c.capacity):
            slot = ir.ChanSlot(c, i, c.message, _SPAN)
            guard = binary("lt", lit(i, IntType(i, i)), ir.ChanLen(c, IntType(0, c.capacity), _SPAN))
            yield c, slot, guard


def holds(ts: TransitionSystem, e: ir.Expr, k: int) -> z3.BoolRef:
    value = eval_expr(e, Env(th=ts.th, pre=ts.state_at(k)))
    assert isinstance(value, z3.BoolRef)
    return value


# ---------------------------------------------------------------- ir builders


def lit(value: object, t: object) -> ir.Lit:
    return ir.Lit(value, t, _SPAN)  # type: ignore[arg-type]


def var(v: ir.StateVar) -> ir.Var:
    return ir.Var(v, False, v.type, _SPAN)


def binary(op: str, a: ir.Expr, b: ir.Expr) -> ir.Binary:
    t = a.type if op in ("add", "sub", "mul") else _BOOL
    return ir.Binary(op, a, b, t, _SPAN)  # type: ignore[arg-type]


def neg(a: ir.Expr) -> ir.Unary:
    return ir.Unary("not", a, _BOOL, _SPAN)


def implies(a: ir.Expr, b: ir.Expr) -> ir.Binary:
    return binary("implies", a, b)


def plus_one(a: ir.Expr) -> ir.Binary:
    one = ir.Convert(lit(1, IntType(1, 1)), a.type, _SPAN)
    return binary("add", a, one)


# ---------------------------------------------------------------- printing

_OPS = {
    "add": "+", "sub": "-", "mul": "*", "seqdiff": "-", "eq": "==", "ne": "!=", "lt": "<",
    "le": "<=", "and": "&&", "or": "||", "implies": "==>",
}
_PREC = {"implies": 1, "or": 2, "and": 3, "eq": 4, "ne": 4, "lt": 4, "le": 4, "add": 5, "sub": 5, "seqdiff": 5, "mul": 6}


def show(e: ir.Expr, outer: int = 0) -> str:
    """An ir expression in model syntax (fully typed, so no conversions are shown)."""
    if isinstance(e, ir.Lit):
        if isinstance(e.value, (MapValue, frozenset)):
            return _show_collection(e, outer)
        if isinstance(e.value, bool):
            return "true" if e.value else "false"
        return str(e.value)
    if isinstance(e, ir.Var):
        return e.var.name + ("'" if e.primed else "")
    if isinstance(e, (ir.MapRead, ir.MapStore, ir.MapLit, ir.SetLit, ir.SetOp, ir.Member, ir.Card)):
        return _show_collection(e, outer)
    if isinstance(e, (ir.Param, ir.Msg)):
        return e.name
    if isinstance(e, ir.Field):
        return f"{show(e.base, 9)}.{e.field}"
    if isinstance(e, ir.Unary):
        return ("!" if e.op == "not" else "-") + show(e.arg, 9)
    if isinstance(e, ir.Convert):
        return show(e.arg, outer)
    if isinstance(e, ir.ChanLen):
        return f"len({e.channel.name})"
    if isinstance(e, ir.ChanSlot):
        return f"{e.channel.name}[{e.index}]"
    if isinstance(e, ir.Ite):
        s = f"if {show(e.cond)} then {show(e.then)} else {show(e.else_)}"
        return f"({s})" if outer else s
    if isinstance(e, ir.RecordLit):
        return f"{e.type.name} {{ " + ", ".join(f"{f}: {show(x)}" for f, x in e.fields) + " }"
    if isinstance(e, ir.Binary):
        p = _PREC.get(e.op, 4)
        s = f"{show(e.left, p + (e.op == 'implies'))} {_OPS.get(e.op, e.op)} {show(e.right, p + (e.op != 'implies'))}"
        return f"({s})" if p < outer else s
    return repr(e)


_SET_OPS = {"union": "+", "minus": "-", "inter": "*"}


def _key_domain(t: object) -> str:
    if isinstance(t, IntType):
        return f"{t.lo}..{t.hi}"
    return "bool" if isinstance(t, BoolType) else str(t)


def _show_collection(e: ir.Expr, outer: int) -> str:
    """Maps and sets in model syntax (`m[k]`, `{a, b}`, `x in s`, `card(s)`, `[k in K -> v]`)."""
    if isinstance(e, ir.MapRead):
        return f"{show(e.map, 9)}[{show(e.key)}]"
    if isinstance(e, ir.Card):
        return f"card({show(e.set)})"
    if isinstance(e, ir.Member):
        s = f"{show(e.elem, 5)} in {show(e.set, 5)}"
        return f"({s})" if outer > 4 else s
    if isinstance(e, ir.SetOp):
        s = f"{show(e.left, 5)} {_SET_OPS[e.op]} {show(e.right, 6)}"
        return f"({s})" if outer > 5 else s
    if isinstance(e, ir.SetLit):
        return "{" + ", ".join(show(x) for x in e.elems) + "}"
    if isinstance(e, ir.Lit) and isinstance(e.value, frozenset):
        assert isinstance(e.type, SetType)
        return "{" + ", ".join(show(lit(x, e.type.elem)) for x in sorted(e.value, key=str)) + "}"
    # A whole map: a literal whose value is chosen by key (`k__`: a name no model uses).
    t = e.type
    assert isinstance(t, MapType)
    if isinstance(e, ir.MapStore):
        values = [ir.Ite(binary("eq", e.key, lit(k, t.key)), e.value, ir.MapRead(e.map, lit(k, t.key), t.value, _SPAN),
                         t.value, _SPAN) for k in t.keys()]
    elif isinstance(e, ir.MapLit):
        values = list(e.values)
    else:
        assert isinstance(e, ir.Lit) and isinstance(e.value, MapValue)
        values = [lit(x, t.value) for _, x in e.value.items]
    body = show(values[-1])
    for k, v in reversed(list(zip(t.keys()[:-1], values[:-1]))):
        body = f"if k__ == {show(lit(k, t.key))} then {show(v)} else {body}"
    return f"[k__ in {_key_domain(t.key)} -> {body}]"


# ---------------------------------------------------------------- generation


def _relations(a: ir.Expr, b: ir.Expr) -> list[ir.Expr]:
    """`a == b`, and `a <= b` / `b <= a` written `!(b < a)` / `!(a < b)`: for serial numbers
    that is `<=` without the ambiguous distance 2^(N-1), where a < b and b < a both hold
    (RFC 1982); serial `<=` alone is not transitive enough for induction."""
    if isinstance(a.type, BitVecType) and a.type.serial:
        return [binary("eq", a, b), neg(binary("lt", b, a)), neg(binary("lt", a, b))]
    return [binary("eq", a, b), binary("le", a, b), binary("le", b, a)]


def generate(model: ir.Model, cap: int = DEFAULT_CAP) -> list[Candidate]:
    """The candidates for `model`, most general first, at most `cap` of them.

    A variable that keeps its initial value (engines/frozen.py: an option that is off) gets
    the one candidate `v == initial value` and takes part in no relation."""
    out: list[Candidate] = []
    seen: set[str] = set()
    fixed = frozen(model)

    def add(e: ir.Expr, family: str) -> None:
        text = show(e)
        if text not in seen and len(out) < cap:
            seen.add(text)
            out.append(Candidate(f"lemma_{len(out)}", e, family))

    for v in model.state_vars:
        if v.name in fixed:
            add(binary("eq", var(v), fixed[v.name]), "frozen")
    bools = [(e, i) for e, i in _views(model, BoolType) if _root(e) not in fixed]
    enums = [(e, i) for e, i in _views(model, EnumType) if _root(e) not in fixed]
    numbers = [v for v in model.state_vars if isinstance(v.type, BitVecType) and v.name not in fixed]

    plain: list[ir.Expr] = []  # unconditional atoms
    local: dict[str, list[ir.Expr]] = {}  # per instance: the atoms used under its enum conditions
    for b, inst in bools:
        plain += [b, neg(b)]
        local.setdefault(inst, []).extend([b, neg(b)])
    for i, x in enumerate(numbers):
        for y in numbers[i + 1:]:
            if x.type != y.type:
                continue
            rels = _relations(var(x), var(y))
            rels += [binary("eq", var(x), plus_one(var(y))), binary("eq", var(y), plus_one(var(x)))]
            plain += rels
            if x.instance == y.instance:
                local.setdefault(x.instance, []).extend(rels)
    lens = [binary("eq", ir.ChanLen(c, IntType(0, c.capacity), _SPAN), lit(0, IntType(0, 0))) for c in model.channels]

    for e, _ in enums:
        assert isinstance(e.type, EnumType)
        for m in e.type.members:
            add(binary("ne", e, lit(m, e.type)), "enum")
    for atom in plain:
        add(atom, "bool" if isinstance(atom.type, BoolType) and _is_view(atom) or (
            isinstance(atom, ir.Unary) and _is_view(atom.arg)) else "rel")

    # Slots: messages in flight vs the state, and vs their own fields.
    for c, slot, guard in in_flight(model):
        fields = list(c.message.fields)
        for f, ft in c.message.fields:
            fe = ir.Field(slot, f, ft, _SPAN)
            if isinstance(ft, BoolType):
                add(implies(guard, neg(fe)), "slot")
            elif isinstance(ft, BitVecType):
                for x in numbers:
                    if x.type == ft:
                        for r in _relations(fe, var(x)):
                            add(implies(guard, r), "slot")
        for j, (f, ft) in enumerate(fields):
            for g, gt in fields[j + 1:]:
                if isinstance(ft, BitVecType) and ft == gt:
                    for r in _relations(ir.Field(slot, f, ft, _SPAN), ir.Field(slot, g, gt, _SPAN)):
                        add(implies(guard, r), "slot")

    # Message shapes: what the senders never put in one message (`rst ==> len == 0`,
    # `syn ==> !fin`): without them induction starts from segments no transition can send.
    for c, slot, guard in in_flight(model):
        flags = [(f, ft) for f, ft in c.message.fields if isinstance(ft, BoolType)]
        ints = [(f, ft) for f, ft in c.message.fields if isinstance(ft, IntType)]
        for f, ft in flags:
            fe = ir.Field(slot, f, ft, _SPAN)
            for cond in (fe, neg(fe)):
                for g, gt in flags:
                    if g != f:
                        ge = ir.Field(slot, g, gt, _SPAN)
                        add(implies(guard, implies(cond, ge)), "shape")
                        add(implies(guard, implies(cond, neg(ge))), "shape")
                for g, gt in ints:
                    assert isinstance(gt, IntType)
                    if gt.lo is None:
                        continue
                    low = lit(gt.lo, IntType(gt.lo, gt.lo))
                    add(implies(guard, implies(cond, binary("eq", ir.Field(slot, g, gt, _SPAN), low))), "shape")

    # Conditioned on an enum variable's value (also: the bool fields of messages in flight).
    slot_bools: list[ir.Expr] = [
        implies(guard, neg(ir.Field(slot, f, ft, _SPAN)))
        for c, slot, guard in in_flight(model)
        for f, ft in c.message.fields
        if isinstance(ft, BoolType)
    ]
    for e, inst in enums:
        assert isinstance(e.type, EnumType)
        for m in e.type.members:
            cond = binary("eq", e, lit(m, e.type))
            for other, _ in enums:
                if other is e:
                    continue
                assert isinstance(other.type, EnumType)
                for m2 in other.type.members:
                    add(implies(cond, binary("ne", other, lit(m2, other.type))), "cond")
            for atom in lens + local.get(inst, []) + slot_bools:
                add(implies(cond, atom), "cond")
    # Conditioned on a bool variable (a ghost flag such as `opened`): the same instance's atoms
    # and enum values. `!opened ==> snd_una == iss` is what lets induction see through CLOSED,
    # which is both "not opened yet" and "done".
    for b, inst in bools:
        own = [e for e, i in enums if i == inst]
        for cond in (b, neg(b)):
            for e in own:
                assert isinstance(e.type, EnumType)
                for m in e.type.members:
                    add(implies(cond, binary("ne", e, lit(m, e.type))), "cond")
            for atom in local.get(inst, []):
                if atom is not cond and show(atom) not in (show(b), show(neg(b))):
                    add(implies(cond, atom), "cond")
    return out


def _views(model: ir.Model, kind: type) -> list[tuple[ir.Expr, str]]:
    """The state's scalars of one kind (bool or enum), with their instance: variables, and the
    elements of maps (`votes[2]`) and the membership bits of sets (`2 in seen`), which the
    prover treats like variables of their own."""
    out: list[tuple[ir.Expr, str]] = []
    for v in model.state_vars:
        t = v.type
        if isinstance(t, kind):
            out.append((var(v), v.instance))
        elif isinstance(t, MapType) and isinstance(t.value, kind):
            out += [(ir.MapRead(var(v), lit(k, t.key), t.value, _SPAN), v.instance) for k in t.keys()]
        elif isinstance(t, SetType) and kind is BoolType:
            out += [(ir.Member(lit(k, t.elem), var(v), _BOOL, _SPAN), v.instance) for k in t.elems()]
    return out


def _root(e: ir.Expr) -> str:
    """The state variable a view reads."""
    while not isinstance(e, ir.Var):
        e = e.map if isinstance(e, ir.MapRead) else e.set  # type: ignore[attr-defined]
    return e.var.name


def _is_view(e: ir.Expr) -> bool:
    return isinstance(e, (ir.Var, ir.MapRead, ir.Member))


# ---------------------------------------------------------------- filtering by simulation

SAMPLE_STATES = 5000
SAMPLE_SECONDS = 3.0


def sample_states(model: ir.Model, seconds: float | None = None, seed: int = 0, limit: int | None = None) -> list[dict]:  # type: ignore[type-arg]
    """Reachable states met by random runs of the interpreter (in-range steps only); [] on trouble.

    `seconds` is this process's CPU time, not the clock's: a busy machine samples the same states
    as an idle one (the seed is fixed), so the prover gets the same candidates and the same
    proof. By the clock, a loaded machine cut the sample short, more weak candidates survived,
    and Houdini took more rounds exactly when CPU was scarce."""
    import random
    import time

    from tcpspec.interp import semantics as interp

    rng = random.Random(seed)
    clock = time.process_time
    deadline = clock() + (SAMPLE_SECONDS if seconds is None else seconds)
    out: list[dict] = []  # type: ignore[type-arg]
    try:
        inits = interp.initial_states(model)
        if not inits:
            return []
        out += inits[:50]
        while clock() < deadline and len(out) < (SAMPLE_STATES if limit is None else limit):
            state = rng.choice(inits)
            for _ in range(rng.randint(5, 40)):
                steps = [s for s in interp.successors(model, state) if s.outcome.range_ok and s.outcome.state is not None]
                if not steps or clock() >= deadline:
                    break
                state = rng.choice(steps).outcome.state  # type: ignore[assignment]
                out.append(state)
    except (values.InterpError, KeyError, TypeError, ValueError):
        return []
    return out


def sample_filter(model: ir.Model, cands: list[Candidate], states: list[dict]) -> list[Candidate]:  # type: ignore[type-arg]
    """Drop candidates that fail in one of `states` (reachable states: never drops an invariant).

    Saves the prover most of its rounds. Each candidate is evaluated once per distinct value of
    the variables and channels it reads (`CandidateEvaluator`; random runs revisit those far
    more often than whole states). Any trouble evaluating: no filtering.
    """

    try:
        evaluator = CandidateEvaluator({id(c): c.expr for c in cands})
        alive: set[Hashable] = {id(c) for c in cands}
        for state in states:
            alive -= evaluator.broken(state, alive)
    except (values.InterpError, KeyError, TypeError, ValueError):
        return cands
    return [c for c in cands if id(c) in alive]


class CandidateEvaluator:
    """Candidates' concrete truth in states, each group of candidates that read the same
    variables evaluated once per distinct value of those variables (sampled states revisit
    them, and a step changes a few variables, so most groups are answered from the memo).

    The memo keeps which candidates alive at the time were false: across calls on one
    evaluator, `alive` may only shrink (as it does in every filter and Houdini search)."""

    def __init__(self, candidates: Mapping[Hashable, ir.Expr]):
        pass

        groups: dict[tuple[str, ...] | None, list[tuple[Hashable, Callable[[evaluate.Env], object]]]] = {}
        for key, expr in candidates.items():
            groups.setdefault(ir.state_reads(expr), []).append((key, evaluate.compile_expr(expr)))
        # What a group's memo is keyed by: the frozen values it reads (the whole state if None).
        self._groups = [(_image_of(names), group) for names, group in groups.items()]
        self._memo: list[dict[object, frozenset[Hashable]]] = [{} for _ in self._groups]

    def broken(self, state: Mapping[str, object], alive: set[Hashable]) -> set[Hashable]:
        """The candidates of `alive` false in `state`. Raises values.InterpError on trouble."""

        frozen = {k: values.freeze(v) for k, v in state.items()}
        env = evaluate.Env(pre=state)  # type: ignore[arg-type]
        out: set[Hashable] = set()
        for (image_of, group), memo in zip(self._groups, self._memo):
            image = image_of(frozen)
            false = memo.get(image)
            if false is None:
                false = frozenset(key for key, f in group if key in alive and f(env) is not True)
                memo[image] = false
            if false:
                out |= false & alive
        return out


def _image_of(names: tuple[str, ...] | None) -> Callable[[dict[str, object]], object]:
    """The key of a frozen state for candidates reading `names` (itemgetter: the filter's hot loop)."""
    import operator

    if names is None:
        return lambda frozen: tuple(sorted(frozen.items()))
    if not names:
        return lambda frozen: ()
    return operator.itemgetter(*names)


def _reads(e: ir.Expr) -> tuple[str, ...] | None:
    """The state variables and channels `e` reads, sorted; None if it reads anything else."""
    names: set[str] = set()
    todo = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, ir.Var) and not x.primed:
            names.add(x.var.name)
        elif isinstance(x, (ir.ChanLen, ir.ChanSlot)):
            names.add(x.channel.name)
        elif isinstance(x, ir.Field):
            todo.append(x.base)
        elif isinstance(x, (ir.Unary, ir.Convert)):
            todo.append(x.arg)
        elif isinstance(x, ir.Binary):
            todo += [x.left, x.right]
        elif isinstance(x, ir.Ite):
            todo += [x.cond, x.then, x.else_]
        elif isinstance(x, ir.RecordLit):
            todo += [f for _, f in x.fields]
        elif isinstance(x, ir.MapRead):
            todo += [x.map, x.key]
        elif isinstance(x, ir.Member):
            todo += [x.elem, x.set]
        elif isinstance(x, ir.Card):
            todo.append(x.set)
        elif not isinstance(x, ir.Lit):
            return None  # a primed variable, a parameter or a message: the whole state
    return tuple(sorted(names))


def interval_candidates(model: ir.Model, states: list[dict], first: int = 0) -> list[Candidate]:  # type: ignore[type-arg]
    """Family `diff`: `lo <= y - x && y - x <= hi` (signed sequence-number distance) for pairs of
    an instance's variables and for message fields in flight vs every variable, the bounds taken
    from the sampled states (and a looser variant). Serial `<=` alone is not transitive; a
    bounded distance is what wrap-around proofs need."""
    from tcpspec.core.types import to_signed

    if not states:
        return []
    numbers = [v for v in model.state_vars if isinstance(v.type, BitVecType)]
    pairs: list[tuple[ir.Expr, ir.Expr, ir.Expr | None]] = []  # (x, y, guard)
    for i, x in enumerate(numbers):
        for y in numbers[i + 1:]:
            if x.type == y.type and x.instance == y.instance:
                pairs.append((var(x), var(y), None))
    for c, slot, guard in in_flight(model):
        for f, ft in c.message.fields:
            if isinstance(ft, BitVecType):
                for x in numbers:
                    if x.type == ft:
                        pairs.append((var(x), ir.Field(slot, f, ft, _SPAN), guard))
    out: list[Candidate] = []
    for x, y, guard in pairs:
        t = x.type
        assert isinstance(t, BitVecType)
        lo = hi = None
        for state in states:
            env = evaluate.Env(pre=state)
            if guard is not None and evaluate.eval_expr(guard, env) is not True:
                continue
            d = to_signed((evaluate.eval_expr(y, env) - evaluate.eval_expr(x, env)) % t.modulus, t.width)  # type: ignore[operator]
            lo = d if lo is None else min(lo, d)
            hi = d if hi is None else max(hi, d)
        if lo is None or hi is None or max(abs(lo), abs(hi)) > (1 << (t.width - 4)):
            continue
        diff = ir.Binary("seqdiff", y, x, IntType(), _SPAN)
        for a, b in ((lo, hi), (min(lo, 0), max(4 * hi, 0)), (4 * min(lo, 0), max(4 * hi, 0))):
            body = binary("and", binary("le", lit(a, IntType(a, a)), diff), binary("le", diff, lit(b, IntType(b, b))))
            e = body if guard is None else implies(guard, body)
            if not any(show(c.expr) == show(e) for c in out):
                out.append(Candidate(f"lemma_{first + len(out)}", e, "diff"))
    return out
