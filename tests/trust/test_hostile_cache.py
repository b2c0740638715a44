"""Hostile proof-cache entries: whatever a cache holds (written by another branch's CI job, an
attacker, a crash), the verdict is the one `--no-cache` gives. The model is the counters of
tests/data with `x_small` made false (x runs to 5), so every entry below claims a proof of a
violated invariant; each is planted with the digest header a genuine entry carries, so that
it reaches the certificate reader instead of being dropped for its name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tcpspec.proof import cache as proof_cache
from tcpspec.engines.prover import prove
from tcpspec.run.pipeline import CheckOptions, check_model, load_model

ROOT = Path(__file__).resolve().parents[2]
COUNTERS = (ROOT / "tests" / "data" / "counters.tcpspec").read_text()
RUNAWAY = COUNTERS.replace("transition tick when y < 3", "transition tick when y < 5")
HEAD = ("// tcpspec proof certificate for the model\n"
        "// transition (1-inductive); it implies the proved properties:\n"
        "//   x_small\n")
# The attack of issue 39: a contradictory invariant, made vacuous by declarations that leave
# the model with no initial state.
NO_INIT = "process Evil() { var a: 0..3; var b: 0..3 = a + 4; }\ninstance evil = Evil();\n"

ENTRIES = {
    "vacuous": HEAD + "invariant f: false;\n" + NO_INIT,
    "contradictory": HEAD + "invariant f: false;\ninvariant g: p.x == 0 && p.x == 1;\n",
    "extra_const": HEAD + "invariant x_small: p.x <= 3;\nconst EVIL = 1;\n",
    "extra_var_and_init": HEAD + "invariant x_small: p.x <= 3;\n"
                                 "process Q() { var z: bool = false; transition t { z := true; } }\n"
                                 "instance q = Q();\n",
    "extra_init_only": HEAD + "invariant x_small: p.x <= 3;\n" + NO_INIT,
    "import": 'import "/etc/hostname";\n' + HEAD + "invariant x_small: p.x <= 3;\n",
    "two_on_a_line": HEAD + "invariant x_small: p.x <= 3; process Evil() { var a: 0..3; var b: 0..3 = a + 4; }\n"
                            "instance evil = Evil();\n",
    "fairness_and_depth": HEAD + "invariant x_small: p.x <= 3;\ndepth 0;\nfair p;\n",
    "truncated": HEAD + "invariant x_small: p.x <=",
    "not_a_certificate": "\x00\xff garbage",
    "step_claim": HEAD.replace("x_small", "p.tick_moves_both") + "invariant f: false;\n" + NO_INIT,
}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(proof_cache.ENV_OFF, raising=False)
    monkeypatch.setenv(proof_cache.ENV_DIR, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def runaway(tmp_path: Path) -> str:
    path = tmp_path / "runaway.tcpspec"
    path.write_text(RUNAWAY)
    return str(path)


def _plant(cache: Path, model_path: str, body: str, folder: str = "proofs", theory: str = "auto") -> Path:
    m = load_model(model_path)
    name = (proof_cache.key(m, theory) if folder != "latest" else proof_cache.lineage_key(m, theory)) + ".cert"
    where = cache / folder
    where.mkdir(parents=True, exist_ok=True)
    entry = where / name
    entry.write_text(f"{proof_cache._FOR_DIGEST}{proof_cache.digest(m, theory)}\n{body}")
    return entry


def _verdicts(path: str, engine: str) -> dict[str, str]:
    m = load_model(path)
    return {r.property: r.verdict.value for r in check_model(m, CheckOptions(engine=engine, depth=6, keep_going=True))}


@pytest.fixture(scope="module")
def honest() -> dict[str, str]:
    """The verdicts with no cache at all."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "runaway.tcpspec")
        Path(path).write_text(RUNAWAY)
        old = os.environ.get(proof_cache.ENV_OFF)
        os.environ[proof_cache.ENV_OFF] = "1"
        try:
            got = _verdicts(path, "kind")
        finally:
            if old is None:
                del os.environ[proof_cache.ENV_OFF]
            else:
                os.environ[proof_cache.ENV_OFF] = old
    assert got["x_small"] == "violated" and got["p.tick_moves_both"] == "proved"
    return got


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_a_hostile_certificate_proves_nothing(cache: Path, runaway: str, name: str) -> None:
    _plant(cache, runaway, ENTRIES[name])
    m = load_model(runaway)
    out = prove(m, [m.property("x_small")], 60)
    assert not out["x_small"].proved, out["x_small"].detail


@pytest.mark.parametrize("name", ["vacuous", "extra_init_only", "two_on_a_line", "step_claim"])
def test_a_hostile_certificate_leaves_the_verdicts_alone(cache: Path, runaway: str, name: str,
                                                         honest: dict[str, str]) -> None:
    _plant(cache, runaway, ENTRIES[name])
    assert _verdicts(runaway, "kind") == honest


@pytest.mark.parametrize("name", ["vacuous", "extra_init_only"])
def test_a_hostile_earlier_version_proves_nothing(cache: Path, runaway: str, name: str) -> None:
    """The `latest` entry, tried for an edited model file, is read the same way."""
    _plant(cache, runaway, ENTRIES[name], folder="latest")
    m = load_model(runaway)
    out = prove(m, [m.property("x_small")], 60)
    assert not out["x_small"].proved, out["x_small"].detail


def test_another_models_genuine_proof_is_not_taken(cache: Path, runaway: str, tmp_path: Path) -> None:
    """A real entry of the counters (where x_small holds), copied under the runaway's key."""
    good = tmp_path / "counters.tcpspec"
    good.write_text(COUNTERS)
    m = load_model(str(good))
    assert prove(m, [m.property("x_small")], 60)["x_small"].proved
    (entry,) = (cache / "proofs").glob("*.cert")
    bad = load_model(runaway)
    target = cache / "proofs" / f"{proof_cache.key(bad, 'auto')}.cert"
    target.write_text(entry.read_text())  # its digest line names the other model
    assert proof_cache.load(bad, "auto") is None
    # With the digest line rewritten, the certificate itself is read, and fails its re-check.
    body = entry.read_text().partition("\n")[2]
    _plant(cache, runaway, body)
    assert proof_cache.load(bad, "auto") is not None
    assert not prove(bad, [bad.property("x_small")], 60)["x_small"].proved


def test_an_entry_without_the_digest_line_is_ignored(cache: Path, runaway: str) -> None:
    m = load_model(runaway)
    (cache / "proofs").mkdir(parents=True)
    (cache / "proofs" / f"{proof_cache.key(m, 'auto')}.cert").write_text(ENTRIES["vacuous"])
    assert proof_cache.load(m, "auto") is None


@pytest.mark.parametrize("target", ["/dev/zero", "elsewhere"])
def test_a_symlinked_entry_is_not_followed(cache: Path, runaway: str, tmp_path: Path, target: str) -> None:
    m = load_model(runaway)
    if target == "elsewhere":
        other = tmp_path / "planted.cert"
        other.write_text(f"{proof_cache._FOR_DIGEST}{proof_cache.digest(m, 'auto')}\n{ENTRIES['vacuous']}")
        target = str(other)
    for folder, name in (("proofs", proof_cache.key(m, "auto") + ".cert"),
                         ("witnesses", proof_cache.key(m, "auto") + ".json")):
        (cache / folder).mkdir(parents=True, exist_ok=True)
        (cache / folder / name).symlink_to(target)
    assert proof_cache.load(m, "auto") is None and proof_cache.load_witnesses(m, "auto") == {}
    assert not prove(m, [m.property("x_small")], 60)["x_small"].proved


def test_a_deeply_nested_witness_entry_is_ignored(cache: Path, runaway: str) -> None:
    m = load_model(runaway)
    (cache / "witnesses").mkdir(parents=True)
    nested = '{"three": {"loop": null, "steps": ' + "[" * 5000 + "]" * 5000 + "}}"
    (cache / "witnesses" / f"{proof_cache.key(m, 'auto')}.json").write_text(
        f"{proof_cache._FOR_DIGEST}{proof_cache.digest(m, 'auto')}\n{nested}")
    assert proof_cache.load_witnesses(m, "auto") == {}
    got = {r.property: r for r in check_model(m, CheckOptions(engine="bmc", depth=6, keep_going=True))}
    assert got["three"].verdict.value == "reached" and got["three"].depth == 3
    assert got["x_small"].verdict.value == "violated"


def test_the_cli_reports_the_violation_through_a_poisoned_cache(cache: Path, runaway: str) -> None:
    """The reproduction of issue 39, end to end: the default engine and `kind`."""
    for theory in ("auto", "int", "bv"):
        _plant(cache, runaway, ENTRIES["vacuous"], theory=theory)
    env = dict(os.environ, **{proof_cache.ENV_DIR: str(cache)})
    env.pop(proof_cache.ENV_OFF, None)
    for engine in ("auto", "kind"):
        proc = subprocess.run([sys.executable, "-m", "tcpspec", "check", runaway, "--engine", engine,
                               "--prop", "x_small", "--depth", "6"],
                              capture_output=True, text=True, timeout=600, env=env)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "violated" in proc.stdout and "proof cache" not in proc.stdout
