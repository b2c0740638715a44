"""What every command prints the same way: the model's warnings, one-line errors, internal errors
on stderr, and `check`'s text report. Only the CLI prints; the text itself is rendered by
tcpspec/render/."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tcpspec.core.diagnostics import render_diagnostic

if TYPE_CHECKING:
    from tcpspec.checker import ir
    from tcpspec.core.results import PropertyResult


class TextOut:
    """The text report: the header at once (a long run shows what it is checking), then, when
    the run is over, the body (calm, or the full table with -v) and the summary."""

    def __init__(self, source: str, model: ir.Model, verbose: bool = False) -> None:
        from tcpspec.render import text

        self.text, self.model, self.verbose = text, model, verbose
        self.results: list[PropertyResult] = []
        self.emit([text.render_header(source), ""])

    def emit(self, lines: list[str]) -> None:
        for line in lines:
            print(line)
        sys.stdout.flush()

    def result(self, r: PropertyResult) -> None:
        self.results.append(r)

    def finish(self, results: list[PropertyResult], files: dict[str, str], interrupted: bool) -> None:
        body = self.text.render_body(results, self.model, self.verbose)
        tail = body + ([""] if body and body[-1] else [])
        if interrupted:
            tail.append(self.text.INTERRUPTED)
        tail.append(self.text.render_summary(results))
        tail += [f"trace of {p} written to {f}" for p, f in files.items()]
        self.emit(tail)


def say_internal_errors(results: list[PropertyResult]) -> None:
    """Exit 4 from a result (an engine process died, ...) says its cause on stderr too."""
    from tcpspec.core.results import is_internal_error

    bad = [r for r in results if is_internal_error(r)]
    if bad:
        more = f" (and {len(bad) - 1} more properties)" if len(bad) > 1 else ""
        print(f"tcpspec: {bad[0].property}: {one_line(bad[0].detail)}{more} (please report)", file=sys.stderr)


def load_model_warned(path: str, defines: dict[str, str]) -> ir.Model:
    """`pipeline.load_model`, with the model's warnings printed on stderr (they never change a
    verdict or the exit code)."""
    from tcpspec.run import pipeline

    model = pipeline.load_model(path, defines)
    for w in model.warnings:
        print(render_diagnostic(w, model.sources), file=sys.stderr)
    return model


def one_line(text: str) -> str:
    return " ".join(str(text).split())
