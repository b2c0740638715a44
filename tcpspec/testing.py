"""pytest helpers for a project's own models: "this model proves", "this broken copy is refuted
at depth k". Each runs a check as `tcpspec check` does and, when the claim is false, fails with
the report (every property, every trace) as the assertion's message.

    from tcpspec.testing import assert_proves, assert_violated

    def test_the_protocol_is_safe():
        assert_proves("models/proto.tcpspec", kinds=["invariant", "step"])

    def test_the_off_by_one_copy_is_caught():
        assert_violated("models/broken/proto_ack_plus_one.tcpspec", "ack_rule", depth=3)

Works from a pytest test with no `__main__` guard anywhere, like the rest of the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tcpspec.api import Model, Report, Result, Source, check
from tcpspec.core.results import Verdict


def _fail(message: str, report: Report) -> None:
    __tracebackhide__ = True
    raise AssertionError(f"{message}\n\n{report.to_text(verbose=True)}")


def assert_proves(model: Model | Source, properties: str | Sequence[str] = (), *, engine: str = "auto",
                  **options: Any) -> Report:
    """Every selected property is `proved` (for every run, with a re-checked certificate), and
    every selected reachability target `reached`: no bounded `holds`, no unknown. `options`
    are `tcpspec.check`'s (`kinds`, `depth`, `timeout`, `defines` is not one: load first)."""
    __tracebackhide__ = True
    report = check(model, properties, engine=engine, **options)
    wrong = [r for r in report if r.verdict not in (Verdict.PROVED, Verdict.REACHED)]
    if wrong or not len(report):
        names = ", ".join(f"{r.property} ({r.verdict.value})" for r in wrong) or "nothing was checked"
        _fail(f"not proved: {names}", report)
    return report


def assert_holds(model: Model | Source, properties: str | Sequence[str] = (), *, depth: int | None = None,
                 engine: str = "auto", **options: Any) -> Report:
    """No selected property is violated, unreached or unknown: each is proved, reached, or holds
    within `depth` steps (a bounded check, weaker than `assert_proves`)."""
    __tracebackhide__ = True
    report = check(model, properties, engine=engine, depth=depth, **options)
    if not report.ok:
        _fail(f"does not hold: {report.summary()}", report)
    return report


def assert_violated(model: Model | Source, prop: str, depth: int | None = None, *, engine: str = "auto",
                    **options: Any) -> Result:
    """`prop` is violated, and when `depth` is given its shortest counterexample has exactly
    `depth` steps. The search goes `depth` steps deep (else the model's bound). Returns the
    result (its `trace` is the counterexample)."""
    __tracebackhide__ = True
    report = check(model, prop, engine=engine, depth=depth, **options)
    hits = [r for r in report if r.property == prop or r.property.split(".", 1)[-1] == prop]
    bad = [r for r in hits if r.verdict is Verdict.VIOLATED and (depth is None or r.depth == depth)]
    if not bad:
        got = ", ".join(f"{r.property}: {r.verdict.value}" + (f" at depth {r.depth}" if r.trace else "") for r in hits)
        want = f"violated at depth {depth}" if depth is not None else "violated"
        _fail(f"{prop}: expected {want}, got {got or 'no such result'}", report)
    return bad[0]


def assert_reached(model: Model | Source, target: str, depth: int | None = None, *, engine: str = "auto",
                   **options: Any) -> Result:
    """The reachability target `target` is reached, by a shortest witness of exactly `depth`
    steps when `depth` is given."""
    __tracebackhide__ = True
    report = check(model, target, engine=engine, depth=depth, **options)
    hits = [r for r in report if r.property == target and r.verdict is Verdict.REACHED
            and (depth is None or r.depth == depth)]
    if not hits:
        _fail(f"{target}: expected reached{f' at depth {depth}' if depth is not None else ''}", report)
    return hits[0]
