"""`tcpspec fmt [--check] [--diff] FILE...`: the command-line side of the formatter (it prints,
writes files and returns the exit code; the formatting itself is `tcpspec.fmt.format_text`)."""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass

from tcpspec.core.diagnostics import ModelError, render_diagnostic
from tcpspec.core.inputs import MAX_MODEL_BYTES, InputRefused, read_bytes

EXIT_OK, EXIT_CHANGED, EXIT_BAD, EXIT_INTERNAL = 0, 1, 2, 4
BOM = "\ufeff"


def add_fmt_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "fmt",
        help="format model files (indentation, spacing, blank lines; comments and line breaks kept)",
        description="Format .tcpspec files in place. The author's line breaks and comments are kept; "
                    "indentation, spaces between tokens and blank-line runs are normalised. A file "
                    "that does not parse is left alone (its syntax errors are reported).",
        epilog="exit codes: 0 formatted (or already formatted), 1 with --check: some file would "
               "change (its diff is printed), 2 a file does not parse or cannot be read, "
               "4 internal error. FILE '-' reads standard input and writes the result to standard output.",
    )
    p.add_argument("files", metavar="FILE", nargs="+", help="the .tcpspec files ('-': standard input)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; print a unified diff of each file that would change and exit 1 "
                        "if any would (for CI and pre-commit hooks)")
    p.add_argument("--diff", action="store_true", help="write nothing; print a unified diff of each change")
    p.set_defaults(func=cmd_fmt)


@dataclass
class _Source:
    text: str  # with "\n" line ends and no byte-order mark
    crlf: bool
    bom: bool

    def encode(self, text: str) -> str:
        text = text.replace("\n", "\r\n") if self.crlf else text
        return BOM + text if self.bom else text


def _decode(data: bytes) -> _Source:
    text = data.decode("utf-8")
    bom = text.startswith(BOM)
    text = text[1:] if bom else text
    crlf = "\r\n" in text
    return _Source(text.replace("\r\n", "\n"), crlf, bom)


def cmd_fmt(args: argparse.Namespace) -> int:
    from tcpspec.fmt import FormatterBug, format_text

    code = EXIT_OK
    for path in args.files:
        shown = "<stdin>" if path == "-" else path
        data = b""
        try:
            data = _read_stdin() if path == "-" else _read(path)
            src = _decode(data)
            new = format_text(src.text, shown)
        except (OSError, UnicodeDecodeError, ModelError, FormatterBug, InputRefused) as exc:
            message, exit_code = _problem(exc, path, shown, data)
            print(message, file=sys.stderr)
            code = max(code, exit_code)
            continue
        code = max(code, _emit(args, path, shown, src, new))
    return code


def _problem(exc: Exception, path: str, shown: str, data: bytes) -> tuple[str, int]:
    """What to print for a file that could not be formatted, and its exit code."""
    from tcpspec.fmt import FormatterBug

    if isinstance(exc, ModelError):
        sources = {shown: data.decode("utf-8", errors="replace")}
        return "\n".join(render_diagnostic(d, sources) for d in exc.diagnostics), EXIT_BAD
    if isinstance(exc, UnicodeDecodeError):
        return f"tcpspec: error: '{shown}' is not UTF-8 text (byte {exc.start})", EXIT_BAD
    if isinstance(exc, FormatterBug):
        return f"tcpspec: internal error: {exc} (please report)", EXIT_INTERNAL
    if isinstance(exc, InputRefused):  # a FIFO, a device, a file over the model size limit
        return f"tcpspec: error: {exc}", EXIT_BAD
    assert isinstance(exc, OSError)
    return f"tcpspec: error: cannot read '{path}': {exc.strerror or exc}", EXIT_BAD


def _read(path: str) -> bytes:
    os.stat(path)  # a missing file: its OSError; a special or oversized one: InputRefused (tcpspec/core/inputs.py)
    return read_bytes(path, MAX_MODEL_BYTES, "model file")


def _read_stdin() -> bytes:
    data = sys.stdin.buffer.read(MAX_MODEL_BYTES + 1)
    if len(data) > MAX_MODEL_BYTES:
        raise InputRefused(f"standard input is too large: over {MAX_MODEL_BYTES} bytes")
    return data


def _emit(args: argparse.Namespace, path: str, shown: str, src: _Source, new: str) -> int:
    """Write, print or diff one file's result; the exit code it contributes."""
    if path == "-" and not (args.check or args.diff):
        sys.stdout.write(src.encode(new))
        return EXIT_OK
    if new == src.text:
        return EXIT_OK
    if args.check or args.diff:
        sys.stdout.write(unified_diff(src.text, new, shown))
        return EXIT_CHANGED if args.check else EXIT_OK
    _write_atomic(path, src.encode(new))
    print(f"reformatted {path}", file=sys.stderr)
    return EXIT_OK


def unified_diff(old: str, new: str, shown: str) -> str:
    """`diff -u` of the file and its formatted text, patch-ready (a last line without a newline
    is marked as diff marks it)."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=shown, tofile=f"{shown} (formatted)")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def _write_atomic(path: str, text: str) -> None:
    """Replace the file in one step, so an interrupted run never leaves half a model."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tcpspec-fmt-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
