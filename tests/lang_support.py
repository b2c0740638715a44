"""Helpers for the tests of the language's constructs (families, defs, maps, channels): a model
from text, its positioned errors, and BMC checked against the explicit search and replay."""

from __future__ import annotations

import pytest

from tcpspec.frontend import ast

from tcpspec.checker import ir
from tcpspec.checker.check import check_program
from tcpspec.core.diagnostics import ModelError, render_diagnostic
from tcpspec.engines.bmc import run_bmc
from tcpspec.interp.search import explore, replay
from tcpspec.frontend.parser import parse_text
from tcpspec.core.results import PropertyResult

PATH = "m.tcpspec"


def check(text: str, defines: dict[str, str] | None = None) -> ir.Model:
    prog = ast.Program(root=PATH, files=[parse_text(text, PATH)], sources={PATH: text})
    return check_program(prog, defines or {})


def errors(text: str) -> list[str]:
    """Each diagnostic's first rendered line, `m.tcpspec:L:C: error: ...`."""
    with pytest.raises(ModelError) as info:
        check(text)
    return [render_diagnostic(d, {PATH: text}).splitlines()[0] for d in info.value.diagnostics]


def assert_positioned(text: str, message: str) -> None:
    got = errors(text)
    assert any(message in line for line in got), got
    assert all(line.startswith(f"{PATH}:") for line in got), got


def bmc_agrees_with_search(model: ir.Model, props: list[ir.Property], depth: int,
                           theory: str) -> dict[str, PropertyResult]:
    """BMC's verdicts and shortest trace lengths are the explicit search's, and every trace
    replays; the results by property name."""
    bmc = {r.property: r for r in run_bmc(model, props, depth, 120.0, theory)}
    search = explore(model, depth, properties=props)
    for p in props:
        want, got = search.traces[p.name], bmc[p.name]
        assert (got.trace.length if got.trace else None) == (want.length if want else None), p.name
        if got.trace is not None:
            assert replay(model, got.trace, p, require_first=True).ok, p.name
    return bmc
