"""Symmetry across a family (engines/family_symmetry.py, engines/explicit_symmetry.py): the
explicit search keeps one state per orbit of the permutations Z3 verified, with the same
verdicts, depths and replayed traces as without; a model whose permutations are not
automorphisms (an order on the indices, a member named in a property, --values for one member)
is not reduced."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from lang_support import check

from tcpspec.checker import ir
from tcpspec.engines import family_symmetry
from tcpspec.engines.explicit import ExplicitOptions, run_explicit
from tcpspec.interp.search import replay
from tcpspec.run.pipeline import load_model
from tcpspec.core.results import PropertyResult, Verdict

ROOT = Path(__file__).resolve().parents[2]
TPC = str(ROOT / "models" / "two_phase_commit.tcpspec")


def _run(model: ir.Model, depth: int = 30, props: list[ir.Property] | None = None, search: str = "bfs",
         **options: object) -> dict[str, PropertyResult]:
    opts = ExplicitOptions(search=search, **options)  # type: ignore[arg-type]
    chosen = list(model.properties) if props is None else props
    return {r.property: r for r in run_explicit(model, chosen, depth, 120.0, opts, keep_going=True)}


def _same_verdicts(model: ir.Model, depth: int = 30, props: list[ir.Property] | None = None,
                   **options: object) -> tuple[dict[str, PropertyResult], dict[str, PropertyResult]]:
    """Both runs, after asserting equal verdicts and depths, and every trace replaying."""
    on = _run(model, depth, props, **options)
    off = _run(model, depth, props, symmetry=False, **options)
    assert {k: (r.verdict, r.depth) for k, r in on.items()} == {k: (r.verdict, r.depth) for k, r in off.items()}
    for name, r in on.items():
        if r.trace is not None:
            assert replay(model, r.trace, model.property(name), require_first=True).ok, name
    return on, off


def test_two_phase_commit_is_searched_up_to_permutations_of_its_participants() -> None:
    m = load_model(TPC, {"N": "3"})
    # The targets only (the deepest at the diameter): no certificate to re-check.
    on, off = _same_verdicts(m, props=[m.property("all_committed"), m.property("all_aborted")])
    s_on, s_off = on["all_committed"].search, off["all_committed"].search
    assert s_on is not None and s_off is not None
    assert s_off["states"] == 3159 and s_off["symmetry"] == "none (--no-symmetry)"
    # 3159 states fall into 600 orbits (not 3159/6: states with tied members have smaller orbits)
    assert s_on["states"] == 600 and s_on["diameter"] == s_off["diameter"] == 11
    assert "rm, to_rm (3! = 6 permutations)" in str(s_on["symmetry"])
    assert on["all_committed"].depth == 11 and on["all_aborted"].depth == 4


@pytest.mark.slow
def test_two_phase_commit_is_proved_with_a_certificate_over_the_orbits() -> None:
    """The certificate is the reachable states (the orbits of the canonical ones), re-checked."""
    m = load_model(TPC, {"N": "3"})
    r = _run(m, props=[m.property("agreement")])["agreement"]
    assert r.verdict is Verdict.PROVED and "up to symmetry of rm" in r.detail and "certificate re-checked" in r.detail


def test_the_broken_copy_gives_the_same_shortest_counterexamples() -> None:
    m = load_model(str(ROOT / "models" / "broken" / "two_phase_commit_quorum.tcpspec"))
    on, _ = _same_verdicts(m, props=[m.property(n) for n in ("agreement", "validity", "all_committed")])
    assert on["agreement"].verdict is Verdict.VIOLATED and on["agreement"].depth == 8


MEMBER_PROPS = """\
const N = 3;
enum S { IDLE, BUSY, DONE }
message Tok { who: 0..N-1 }
channel pool: Tok[N];

process W(out: chan Tok) {
  var s: S = IDLE;
  transition go when s == IDLE && (count j in 0..N-1: w[j].s == BUSY) < 2 {
    s := BUSY;
    send out Tok { who: self };
  }
  transition finish when s == BUSY { s := DONE; }
  /// Violated by every member (depth 2): each needs its own trace.
  invariant never_done: s != DONE;
  /// Violated by every member's `finish` (a step property per member).
  step stays_busy: when s == BUSY ensure s' == BUSY;
}

process Sink(inbox: chan Tok) {
  var got: set of 0..N-1 = {};
  transition take receive t from inbox { got := got + {t.who}; }
}

instance w[i in 0..N-1] = W(out: pool);
instance sink = Sink(inbox: pool);

invariant at_most_two_busy: (count j in 0..N-1: w[j].s == BUSY) <= 2;
reachable all_done: forall j in 0..N-1: w[j].s == DONE && j in sink.got;
"""


@pytest.mark.parametrize("search", ["bfs", "dfs"])
def test_each_members_violation_gets_its_own_replayed_trace(search: str) -> None:
    """The search meets only one member's violation in canonical states; the others are found
    as its images, their runs mapped through the permutation and replayed."""
    m = check(MEMBER_PROPS)
    on = _run(m, 12, search=search)
    for i in range(3):
        for name in (f"w[{i}].never_done", f"w[{i}].stays_busy"):
            r = on[name]
            assert r.verdict is Verdict.VIOLATED and r.trace is not None, (name, r.detail)
            assert replay(m, r.trace, m.property(name), require_first=True).ok
            assert f"w[{i}]." in (r.trace.steps[-1].transition or ""), name
    if search == "bfs":
        _same_verdicts(m, 12)
        assert on["w[1].never_done"].depth == 2 and on["all_done"].verdict is Verdict.REACHED


ORDERED = """\
const N = 3;
message Id { v: 0..N-1 }
channel ring[N]: Id[2];

// Chang-Roberts' comparison of identifiers: a member forwards only larger ones.
process Node(inbox: chan Id, out: chan Id) {
  var leader: bool = false;
  var sent: bool = false;
  transition start when !sent { send out Id { v: self }; sent := true; }
  transition pass receive m from inbox when m.v > self { send out m; }
  transition drop receive m from inbox when m.v < self { skip; }
  transition elect receive m from inbox when m.v == self { leader := true; }
}

instance node[i in 0..N-1] = Node(inbox: ring[i], out: ring[if i == N - 1 then 0 else i + 1]);

invariant one_leader: (count j in 0..N-1: node[j].leader) <= 1;
reachable elected: exists j in 0..N-1: node[j].leader;
"""


def test_an_order_on_the_indices_is_not_a_symmetry() -> None:
    m = check(ORDERED)
    v = family_symmetry.verify(m, m.properties)
    assert v.proposal is None and "transition node[" in v.reason
    on, off = _same_verdicts(m, 20)
    assert on["one_leader"].search is not None and off["one_leader"].search is not None
    assert on["one_leader"].search["states"] == off["one_leader"].search["states"]
    assert str(on["one_leader"].search["symmetry"]).startswith("none (")


def test_a_property_naming_one_member_is_not_a_symmetry() -> None:
    m = check(MEMBER_PROPS + "invariant first_not_done: w[0].s != DONE;\n")
    v = family_symmetry.verify(m, m.properties)
    assert v.proposal is None and "first_not_done" in v.reason
    # Without it (its property set permuted onto itself), the same model is reduced.
    kept = [p for p in m.properties if p.name != "first_not_done"]
    assert family_symmetry.verify(m, kept).proposal is not None
    assert family_symmetry.verify(m, [p for p in kept if p.name != "w[1].never_done"]).proposal is None


def test_values_for_one_member_only_are_not_symmetric(tmp_path: Path) -> None:
    text = MEMBER_PROPS.replace("transition finish when s == BUSY", "transition finish choose k: 0..3 when s == BUSY && k > 0")
    m = check(text)
    on = _run(m, 12, values={"w[0].finish.k": [0, 1]})
    r = on["at_most_two_busy"]
    assert r.search is not None and "--values differ" in str(r.search["symmetry"])
    assert "up to symmetry" in _run(m, 12)["at_most_two_busy"].detail


# ---------------------------------------------------------------- random family models

SYM_ATOMS = ["s == A", "s == B", "f", "!f", "peer == self", "w[peer].s == C", "self in hub.seen",
             "(exists j in 0..N-1: w[j].s == B)", "(count j in 0..N-1: w[j].f) >= 1",
             "(forall j in 0..N-1: w[j].s != C)", "hub.last == self"]
ASYM_ATOMS = ["self == 0", "self < peer", "w[0].s == A", "peer < N - 1", "hub.last < self"]
STMTS = ["s := B;", "s := C;", "s := A;", "f := !f;", "send out M { who: self, v: f };",
         "send out M { who: peer, v: !f };"]
PROPS = ["invariant inv{n}: !(forall j in 0..N-1: w[j].s == C);",
         "invariant inv{n}: (count j in 0..N-1: w[j].f) <= 1;",
         "invariant inv{n}: !(exists j in 0..N-1: w[j].s == C && w[j].f);",
         "reachable tgt{n}: (count j in 0..N-1: w[j].s == B) == 2;",
         "reachable tgt{n}: forall j in hub.seen: w[j].f;"]


def _random_model(rng: random.Random, asym: bool) -> str:
    def guard() -> str:
        pool = SYM_ATOMS + (ASYM_ATOMS if asym else [])
        return " && ".join(rng.sample(pool, rng.randint(1, 2)))

    def body() -> str:
        return " ".join(rng.sample(STMTS, rng.randint(1, 2)))

    props = "\n".join(t.format(n=k) for k, t in enumerate(rng.sample(PROPS, 3)))
    local = rng.choice(["invariant loc: s != C || f;", "invariant loc: !(s == B && peer == self && f);"])
    return f"""\
const N = {rng.choice([2, 3])};
enum S {{ A, B, C }}
message M {{ who: 0..N-1, v: bool }}
channel box: M[2];
channel inb[N]: M[1];

process W(inbox: chan M, out: chan M) {{
  var s: S = A;
  var f: bool = false;
  var peer: 0..N-1 = self;
  transition t0 when s == A && !f {{ f := true; send out M {{ who: self, v: true }}; }}
  transition t1 when {guard()} {{ {body()} }}
  transition t2 choose k: 0..N-1 when {guard()} {{ peer := k; {rng.choice(STMTS)} }}
  transition t3 receive m from inbox when {guard()} {{ f := m.v; }}
  {local}
}}

process Hub(outs: chan M[N], inbox: chan M) {{
  var seen: set of 0..N-1 = {{}};
  var last: 0..N-1;
  transition take receive m from inbox {{ seen := seen + {{m.who}}; last := m.who; send outs[m.who] M {{ who: m.who, v: m.v }}; }}
}}

instance hub = Hub(outs: inb, inbox: box);
instance w[i in 0..N-1] = W(inbox: inb[i], out: box);
{props}
"""


@pytest.mark.parametrize("seed", range(12))
def test_random_family_models_keep_their_verdicts(seed: int) -> None:
    """Differential: the same verdicts, depths and replayed traces with and without symmetry;
    the reduced search never visits more states; a model with an asymmetric atom is reduced
    only when Z3 verifies it anyway."""
    rng = random.Random(seed)
    m = check(_random_model(rng, asym=seed % 3 == 0))
    on, off = _same_verdicts(m, 14, max_states=200_000)
    a, b = next(iter(on.values())).search, next(iter(off.values())).search
    assert a is not None and b is not None
    assert a["states"] <= b["states"]
    if not str(a["symmetry"]).startswith("none"):
        assert a["states"] < b["states"]


def test_the_searched_permutation_is_the_one_z3_verified() -> None:
    """The search permutes the interpreter's states (`Permuter`), Z3 verified a substitution of
    terms (`_pairs`): on reachable states of 2PC they must be the same map, for the generators
    and for other permutations (a cube of the state, substituted, is the cube of its image)."""
    import z3

    from tcpspec.engines.explicit import explore
    from tcpspec.engines.explicit_cert import _Anchors, _Cube
    from tcpspec.engines.seqspace import Independence
    from tcpspec.encoding.theories import choose_theory
    from tcpspec.encoding.transition_system import TransitionSystem, _substituter

    m = load_model(TPC, {"N": "3"})
    _, _, search = explore(m, [m.property("all_committed")], 30, 120.0, ExplicitOptions(symmetry=False))
    states = search.kept
    assert states is not None and len(states) > 1000
    prop = family_symmetry.verify(m, m.properties).proposal
    assert prop is not None and prop.values
    ts = TransitionSystem(m, choose_theory(m, "auto"))
    names, perm = family_symmetry.Renaming(m, prop), family_symmetry.Permuter(m, prop)
    anchors = _Anchors(m, Independence(m))
    rng = random.Random(7)
    for p in [(1, 0, 2), (1, 2, 0), (2, 0, 1), (0, 2, 1)]:
        pairs = family_symmetry._pairs(ts, names, p)
        apply = _substituter(pairs)
        for st in rng.sample(states, 25) + states[-5:]:
            image = perm.apply(st, p)
            assert image != st or p == perm.identity or all(st[k] == image[k] for k in st)
            here = _Cube(m, anchors, st).term(ts, 0, st)
            there = apply(_Cube(m, anchors, image).term(ts, 0, image))
            s = z3.Solver()
            s.add(ts.well_formed(0), z3.Not(here == there))
            assert s.check() == z3.unsat, (p, st)


def test_the_command_line_reports_and_turns_off_the_symmetry() -> None:
    import json
    import subprocess
    import sys

    def run(*extra: str) -> dict[str, object]:
        out = subprocess.run([sys.executable, "-m", "tcpspec", "check", TPC, "-D", "N=3", "--engine", "explicit",
                              "--prop", "all_committed", "--no-cache", "--format", "json", *extra],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        (r,) = json.loads(out.stdout)["results"]
        assert r["verdict"] == "reached" and r["depth"] == 11
        return r["search"]  # type: ignore[no-any-return]

    on, off = run(), run("--no-symmetry")
    assert (on["states"], on["symmetry"]) == (600, "rm, to_rm (3! = 6 permutations)")
    assert (off["states"], off["symmetry"]) == (3159, "none (--no-symmetry)")


def test_deadlocks_with_finals_keep_their_verdicts() -> None:
    """`--deadlock`: a member's final state moves with it; a final reading one member's index
    (`self == 0`) is not symmetric, and the search is then not reduced."""
    from tcpspec.engines.deadlock import with_deadlock

    for final, reduced in (("final rested: s == DONE;", True), ("final rested: s == DONE || self == 0;", False)):
        m = check(MEMBER_PROPS.replace("  invariant never_done", f"  {final}\n  invariant never_done"))
        props = [m.property("at_most_two_busy"), with_deadlock(m)]
        on = {r.property: r for r in run_explicit(m, props, 12, 120.0, ExplicitOptions(), keep_going=True)}
        off = {r.property: r for r in run_explicit(m, props, 12, 120.0, ExplicitOptions(symmetry=False), keep_going=True)}
        assert {k: (r.verdict, r.depth) for k, r in on.items()} == {k: (r.verdict, r.depth) for k, r in off.items()}
        sym = on["at_most_two_busy"].search["symmetry"]  # type: ignore[index]
        assert str(sym).startswith("none") is not reduced, sym
