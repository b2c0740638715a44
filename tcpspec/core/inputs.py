"""Reading files that come from outside with bounds: a size limit, and only regular files.

A model, a trace, a certificate or a cache entry might be `/dev/zero` (read whole, it never
ends), a FIFO (open blocks until a writer comes), a kernel pseudo-file (`/proc/self/environ`:
its size says 0, its text is the environment, and a syntax error would print it), or a symlink
planted in a shared cache. Every reader of such a file goes through here, so that each one fails
the same way: `InputRefused` with a sentence the caller can show (the CLI turns it into exit 2).
The limits are documented in docs/errors.md ("Limits").
"""

from __future__ import annotations

import json
import os
import re
import stat
from typing import IO, Any

from tcpspec.core.diagnostics import UsageError

MiB = 1024 * 1024

# The limits, each far above what the repository's own files need (tcp.tcpspec: 39 KB; its
# certificate: ~60 KB; the loopback capture: a few KB). A 1 MB model takes ~10 s to parse.
MAX_MODEL_BYTES = 1 * MiB  # each model file, the root or an import
MAX_PROGRAM_BYTES = 4 * MiB  # a model and all its imports together
MAX_IMPORTS = 256  # files in one program
MAX_CERTIFICATE_BYTES = 16 * MiB
MAX_TRACE_BYTES = 64 * MiB  # a text or ITF trace
MAX_CAPTURE_BYTES = 256 * MiB  # a .pcap/.pcapng (read as a stream)
MAX_CONFIG_BYTES = 1 * MiB  # tcpspec.toml, pyproject.toml
MODEL_SUFFIX = ".tcpspec"
# Numbers from the command line or tcpspec.toml: past these they would overflow a C int in the
# worker pool or the solver, or start an unrolling that builds for ever.
MAX_DEPTH = 100_000
MAX_JOBS = 1024
MAX_SECONDS = 10**9
_PSEUDO = ("/proc/", "/sys/")  # files whose size lies and whose text is the system's


class InputRefused(UsageError):
    """The file is not one tcpspec reads: not a regular file, too large, or unreadable."""


def _kind(mode: int) -> str:
    return ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket"
            if stat.S_ISSOCK(mode) else "not a regular file")


def _open_regular(path: str, limit: int, what: str, follow_symlinks: bool = True) -> tuple[int, int]:
    """A descriptor of the regular file `path` and its size; InputRefused otherwise. Opened
    without blocking (a FIFO is refused, not waited on)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    if not path:
        raise InputRefused(f"empty file name: expected the path of {what}")
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise InputRefused(f"cannot read {what} '{path}': {err.strerror or err}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputRefused(f"cannot read {what} '{path}': it is {_kind(info.st_mode)}, not a regular file")
        if os.path.realpath(path).startswith(_PSEUDO):
            raise InputRefused(f"cannot read {what} '{path}': it is a kernel pseudo-file, not a regular file")
        if info.st_size > limit:
            raise InputRefused(f"{what} '{path}' is too large: {info.st_size} bytes, the limit is {limit}")
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size


def check_readable(path: str, limit: int, what: str) -> None:
    """`path` is a regular file of at most `limit` bytes that can be opened; InputRefused
    otherwise. Checked before any work, so a bad argument fails at once."""
    fd, _ = _open_regular(path, limit, what)
    os.close(fd)


def open_binary(path: str, limit: int, what: str) -> IO[bytes]:
    """A regular file for streaming reads (a capture); its size checked against `limit`."""
    fd, _ = _open_regular(path, limit, what)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_bytes(path: str, limit: int, what: str = "file", follow_symlinks: bool = True) -> bytes:
    """The whole content of the regular file `path`, at most `limit` bytes; InputRefused
    otherwise. Opened without blocking (a FIFO is refused, not waited on)."""
    fd, _ = _open_regular(path, limit, what, follow_symlinks)
    try:
        chunks: list[bytes] = []
        size = 0
        while True:  # the size can grow while it is read: the limit holds for what is read
            chunk = os.read(fd, min(limit + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise InputRefused(f"{what} '{path}' is too large: over {limit} bytes")
        return b"".join(chunks)
    except OSError as err:
        raise InputRefused(f"cannot read {what} '{path}': {err.strerror or err}") from None
    finally:
        os.close(fd)


def read_text(path: str, limit: int, what: str = "file", follow_symlinks: bool = True) -> str:
    """`read_bytes` decoded as UTF-8 (InputRefused if it is not)."""
    data = read_bytes(path, limit, what, follow_symlinks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputRefused(f"cannot read {what} '{path}': not UTF-8 text") from None


MAX_JSON_DEPTH = 64  # traces, reports and cache entries nest a handful of levels
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def load_json(text: str, what: str = "JSON", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads, with nesting bounded (Python's parser recurses: a few thousand `[` raise
    RecursionError); InputRefused past `max_depth` levels or when it is not JSON."""
    depth = 0
    for m in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        if m.group() in "[{":
            depth += 1
            if depth > max_depth:
                raise InputRefused(f"{what} is nested more than {max_depth} levels deep")
        else:
            depth -= 1
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        raise InputRefused(f"{what} is not valid JSON: {err}") from None


MAX_TOML_DEPTH = 32  # tcpspec.toml nests three levels ([[models]], defines = { ... })
_TOML_TOKEN = re.compile(  # a string or a comment (whose brackets do not nest), or a bracket
    "|".join([r"'''.*?'''", r'"""(?:[^\\]|\\.)*?"""', r"'[^'\n]*'", r'"(?:[^"\\\n]|\\.)*"', r"#[^\n]*", r"[\[\]{}]"]),
    re.S)


def load_toml(data: bytes, what: str = "TOML", max_depth: int = MAX_TOML_DEPTH) -> dict[str, Any]:
    """tomllib.loads, with nesting bounded (tomllib recurses: `x = [[[...]]]` 1000 deep raised
    RecursionError); InputRefused past `max_depth` levels or when it is not TOML."""
    import tomllib

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputRefused(f"{what}: not valid TOML: not UTF-8 text") from None
    depth = 0
    for m in _TOML_TOKEN.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                raise InputRefused(f"{what}: nested more than {max_depth} levels deep")
        elif token in "]}":
            depth -= 1
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputRefused(f"{what}: not valid TOML: {err}") from None
    except RecursionError:
        raise InputRefused(f"{what}: nested too deeply") from None


def check_import(path: str) -> None:
    """An import must name a `.tcpspec` file, and so must the file a symlink leads to: a model's
    author chooses its imports, and a syntax error shows the line it is on, so
    `import "/proc/self/environ"` or a planted `key.tcpspec -> ~/.ssh/id_rsa` would print what is
    not a model into a CI log. InputRefused otherwise."""
    if not (path.endswith(MODEL_SUFFIX) and os.path.realpath(path).endswith(MODEL_SUFFIX)):
        raise InputRefused(f"cannot import '{path}': an import names a {MODEL_SUFFIX} file")
