"""The static half of data independence (engines/seqspace.py): which sequence spaces there are,
which are independent, and why the others are not. (Whether the claim is right is tested
against BMC and the full enumeration in tests/trust/test_explicit_differential.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.checker import ir
from tcpspec.engines.seqspace import analyse
from tcpspec.interp.values import Opaque
from tcpspec.run.pipeline import load_model

ROOT = Path(__file__).resolve().parents[2]


def _model(tmp_path: Path, body: str, extra: str = "") -> ir.Model:
    path = tmp_path / "m.tcpspec"
    path.write_text("process P() {\n" + body + "\n}\ninstance p = P();\n" + extra)
    return load_model(str(path))


def test_tcp_has_one_space_per_endpoint() -> None:
    m = load_model(str(ROOT / "models" / "tcp.tcpspec"))
    ind = analyse(m, lambda key: False)
    assert [(s.seed, s.hidden) for s in ind.spaces] == [
        ("client.iss", ("server.irs", "server.rcv_nxt")), ("server.iss", ("client.irs", "client.rcv_nxt"))]
    client = ind.spaces[0].members
    # What the client sends is numbered in its space, what it acknowledges in the server's.
    assert "c2s.seq" in client and "s2c.ackno" in client and "c2s.ackno" not in client
    assert not ind.blocked
    # The message fields' default `ackno: 0` of a SYN is a constant of the space: opaque in the search.
    opaque = [s for t in ind.model.transitions if isinstance(t, ir.Transition) for s in t.body
              if isinstance(s, ir.Send) and isinstance(s.message, ir.RecordLit)
              and any(isinstance(e, ir.Lit) and isinstance(e.value, Opaque) for _, e in s.message.fields)]
    assert opaque, "the constant ackno of a SYN is not opaque"


def test_with_an_attacker_the_injected_numbers_are_a_sample() -> None:
    m = load_model(str(ROOT / "models" / "tcp.tcpspec"), {"ATTACK": "true"})
    ind = analyse(m, lambda key: False)
    assert all(s.partial and "injection" in s.partial for s in ind.spaces)
    assert not ind.covers("client.iss")


@pytest.mark.parametrize("body, why", [
    ("var s: seq8; var t: seq8 = 0;\n transition f when true { t := s - t; }", "converted to seq8"),
    ("var s: seq8; var n: 0..3 = 0;\n transition f when true { n := 0; }", None),
])
def test_what_breaks_independence(tmp_path: Path, body: str, why: str | None) -> None:
    """The type checker already refuses most of what is not shift-invariant (a sum of two
    sequence numbers, negation, a number minus a sequence number); what is left is a number
    computed from a difference and stored back as a sequence number."""
    ind = analyse(_model(tmp_path, body), lambda key: False)
    if why is None:
        assert ind.covers("p.s") and not ind.blocked
    else:
        assert not ind.covers("p.s") and why in ind.blocked["p.s"], ind.blocked


def test_a_comparison_joins_two_spaces_into_one(tmp_path: Path) -> None:
    apart = _model(tmp_path, "var s: seq8; var t: seq8;\n transition f when true { s := s + 1; }")
    assert [s.seed for s in analyse(apart, lambda key: False).spaces] == ["p.s", "p.t"]
    joined = _model(tmp_path, "var s: seq8; var t: seq8;\n transition f when s < t { s := s + 1; }")
    (space,) = analyse(joined, lambda key: False).spaces
    assert space.seed == "p.s" and space.hidden == ("p.t",)


def test_a_choose_parameter_counts_only_when_every_value_is_tried(tmp_path: Path) -> None:
    m = _model(tmp_path, "var s: seq8;\n transition f choose d: seq8 when true { s := d; }")
    assert analyse(m, lambda key: False).spaces[0].partial  # d is sampled
    assert not analyse(m, lambda key: key == ("param", "p.f", "d")).spaces[0].partial


def test_a_let_carries_its_value_into_its_space(tmp_path: Path) -> None:
    """`let` names a value of the space it was computed from: a flow like an assignment's (the
    TCP model's window arithmetic is written with lets)."""
    m = _model(tmp_path, "var s: seq8; var t: seq8;\n transition f when true { let n = s + 1; t := n; }")
    (space,) = analyse(m, lambda key: False).spaces
    assert space.seed == "p.s" and space.hidden == ("p.t",)
    bad = _model(tmp_path, "var s: seq8; var t: seq8 = 0;\n transition f when true { let d = s - t; t := d; }")
    assert not analyse(bad, lambda key: False).covers("p.s")
