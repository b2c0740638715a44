"""The structure ARCHITECTURE.md describes, held against the code: every module listed there, no
import circle between modules (imports inside functions and under TYPE_CHECKING count too: they
are arrows all the same), no module over 600 lines, and z3 imported only by the layers that
build or solve formulas."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "tcpspec"
MAX_LINES = 600
# The layers that build or solve Z3 formulas; everything else stays importable without a solver.
Z3_LAYERS = ("encoding", "solving", "engines", "proof", "analyses", "exporters/smtlib.py")


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        out[".".join(parts)] = path
    return out


def imports(path: Path, names: set[str]) -> set[str]:
    """The tcpspec modules `path` imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in names:
                found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in names}
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    names = set(mods)
    # Only explicit imports are arrows: importing `a.b` runs the package `a` first, but a module is
    # tied to `a` (its __init__) only when it imports `a` itself.
    return {m: imports(p, names) - {m} for m, p in mods.items()}


def circles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle() -> None:
    assert circles(graph()) == []


def test_the_circle_finder_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_over_600_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_z3_only_in_the_solver_layers() -> None:
    z3_import = re.compile(r"^\s*(import z3|from z3\b)", re.M)
    outside = [str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
               if z3_import.search(p.read_text()) and not str(p.relative_to(PKG)).startswith(Z3_LAYERS)]
    assert outside == []


def test_architecture_lists_every_module() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    listed = set(re.findall(r"`(tcpspec/[\w/]+\.(?:py|lark))`", text))
    present = {str(p.relative_to(ROOT)) for p in PKG.rglob("*.py") if p.name != "__init__.py" or p.parent == PKG}
    present.add("tcpspec/frontend/grammar.lark")
    assert sorted(present - listed) == [], "modules missing from ARCHITECTURE.md"
    assert sorted(listed - present) == [], "ARCHITECTURE.md lists modules that do not exist"
