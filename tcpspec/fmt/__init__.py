"""`tcpspec fmt`: the formatter. See layout.py for the rules and docs/editors.md for the command.

A model is formatted only if it parses (the parser's own diagnostics otherwise), and the result
is checked before it is returned: the same tokens and comments in the same order, so a
formatted model is the same model. Line breaks are the author's.
"""

from __future__ import annotations

from tcpspec.fmt.layout import Layout, rows_of
from tcpspec.fmt.tokens import Tok, lex


class FormatterBug(Exception):
    """The formatted text would not be the same model: a bug in the formatter, never written."""


def format_text(text: str, path: str = "<text>") -> str:
    """The formatted text of a model. Raises ModelError (with the parser's diagnostics) if the
    text does not parse, FormatterBug if the result would not have the same tokens."""
    from tcpspec.frontend.parser import parse_text

    parse_text(text, path)  # a syntax error is the parser's to report, with its positions
    tokens = lex(text)
    if not tokens:
        return ""
    lines = Layout(rows_of(tokens, text)).run()
    out = "\n".join(lines) + "\n"
    _same_tokens(tokens, lex(out), path)
    return out


def _same_tokens(before: list[Tok], after: list[Tok], path: str) -> None:
    def key(toks: list[Tok]) -> list[tuple[str, str]]:
        return [(t.kind, t.text.rstrip() if t.is_comment else t.text) for t in toks]

    if key(before) != key(after):
        raise FormatterBug(f"{path}: formatting would change the tokens of the model; not formatted")
