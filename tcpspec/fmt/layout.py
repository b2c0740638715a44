"""Where each line starts and how tokens are spaced: the formatter's rules.

The input is the token stream (tokens.py) and the author's line breaks, which are kept: a model's
lines are written to be read side by side (an RFC's rule and its guard, one disjunct per line),
and no width limit could choose those breaks better than the author. What is normalised:

- indentation. A line that starts an item (a declaration, a statement, a field, an argument) is
  indented two spaces per open block; a line that closes a bracket goes where the line that
  opened it starts. Inside a bracket whose content starts on its own line ("hanging") items sit
  two spaces in; inside one whose content starts beside it ("visual") they line up with the
  first item, as `enum State { CLOSED, ...` does in the library's models;
- the continuation lines of an item, as the library's models write them: a line that starts
  with a binary operator lines up with that operator's left operand, so each line is one operand
  of the operator it starts with; `then`/`else` line up with their `if`; a clause keyword
  (`when`, `ensure`, `on`...) and a body after `name:` sit two spaces in from the item; the line
  after a trailing operator sits two in from that operator's left operand;
- spaces between tokens (one around binary operators and after commas and colons, none inside
  brackets or around `.` and `..`, one inside the braces of blocks and records, none inside a
  set literal's), blank-line runs (one at most, none at the
  start or the end, none just inside a bracket or between the lines of one item), trailing
  spaces;
- comments on a line of their own take the indentation of the code that follows them; a comment
  after code stays as far from the code as the author put it, and consecutive lines whose
  comments the author lined up stay lined up (the library's models line them up by hand, at
  columns no rule derives from the code).

Nothing here knows the grammar's rules: brackets, separators and a few classes of tokens
(binary operators by precedence, expression keywords) are enough, so new syntax is laid out by
the same rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tcpspec.fmt.tokens import CLOSERS, OPENERS, Tok

# Binary operators by precedence (higher binds tighter); `==>` is right-associative.
PRECEDENCE = {
    "~>": 0, "==>": 1, "||": 2, "&&": 3,
    "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
    "+": 5, "-": 5, "*": 6,
}
RIGHT_ASSOC = frozenset(("==>",))
BOOL_OPS = frozenset(("==>", "||", "&&"))
# Keywords that are parts of expressions; every other keyword opens a clause (`when`, `ensure`).
EXPR_KEYWORDS = frozenset(("if", "then", "else", "forall", "exists", "true", "false", "always", "eventually"))
BINDERS = frozenset(("forall", "exists"))
# Words lexed as names that still read as keywords between operands (`forall i in 0..N`).
SOFT_KEYWORDS = frozenset(("in",))
NO_SPACE_BEFORE = frozenset((",", ";", ")", "]", ".", "'", ":", ".."))
NO_SPACE_AFTER = frozenset(("(", "[", ".", "!", ".."))
OPERAND_END_KINDS = frozenset(("NAME", "INT", "STRING", "TRUE", "FALSE"))
OPERAND_END_TEXTS = frozenset((")", "]", "'"))
INDENT = 2


@dataclass
class Row:
    """One source line: its code tokens, a trailing comment, and the blank lines before it."""

    code: list[Tok] = field(default_factory=list)
    comment: Tok | None = None
    blanks_before: int = 0


class _Structure:
    """Brackets, items and row membership of the code tokens, computed once."""

    def __init__(self, code: list[Tok]) -> None:
        self.code = code
        n = len(code)
        self.match: dict[int, int] = {}  # opener <-> closer, both ways
        self.bracket: list[int | None] = [None] * n  # innermost open bracket around each token
        self.item_start: list[int | None] = [None] * n
        self.comma_block: set[int] = set()  # `{` whose items end with `,` (else with `;`)
        self._brackets()
        self._items()

    def _brackets(self) -> None:
        stack: list[int] = []
        semicolons: set[int] = set()
        for i, tok in enumerate(self.code):
            self.bracket[i] = stack[-1] if stack else None
            if tok.text in OPENERS:
                stack.append(i)
            elif tok.text in CLOSERS and stack:
                j = stack.pop()
                self.match[i], self.match[j] = j, i
                self.bracket[i] = self.bracket[j]
            elif tok.text in ";," and stack and self.code[stack[-1]].text == "{":
                (semicolons if tok.text == ";" else self.comma_block).add(stack[-1])
        self.comma_block -= semicolons

    def _semicolon_level(self, opener: int | None) -> bool:
        return opener is None or (self.code[opener].text == "{" and opener not in self.comma_block)

    def _items(self) -> None:
        current: dict[int | None, int | None] = {None: None}  # level -> its current item's start
        for i, tok in enumerate(self.code):
            level = self.bracket[i]
            if tok.text in CLOSERS and i in self.match:
                current.pop(self.match[i], None)
                if tok.text == "}" and self._semicolon_level(level):
                    current[level] = None  # a block or a braced body ends its item
                continue
            if current.get(level) is None:
                current[level] = i
            self.item_start[i] = current[level]
            if tok.text in OPENERS:
                current[i] = None
            elif tok.text == ";" or (tok.text == "," and not self._semicolon_level(level)):
                current[level] = None

    def is_binary(self, i: int) -> bool:
        tok = self.code[i]
        if tok.text not in PRECEDENCE:
            return False
        if tok.text != "-":
            return True
        return i > 0 and _operand_end(self.code[i - 1])

    def is_unary_minus(self, i: int) -> bool:
        return self.code[i].text == "-" and not self.is_binary(i)


def _operand_end(tok: Tok) -> bool:
    if tok.text in SOFT_KEYWORDS:
        return False
    return tok.kind in OPERAND_END_KINDS or tok.text in OPERAND_END_TEXTS


class Layout:
    """Computes the output column of every code token, row by row."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.code: list[Tok] = [t for r in rows for t in r.code]
        self.st = _Structure(self.code)
        self.row_of: list[int] = []
        for r, row in enumerate(rows):
            self.row_of.extend([r] * len(row.code))
        self.first_of_row: dict[int, int] = {}  # row -> index of its first code token
        k = 0
        for r, row in enumerate(rows):
            if row.code:
                self.first_of_row[r] = k
            k += len(row.code)
        self.col: list[int] = [0] * len(self.code)  # output columns, 0-based
        self.row_indent: dict[int, int] = {}

    # ---------------------------------------------------------------- spacing within a row

    def space(self, i: int) -> int:
        """Spaces between code token i-1 and i on one row."""
        a, b = self.code[i - 1], self.code[i]
        if b.text in NO_SPACE_BEFORE or a.text in NO_SPACE_AFTER or self.st.is_unary_minus(i - 1):
            return 0
        if b.text == "(":
            return 0 if a.kind == "NAME" else 1
        if b.text == "[":
            return 0 if a.kind == "NAME" or a.text in OPERAND_END_TEXTS else 1
        if a.text == "{" and (b.text == "}" or self._set_brace(i - 1)):
            return 0
        if b.text == "}" and i in self.st.match and self._set_brace(self.st.match[i]):
            return 0
        return 1

    def _set_brace(self, i: int) -> bool:
        """A `{` in an operand's place (after an operator, `in`, `(`, `,`): a set literal,
        written tight (`{A, B}`); after a name, a `)` or `else` it opens a block, a record or a
        declaration's body, written `{ a: 1 }`."""
        if i == 0:
            return False
        prev = self.code[i - 1]
        return not (_operand_end(prev) or prev.text == "else")

    # ---------------------------------------------------------------- indentation

    def indent(self, i: int) -> int:
        """The output column of token i, the first code token of its row."""
        st, tok = self.st, self.code[i]
        if tok.text in CLOSERS and i in st.match:
            return self._open_line_indent(st.match[i])
        start = st.item_start[i]
        if start == i or start is None:
            opener = st.bracket[i]
            if opener is None:
                return 0
            if self._hanging(opener):
                return self._block_indent(opener) + INDENT
            return self.col[opener + 1]
        return self._continuation(i, start)

    def _open_line_indent(self, opener: int) -> int:
        if self._hanging(opener):
            return self._block_indent(opener)
        return self.col[opener]

    def _block_indent(self, opener: int) -> int:
        """Where a hanging bracket's block is based: the line where the item that opens it
        starts (`process P(a: A,` / `b: B) {` is based on the `process` line)."""
        start = self.st.item_start[opener]
        return self._row_indent_of(opener if start is None else start)

    def _hanging(self, opener: int) -> bool:
        """The bracket's content starts on a later line."""
        return self.row_of[opener + 1] != self.row_of[opener] if opener + 1 < len(self.code) else True

    def _row_indent_of(self, i: int) -> int:
        return self.row_indent[self.row_of[i]]

    def _continuation(self, i: int, start: int) -> int:
        st, tok = self.st, self.code[i]
        base = self.col[start]
        if tok.text == "{":
            return base
        if tok.is_keyword and tok.text in ("then", "else"):
            cond = self._matching_if(i, start)
            if cond is not None:
                return self.col[cond]
        if tok.is_keyword and tok.text not in EXPR_KEYWORDS:
            return base + INDENT
        if st.is_binary(i):
            return self._anchor(i, start)
        if i > 0 and st.is_binary(i - 1) and i - 1 >= start:
            return self._anchor(i - 1, start) + INDENT
        return base + INDENT

    def _left_of(self, i: int, start: int) -> Iterator[tuple[int, bool]]:
        """Indices left of token i down to `start` at i's bracket level, nearest first; a
        bracketed group counts as one step, at its opener (flag True). Stops at an opener."""
        st = self.st
        j = i - 1
        while j >= start:
            t = self.code[j]
            if t.text in CLOSERS and j in st.match:
                yield st.match[j], True
                j = st.match[j] - 1
                continue
            if t.text in OPENERS:
                return
            yield j, False
            j -= 1

    def _matching_if(self, i: int, start: int) -> int | None:
        """The `if` whose `then`/`else` token i is (same bracket level, nesting counted)."""
        depth = 0
        for j, group in self._left_of(i, start):
            t = self.code[j]
            if group or not t.is_keyword:
                continue
            if t.text == "else":
                depth += 1
            elif t.text == "if":
                if depth == 0:
                    return j
                depth -= 1
        return None

    def _anchor(self, op: int, start: int) -> int:
        """The column a line starting with (or after a line ending with) operator `op` aligns to:
        its left operand's, unless that operand follows a header on its row (`name:`, or a
        clause keyword before a single comparison), where the line hangs two spaces in."""
        left = self._left_operand(op, start)
        before = left - 1
        if before >= start and self.row_of[before] == self.row_of[left]:
            prev = self.code[before]
            row_indent = self._row_indent_of(left)
            if prev.text == ":":
                return row_indent + INDENT
            if prev.is_keyword and prev.text not in EXPR_KEYWORDS:
                if not any(self.code[k].text in BOOL_OPS for k in self._row_from(left)):
                    return row_indent + INDENT
        return self.col[left]

    def _row_from(self, i: int) -> range:
        """Indices of token i and the code tokens after it on its row."""
        r = self.row_of[i]
        return range(i, self.first_of_row[r] + len(self.rows[r].code))

    def _left_operand(self, op: int, start: int) -> int:
        """Index of the first token of operator `op`'s left operand (walking left at one bracket
        level; a quantifier's `forall i in R:` counts as a prefix of its body)."""
        prec = PRECEDENCE[self.code[op].text]
        right = self.code[op].text in RIGHT_ASSOC
        left = op
        skip_to: int | None = None  # inside a quantifier's header: walk on from its `forall`
        for j, group in self._left_of(op, start):
            if skip_to is not None:
                if j > skip_to:
                    continue
                skip_to = None
                left = j
                continue
            t = self.code[j]
            if group:
                left = j
                continue
            if self.st.is_binary(j):
                p = PRECEDENCE[t.text]
                if p < prec or (p == prec and right):
                    break
                continue
            if t.text == ":":
                binder = self._binder(j, start)
                if binder is None:
                    break
                skip_to = binder
                continue
            if t.text in ("then", "else", "if") or t.text in (",", ";", ":=", "=", ".."):
                break
            if t.is_keyword and t.text not in EXPR_KEYWORDS:
                break
            left = j
        return left

    def _binder(self, colon: int, start: int) -> int | None:
        """The `forall`/`exists` whose header ends at this colon, if it is a quantifier's."""
        for j, group in self._left_of(colon, start):
            t = self.code[j]
            if group:
                continue
            if t.kind == "QUANTIFIER" or t.text in BINDERS:
                return j
            if t.text in (":", ",", ";") or (t.is_keyword and t.text not in EXPR_KEYWORDS):
                return None
        return None

    # ---------------------------------------------------------------- driving it

    def run(self) -> list[str]:
        """The formatted lines (blank lines included, without newlines)."""
        lines: list[tuple[int, str]] = []  # (row, text without its trailing comment)
        pending: list[int] = []  # comment-only rows waiting for the next code row's indentation
        for r, row in enumerate(self.rows):
            if not row.code:
                pending.append(r)
                continue
            first = self.first_of_row[r]
            indent = self.indent(first)
            self.row_indent[r] = indent
            for c in pending:
                lines.append((c, " " * self._comment_indent(first, indent)))
            pending = []
            lines.append((r, self._code_text(first, indent, len(row.code))))
        lines.extend((c, "") for c in pending)
        columns = self._comment_columns(lines)
        out: list[str] = []
        allowed = self._blank_allowed()
        for k, (r, text) in enumerate(lines):
            if self.rows[r].blanks_before and out and allowed[r]:
                out.append("")
            comment = self.rows[r].comment
            if comment is not None:
                text = text.ljust(columns.get(k, len(text))) + comment.text.rstrip()
            out.append(text)
        return out

    def _blank_allowed(self) -> list[bool]:
        """Whether a blank line may stand before each row: not just inside a block or a bracket,
        not before its closing bracket, not between the lines of one item (none of the library's
        models has one there)."""
        allowed = [True] * len(self.rows)
        last: Tok | None = None
        for r, row in enumerate(self.rows):
            if last is not None and last.text in OPENERS:
                allowed[r] = False
            if row.code:
                last = row.code[-1]
        following: int | None = None  # the first code token of the next code row
        for r in range(len(self.rows) - 1, -1, -1):
            if self.rows[r].code:
                following = self.first_of_row[r]
            if following is not None:
                tok = self.code[following]
                if tok.text in CLOSERS or self.st.item_start[following] not in (following, None):
                    allowed[r] = False
        return allowed

    def _comment_indent(self, next_first: int, next_indent: int) -> int:
        """A comment before a closing bracket belongs inside the block it closes."""
        tok = self.code[next_first]
        if tok.text in CLOSERS and next_first in self.st.match and self._hanging(self.st.match[next_first]):
            return next_indent + INDENT
        return next_indent

    def _code_text(self, first: int, indent: int, count: int) -> str:
        """One row's code, spaced, recording each token's output column."""
        parts: list[str] = []
        col = indent
        for k in range(first, first + count):
            if k > first:
                gap = self.space(k)
                parts.append(" " * gap)
                col += gap
            self.col[k] = col
            parts.append(self.code[k].text)
            col += len(self.code[k].text)
        return " " * indent + "".join(parts)

    def _comment_columns(self, lines: list[tuple[int, str]]) -> dict[int, int]:
        """Where each trailing comment starts: as many spaces after the code as the author left,
        and a run of consecutive lines whose comments the author lined up stays lined up (at
        the column the longest of them needs)."""
        columns: dict[int, int] = {}
        group: list[int] = []

        def close() -> None:
            if group:
                col = max(len(lines[k][1]) + self._gap(lines[k][0]) for k in group)
                columns.update((k, col) for k in group)
                group.clear()

        for k, (r, _) in enumerate(lines):
            row = self.rows[r]
            if not row.code or row.comment is None:
                close()
                continue
            prev = self.rows[lines[group[-1]][0]] if group else None
            if prev is None or row.blanks_before or prev.comment is None or prev.comment.col != row.comment.col:
                close()
            group.append(k)
        close()
        return columns

    def _gap(self, r: int) -> int:
        row = self.rows[r]
        assert row.comment is not None
        return max(1, row.comment.col - row.code[-1].end_col)


def rows_of(tokens: list[Tok], text: str) -> list[Row]:
    """Group tokens into source lines, counting the blank lines between them."""
    rows: list[Row] = []
    last_line = 0
    for tok in tokens:
        if rows and tok.line == last_line:
            row = rows[-1]
        else:
            row = Row(blanks_before=_blank_count(text, last_line, tok.line))
            rows.append(row)
            last_line = tok.line
        if tok.is_comment:
            row.comment = tok
        else:
            row.code.append(tok)
    return rows


def _blank_count(text: str, prev_line: int, line: int) -> int:
    """Lines strictly between two token lines are blank (tokens cover every non-blank line)."""
    return max(0, line - prev_line - 1)
