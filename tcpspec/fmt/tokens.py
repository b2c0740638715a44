"""The token stream of a model with its comments, from the grammar's own lexer.

The formatter and the language server both work on tokens rather than on the AST: the AST has no
comments and no positions for every name, and tokens keep working on syntax the formatter has
never seen (anything grammar.lark can lex). The lexer is lark's, built from tcpspec/frontend/grammar.lark,
asked to keep what the grammar ignores (`dont_ignore`); only whitespace is dropped here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COMMENT_KINDS = frozenset(("COMMENT", "DOC"))
WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {v: k for k, v in OPENERS.items()}


@dataclass(frozen=True)
class Tok:
    """One token: `kind` is the grammar's terminal name (NAME, INT, WHEN, COMMENT, ...); lines and
    columns count from 1 (columns in characters, as lark counts them); `pos` is the offset."""

    kind: str
    text: str
    line: int
    col: int
    pos: int

    @property
    def end_col(self) -> int:
        return self.col + len(self.text)

    @property
    def is_comment(self) -> bool:
        return self.kind in COMMENT_KINDS

    @property
    def is_word(self) -> bool:
        """A name, a keyword, `true`/`false`: anything that needs a space before another word."""
        return WORD_RE.match(self.text) is not None

    @property
    def is_keyword(self) -> bool:
        return self.is_word and self.kind != "NAME"


def lex(text: str) -> list[Tok]:
    """Every token but whitespace, comments included. Raises lark's UnexpectedCharacters at a
    character no terminal matches (the parser reports those as syntax errors first)."""
    from tcpspec.frontend.grammar import lark_parser

    return [
        Tok(t.type, str(t), t.line or 1, t.column or 1, t.start_pos or 0)
        for t in lark_parser().lex(text, dont_ignore=True)
        if t.type != "WS"
    ]


def lex_tolerant(text: str) -> list[Tok]:
    """Like `lex`, but a character that starts no token is skipped, so that an editor still gets
    the tokens around a typo; positions stay those of `text`."""
    from lark.exceptions import UnexpectedCharacters

    out: list[Tok] = []
    start = 0
    while start < len(text):
        # Lex the rest as a text of its own: blank out what came before so positions hold.
        rest = _blank(text[:start]) + text[start:]
        try:
            out.extend(t for t in lex(rest) if t.pos >= start)
            break
        except UnexpectedCharacters as exc:
            bad = exc.pos_in_stream or 0
            good = [t for t in _lex_prefix(rest, bad) if t.pos >= start]
            out.extend(good)
            start = max(bad, start) + 1
    return out


def _lex_prefix(text: str, end: int) -> list[Tok]:
    """The tokens of text[:end] (known to lex, since the lexer got past it)."""
    from lark.exceptions import UnexpectedCharacters

    try:
        return lex(text[:end])
    except UnexpectedCharacters:  # a token cut at `end`: drop the last partial one
        return []


def _blank(prefix: str) -> str:
    """Whitespace with the same lines and columns as `prefix`."""
    return re.sub(r"[^\n]", " ", prefix)
