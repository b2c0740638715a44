"""The live status line of a long command on a terminal, kept apart so that a command's report
(stdout) and its progress (a terminal's stderr) never mix, and logs stay plain."""

from __future__ import annotations

import argparse
import sys
from typing import Any


class ProgressLine:
    """A live status line on a terminal's stderr (rich: spinner, status, elapsed time); nothing at
    all when stderr is not a terminal, with --quiet, or for JSON output, so logs stay plain."""

    def __init__(self, enabled: bool, label: str, total: int | None = None) -> None:
        self.bar: Any = None
        self.task: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn()]
        columns.append(TimeElapsedColumn())
        raw = getattr(sys.stderr, "inner", sys.stderr)  # its own escape sequences, not PrintableStream's
        self.bar = Progress(*columns, console=Console(file=raw), transient=True)
        self.task = self.bar.add_task(label, total=total)
        self.label = label

    def __enter__(self) -> "ProgressLine":
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def status(self, text: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, description=f"{self.label}: {text}")

    def advance(self) -> None:
        if self.bar is not None:
            self.bar.advance(self.task)

    def at(self, completed: int, text: str | None = None) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=completed, **({"description": f"{self.label}: {text}"} if text else {}))


def progress_shown(args: argparse.Namespace) -> bool:
    return args.format == "text" and not getattr(args, "quiet", False) and sys.stderr.isatty()
