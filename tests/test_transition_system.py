"""Steps and property terms at depth k are step 0's renamed (`z3.substitute`): they must be the
very terms the encoder builds for depth k directly (Z3 hash-conses terms, so `z3.eq`)."""

from __future__ import annotations

import pytest
import z3

from tcpspec.checker import ir
from tcpspec.encoding import encoder as enc
from tcpspec.run.pipeline import load_model
from tcpspec.encoding.theories import choose_theory
from tcpspec.encoding.transition_system import TransitionSystem

MODELS = ["models/tcp.tcpspec", "models/seed_handshake.tcpspec", "models/two_phase_commit.tcpspec", "models/abp.tcpspec"]


@pytest.mark.parametrize("theory", ["int", "bv"])
@pytest.mark.parametrize("path", MODELS)
def test_renamed_steps_are_the_encoded_steps(path: str, theory: str) -> None:
    model = load_model(path)
    shifted = TransitionSystem(model, choose_theory(model, theory))
    direct = TransitionSystem(model, choose_theory(model, theory))
    for k in (3, 1, 2):  # out of order: step k must not depend on steps 1..k-1 existing
        a, b = shifted.step_at(k), direct._encode_step(k)
        assert z3.eq(a.trans, b.trans) and z3.eq(a.range_ok, b.range_ok) and z3.eq(a.act, b.act)
        for ea, eb in zip(a.effects, b.effects):
            assert all(z3.eq(x, y) for x, y in zip(ea.enabled, eb.enabled))
            for name, v in ea.post.items():
                w = eb.post[name]
                if isinstance(v, enc.ChanSym):
                    assert isinstance(w, enc.ChanSym) and z3.eq(v.length, w.length)
                    assert all(enc.same(x, y) for x, y in zip(v.slots, w.slots))
                else:
                    assert enc.same(v, w)  # type: ignore[arg-type]
            assert ea.sends.keys() == eb.sends.keys()
            assert all(z3.eq(ea.sends[c][0], eb.sends[c][0]) for c in ea.sends)


@pytest.mark.parametrize("path", MODELS)
def test_renamed_properties_are_the_encoded_properties(path: str) -> None:
    model = load_model(path)
    ts = TransitionSystem(model, choose_theory(model))
    for p in model.properties:
        for k in (2, 0, 1):
            if p.kind is ir.PropertyKind.STEP:
                assert z3.eq(ts.step_violated(p, k), ts._encode_step_violated(p, k)), (p.name, k)
            else:
                direct = enc.eval_expr(p.expr, enc.Env(th=ts.th, pre=ts.state_at(k)))
                assert z3.eq(ts.holds_at(p, k), direct), (p.name, k)  # type: ignore[arg-type]



def test_renaming_a_temporary_term_is_never_a_stale_answer() -> None:
    """The renamer memoises by AST id; Z3 gives a freed term's id to the next new term, so the
    memo must keep its keys alive (it once answered the rename of a dead term for a new one)."""
    from tcpspec.encoding.transition_system import _substituter

    x, y = z3.Ints("x y")
    sub = _substituter([(x, y)])
    for n in range(300):  # 3 stale answers of 300 before the fix
        t = z3.substitute(x * 2 + x * 3 + n, (x, x + 1)) if n % 2 else x * 5 - n
        assert z3.eq(sub(t), z3.substitute(t, (x, y)))
        del t  # freed: its id is free for the next term
