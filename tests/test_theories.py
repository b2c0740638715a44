"""theories: which number representation a model gets, and when bit-vectors would be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcpspec.core.diagnostics import ModelError
from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.core.results import Verdict
from tcpspec.encoding.theories import choose_theory, wider_than_64_bits

ROOT = Path(__file__).resolve().parents[1]

# 3 * (2^62 - 1) * 4 is about 5.5e19: exact, the invariant fails in the initial state; in 64-bit
# two's complement it wraps to -12, and the bit-vector theory "proved" it.
OVERFLOW = """\
const BIG = 0x3FFFFFFFFFFFFFFF;
process P() { var x: 0..3 = 3; transition t when x > 0 { x := x - 1; } }
instance p = P();
invariant wrong: p.x == 3 ==> p.x * BIG * 4 < 0;
"""


def _model(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    f = tmp_path / "m.tcpspec"
    f.write_text(text)
    return load_model(str(f))


@pytest.mark.parametrize("engine", ["auto", "kind", "bmc"])
def test_an_integer_past_64_bits_is_computed_exactly(tmp_path: Path, engine: str) -> None:
    m = _model(tmp_path, OVERFLOW)
    assert choose_theory(m).name == "int"  # the model is small and bit-vector-free: bv otherwise
    res = {r.property: r for r in check_model(m, CheckOptions(engine=engine, depth=2))}
    assert (res["wrong"].verdict, res["wrong"].depth) == (Verdict.VIOLATED, 0)


def test_bv_on_a_model_past_64_bits_is_a_positioned_error(tmp_path: Path) -> None:
    m = _model(tmp_path, OVERFLOW)
    with pytest.raises(ModelError) as err:
        check_model(m, CheckOptions(engine="bmc", depth=2, theory="bv"))
    d = err.value.diagnostics[0]
    assert d.span is not None and (d.span.line, d.span.col) == (4, 31) and "64-bit" in d.message


def test_the_bound_is_exact(tmp_path: Path) -> None:
    """2^62 - 1 times 2 still fits (2^63 - 2); times 3 it does not."""
    fits = OVERFLOW.replace("p.x * BIG * 4 < 0", "p.x * 0 + BIG * 2 > 0")
    assert wider_than_64_bits(_model(tmp_path, fits)) is None
    past = OVERFLOW.replace("p.x * BIG * 4 < 0", "BIG * 2 + p.x > 0")
    assert wider_than_64_bits(_model(tmp_path, past)) is not None


def test_no_library_model_is_past_64_bits() -> None:
    for path in sorted((ROOT / "models").rglob("*.tcpspec")):
        assert wider_than_64_bits(load_model(str(path))) is None, path
