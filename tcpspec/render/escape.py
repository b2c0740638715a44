"""Text from outside (a `///` doc comment, a file name) as it may appear in a report.

A doc comment may hold ESC: written raw to a terminal it moves the cursor, clears the screen or
retitles the window, and written raw into JUnit XML it makes the file unreadable (XML 1.0 has no
control characters; junitparser refused it). Every report escapes them the same way, so what a
model says is shown, never executed: C0 and C1 controls but newline and tab, DEL, and the
bidirectional overrides that reorder a line on screen ("Trojan source") become `\\xNN`/`\\uNNNN`.
"""

from __future__ import annotations

from typing import Any, TextIO

_CONTROLS = [c for c in range(0x20) if c not in (0x09, 0x0A)] + list(range(0x7F, 0xA0))
_BIDI = [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_TABLE = {c: f"\\x{c:02x}" for c in _CONTROLS} | {c: f"\\u{c:04x}" for c in _BIDI}


def printable(text: str) -> str:
    """`text` with control characters (but newline and tab) and bidi overrides escaped."""
    return text.translate(_TABLE)


def printable_doc(doc: Any) -> Any:
    """A JSON-like document with every string `printable` (keys too)."""
    if isinstance(doc, str):
        return printable(doc)
    if isinstance(doc, list):
        return [printable_doc(x) for x in doc]
    if isinstance(doc, dict):
        return {printable(k) if isinstance(k, str) else k: printable_doc(v) for k, v in doc.items()}
    return doc


class PrintableStream:
    """A text stream that escapes what `printable` escapes on its way to `inner` (the CLI's
    stdout and stderr: reports, diagrams and messages alike)."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(printable(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding, ...
        return getattr(self.inner, name)
