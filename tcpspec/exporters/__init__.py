"""Translations of a checked model for other tools: Promela (SPIN) and SMT-LIB 2.

`tcpspec.export(model, to=...)` is the public API's call (tcpspec/api.py); this package is named
`exporters` so that importing it never rebinds `tcpspec.export`.
"""

from __future__ import annotations

import re

# Printable ASCII but `*` and `\`: nothing in it can end a Promela/C comment (`*/`), continue a
# line (`\` before a newline), or end an SMT-LIB `;` comment (a line break).
_UNSAFE = re.compile(r"[^ !-)+-\[\]-~]")


def comment_text(text: str) -> str:
    """Text from outside the model's grammar (a file path) for a comment of an exported file:
    every character that could end the comment or hide in it is written as `\\xNN` or `\\uNNNN`.
    A directory named `a*/ c_code { ... } /*` or a file name with a newline stays one comment."""
    def esc(m: re.Match[str]) -> str:
        c = ord(m.group())
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}" if c < 0x10000 else f"\\U{c:08x}"

    return _UNSAFE.sub(esc, text)
