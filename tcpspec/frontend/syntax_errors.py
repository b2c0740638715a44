"""Syntax errors in the words of the language: `file:line:col` and what was expected, from the
curated table (syntax_messages.py) or from the tokens as they are written, never lark's terminal
names; then recovery, so that one run reports several errors of a file.

Kept apart from parser.py, which only needs the list of diagnostics for a text that failed.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr
from lark.parsers.lalr_analysis import Reduce

from tcpspec.frontend.grammar import KEYWORDS, RESERVED, lark_parser, token_span
from tcpspec.frontend.syntax_messages import HABITS, ONLY_FOR, SYNTAX_MESSAGES
from tcpspec.core.diagnostics import Diagnostic, Span

MAX_SYNTAX_ERRORS = 10

_TOKEN_WORDS = {
    "NAME": "a name",
    "INT": "an integer",
    "STRING": "a quoted string",
    "DOC": "a doc comment",
    "$END": "the end of the file",
}
_OPERATORS = frozenset(
    "IMPLIES OROR ANDAND EQ NE LE GE LT GT PLUS MINUS STAR BANG PRIME DOT LPAR LBRACE".split()
)
_EXPR_START = frozenset(("INT", "NAME", "LPAR", "BANG", "MINUS", "TRUE", "FALSE"))


@dataclasses.dataclass(frozen=True)
class _StateKey:
    """An LALR state number; equal states mean "the same kind of mistake" for match_examples."""

    state: Any


def _normalized(exc: UnexpectedToken) -> UnexpectedToken:
    """Re-express a parse error in the state reached by finishing every phrase it can.

    LALR states such as "just read an integer" are shared by every context; performing the
    reductions that are the only way forward brings the error to a state that tells where we are
    ("after an assignment's expression"), so examples match by context, not by the last token.
    """
    if exc.interactive_parser is None:
        return exc
    parser_state = exc.interactive_parser.parser_state
    states = parser_state.parse_conf.parse_table.states
    stack = list(parser_state.state_stack)
    while True:
        actions = states[stack[-1]]
        rules = {arg for t, (act, arg) in actions.items() if t.isupper() and act is Reduce}
        if len(rules) != 1:
            break
        rule = rules.pop()
        size = len(rule.expansion)
        if size:
            del stack[-size:]
        goto = states[stack[-1]].get(rule.origin.name) if stack else None
        if goto is None:
            break
        stack.append(goto[1])
    expected = {t for t in states[stack[-1]] if t.isupper()}
    return UnexpectedToken(exc.token, expected, state=_StateKey(stack[-1]))


def _parse_for_matching(text: str) -> None:
    """The parse function given to match_examples: raises errors normalized like ours."""
    try:
        lark_parser().parse(text)
    except UnexpectedToken as exc:
        raise _normalized(exc) from None


def _describe(name: str) -> str:
    if name in _TOKEN_WORDS:
        return _TOKEN_WORDS[name]
    try:
        pattern = lark_parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return f"'{pattern.value}'" if isinstance(pattern, PatternStr) else name.lower()


def _found(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "DOC":
        return "doc comment"
    return f"'{token}'"


def _habit(text: str, line: int, col: int) -> str | None:
    """The HABITS message whose pattern, on the error's line, spans the error column."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    src, at = lines[line - 1], col - 1
    for message, (pattern, _) in HABITS.items():
        if any(m.start() <= at < max(m.end(), m.start() + 1) for m in re.finditer(pattern, src)):
            return message
    return None


def _token_message(exc: UnexpectedToken, text: str) -> str:
    """What went wrong at an unexpected token, in the words of the language."""
    token = exc.token
    habit = _habit(text, token.line or 0, token.column or 0) if token.type != "$END" else None
    if habit is not None:
        return habit
    norm = _normalized(exc)
    # A label about one token ('=') is offered only for that token, not for others that stop
    # the parser in the same state.
    examples = {k: v for k, v in SYNTAX_MESSAGES.items() if str(token) in ONLY_FOR.get(k, {str(token)})}
    label = norm.match_examples(_parse_for_matching, examples, token_type_match_fallback=True)
    if label is not None:
        return label.replace("{found}", _found(token))
    expected: set[str] = set(norm.expected) | set(exc.expected)
    if token.type == "DOC":
        return (
            "a doc comment ('///') must come directly before a declaration; "
            "use '//' for a plain comment"
        )
    if str(token) in KEYWORDS and "NAME" in expected:
        return f"'{token}' is a keyword and cannot be used as a name"
    if token.type == "$END" and "RBRACE" in expected:
        opened = _unclosed_brace(text)
        if opened is not None:
            line, col = opened
            return f"unterminated block: the '{{' at line {line}, column {col} is never closed"
    if _EXPR_START <= expected:
        return f"expected an expression, found {_found(token)}"
    wanted = set(norm.expected) - {"$END"} or expected
    if wanted - _OPERATORS:
        wanted -= _OPERATORS
    words = sorted(_describe(t) for t in wanted)
    if len(words) > 6:
        return f"unexpected {_found(token)}"
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"unexpected {_found(token)}: expected {listed}"


def _char_message(exc: UnexpectedCharacters, text: str) -> str:
    """Lexical errors: strings, numbers, reserved words, stray characters."""
    pos = exc.pos_in_stream
    char = text[pos]
    habit = _habit(text, exc.line, exc.column)
    if habit is not None:
        return habit
    if char == '"':
        return "unterminated string: missing the closing '\"' on this line"
    word = re.match(r"[A-Za-z0-9_]+", text[pos:])
    if word and word.group() in RESERVED:
        return f"'{word.group()}' is a reserved word and cannot be used as a name"
    if word and char.isdigit():
        return f"malformed integer literal '{word.group()}'"
    if text.startswith("0x", pos) or text.startswith("0X", pos):
        return "malformed hexadecimal literal"
    return f"unexpected character {char!r}"


def _diagnose(exc: UnexpectedInput, text: str, path: str) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        span = Span(path, exc.line, exc.column, exc.line, exc.column + 1)
        return Diagnostic(span, _char_message(exc, text))
    token = getattr(exc, "token", None)
    if not isinstance(exc, UnexpectedToken) or token is None or token.type == "$END":
        line, col = _end_position(text)
        span = Span(path, line, col, line, col)
        if not isinstance(exc, UnexpectedToken):
            return Diagnostic(span, "unexpected end of file")
    else:
        span = token_span(path, token)
    return Diagnostic(span, _token_message(exc, text))


def _end_position(text: str) -> tuple[int, int]:
    """Just after the last non-blank character (the end of the file as a reader sees it)."""
    lines = text.rstrip().splitlines()
    if not lines:
        return 1, 1
    return len(lines), len(lines[-1]) + 1


# ---------------------------------------------------------------- recovery: several errors per file

_SCAN = re.compile(
    r'///(?!/)[^\n]*|//[^\n]*|"[^"\n]*"?|[A-Za-z_][A-Za-z0-9_]*|[{}]|[^\sA-Za-z_{}"/]+|/'
)
_TOP_ONLY = frozenset("import const type enum message channel process instance depth".split())
_PROC_ONLY = frozenset(("var", "transition"))
_EITHER = frozenset(("invariant", "lemma", "reachable", "step", "def"))


@dataclasses.dataclass(frozen=True)
class _Item:
    """Where a declaration starts (its doc comments included), its level (0 top, 1 inside a
    process, by brace depth) and whether its keyword can stand at that level at all."""

    start: int
    level: int
    misplaced: bool = False


def _items_and_braces(text: str) -> tuple[list[_Item], list[int]]:
    """Declaration starts and closing-brace offsets, from a rough scan that never fails."""
    items: list[_Item] = []
    closes: list[int] = []
    depth = 0
    doc_start: int | None = None
    for m in _SCAN.finditer(text):
        word = m.group()
        if word.startswith("///"):
            doc_start = m.start() if doc_start is None else doc_start
            continue
        if word.startswith("//"):
            continue
        if word in _TOP_ONLY or word in _PROC_ONLY or word in _EITHER:
            level = min(depth, 1)
            misplaced = (word in _TOP_ONLY and level == 1) or (word in _PROC_ONLY and level == 0)
            items.append(_Item(m.start() if doc_start is None else doc_start, level, misplaced))
        elif word == "{":
            depth += 1
        elif word == "}":
            depth = max(0, depth - 1)
            closes.append(m.start())
        doc_start = None
    return items, closes


def _unclosed_brace(text: str) -> tuple[int, int] | None:
    """Line and column of the innermost '{' still open at the end of the text."""
    opened: list[int] = []
    for m in _SCAN.finditer(text):
        if m.group() == "{":
            opened.append(m.start())
        elif m.group() == "}" and opened:
            opened.pop()
    if not opened:
        return None
    pos = opened[-1]
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _skip_range(text: str, pos: int) -> tuple[int, int] | None:
    """The text to blank out so that parsing can resume after the broken declaration at `pos`.

    An error at a declaration's first token means the declaration before it is unfinished (or,
    if this one cannot stand here, that this one is the mistake). The range stops at the next
    declaration of the same or an outer level, keeping the '}' that closes a process.
    """
    items, closes = _items_and_braces(text)
    here = next((i for i in items if i.start == pos), None)
    before = [i for i in items if i.start < pos]
    if here is not None and not here.misplaced:
        if not before:
            return None
        item, end = before[-1], pos
        if item.level == 1 and here.level == 0:
            end = max((c for c in closes if item.start < c < pos), default=pos)
        return (item.start, end) if end > item.start else None
    item = here or (before[-1] if before else _Item(0, 0))
    after = [i for i in items if i.start > pos and i.level <= item.level]
    end = after[0].start if after else len(text)
    if item.level == 1 and (not after or after[0].level == 0):  # keep the process's '}'
        end = max((c for c in closes if item.start < c < end), default=end)
    return (item.start, end) if end > pos else None


def _blank(text: str, start: int, end: int) -> str:
    """Replace a range by spaces, keeping newlines, so that every position stays the same."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def _error_offset(exc: UnexpectedInput) -> int | None:
    if isinstance(exc, UnexpectedToken):
        return None if exc.token.type == "$END" else exc.token.start_pos
    return exc.pos_in_stream


def syntax_errors(text: str, path: str, first: UnexpectedInput) -> list[Diagnostic]:
    """The first error, then those found by re-parsing with each broken declaration blanked out.

    Later errors at the end of the file are dropped: after blanking they are usually echoes.
    """
    diags = [_diagnose(first, text, path)]
    seen = {(diags[0].span.line, diags[0].span.col) if diags[0].span else (0, 0)}
    current, exc = text, first
    while len(diags) < MAX_SYNTAX_ERRORS:
        pos = _error_offset(exc)
        cut = None if pos is None else _skip_range(current, pos)
        if cut is None:
            break
        current = _blank(current, *cut)
        try:
            lark_parser().parse(current)
            break
        except UnexpectedInput as again:
            exc = again
        new_pos = _error_offset(exc)
        if new_pos is None or pos is None or new_pos <= pos:
            break
        diag = _diagnose(exc, current, path)
        key = (diag.span.line, diag.span.col) if diag.span else (0, 0)
        if key in seen:
            break
        seen.add(key)
        diags.append(diag)
    return diags
