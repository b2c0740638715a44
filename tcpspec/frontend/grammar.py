"""The language's LALR parser, built once from grammar.lark, and the words it reserves.

The parser (parser.py), the syntax-error messages (syntax_errors.py), the formatter's lexer
(tcpspec/fmt) and the language server's completions all read the same tables and keywords: one
place, so that none of them drifts from the grammar.
"""

from __future__ import annotations

import functools

from lark import Lark, Token

from tcpspec.core.diagnostics import Span

KEYWORDS = frozenset(
    "import const type enum message channel with process var transition choose receive from when "
    "send to if then else skip instance invariant lemma reachable step on ensure chan true false "
    "forall exists count eventually leads_to temporal always final fair strong depth for def let any variant".split()
)
RESERVED: frozenset[str] = frozenset()  # words kept from names for later use (none at the moment)


@functools.lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The one parser object: building the LALR tables is the slow part, so do it once."""
    return Lark.open_from_package(
        "tcpspec.frontend",
        "grammar.lark",
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=False,
    )


def token_span(path: str, tok: Token) -> Span:
    return Span(path, tok.line or 1, tok.column or 1, tok.end_line or 0, tok.end_column or 0)
