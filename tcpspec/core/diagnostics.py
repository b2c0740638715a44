"""Source positions and the errors a person can act on.

Library code raises `ModelError` carrying one or more `Diagnostic`s; only the CLI prints them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Span:
    """A region of a source file; lines and columns count from 1."""

    file: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a model: where, and what is wrong or what was expected."""

    span: Span | None
    message: str
    notes: tuple[str, ...] = ()
    severity: str = "error"  # or "warning": worth a look, never a failure


@dataclass
class ModelError(Exception):
    """A model could not be read, checked or instantiated. Carries every problem found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(
            f"{d.span}: {d.message}" if d.span else d.message for d in self.diagnostics
        )

    def render(self) -> str:
        """Every diagnostic as the CLI prints it: `file:line:col: error: ...`, the source line
        and a caret under the column."""
        sources = error_sources(self)
        return "\n".join(render_diagnostic(d, sources) for d in self.diagnostics) or "error: the model is invalid"


def error_sources(err: ModelError) -> dict[str, str]:
    """The texts the diagnostics point into: attached to the error if the parser did, else read."""
    sources: dict[str, str] = dict(getattr(err, "sources", None) or {})
    for d in err.diagnostics:
        if d.span is not None and d.span.file not in sources:
            try:
                with open(d.span.file, encoding="utf-8") as f:
                    sources[d.span.file] = f.read()
            except (OSError, UnicodeDecodeError):
                pass
    return sources


class UsageError(Exception):
    """Bad command-line input (unknown constant, bad value, unknown property...)."""


class EngineError(Exception):
    """An engine could not give its verdicts: a worker process crashed or was killed. Never
    turned into `unknown` verdicts, which would read as "the solver gave up"; the CLI reports it
    as an internal error (exit 4). `results` holds what had finished before."""

    def __init__(self, message: str, results: list[Any] | None = None) -> None:
        super().__init__(message)
        self.results = list(results or [])


def render_diagnostic(diag: Diagnostic, sources: dict[str, str]) -> str:
    """`file:line:col: error: message`, then the source line and a caret under the column."""
    if diag.span is None:
        head = f"{diag.severity}: {diag.message}"
        return "\n".join([head, *(f"  note: {n}" for n in diag.notes)])
    span = diag.span
    out = [f"{span.file}:{span.line}:{span.col}: {diag.severity}: {diag.message}"]
    text = sources.get(span.file)
    if text is not None:
        lines = text.splitlines()
        if 1 <= span.line <= len(lines):
            src = lines[span.line - 1].replace("\t", " ")
            if len(src) > 200:  # keep very long lines readable: show a window around the column
                start = max(0, span.col - 100)
                src_shown = src[start : start + 200]
                caret_col = span.col - start
            else:
                src_shown, caret_col = src, span.col
            width = 1
            if span.end_line == span.line and span.end_col > span.col:
                width = min(span.end_col - span.col, max(1, len(src_shown) - caret_col + 1))
            out.append(f"  {span.line:>4} | {src_shown}")
            out.append("       | " + " " * (caret_col - 1) + "^" * width)
    out.extend(f"  note: {n}" for n in diag.notes)
    return "\n".join(out)
