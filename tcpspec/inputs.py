"""Reading files that come from outside with bounds: a size limit, and only regular files.

A model, a trace, a certificate or a cache entry might be `/dev/zero` (read whole, it never
ends), a FIFO (open blocks until a writer comes), or a symlink planted in a shared cache. Every
reader of such a file goes through here, so that each one fails the same way: `InputRefused`
with a sentence the caller can show (the CLI turns it into exit 2).
"""

from __future__ import annotations

import json
import os
import re
import stat
from typing import Any

MiB = 1024 * 1024


class InputRefused(Exception):
    """The file is not one tcpspec reads: not a regular file, too large, or unreadable."""


def read_bytes(path: str, limit: int, what: str = "file", follow_symlinks: bool = True) -> bytes:
    """The whole content of the regular file `path`, at most `limit` bytes; InputRefused
    otherwise. Opened without blocking (a FIFO is refused, not waited on)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise InputRefused(f"cannot read {what} {path}: {err.strerror or err}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                    else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "a socket"
                    if stat.S_ISSOCK(info.st_mode) else "not a regular file")
            raise InputRefused(f"cannot read {what} {path}: it is {kind}, not a regular file")
        if info.st_size > limit:
            raise InputRefused(f"{what} {path} is too large: {info.st_size} bytes, the limit is {limit}")
        chunks: list[bytes] = []
        size = 0
        while True:  # the size can grow while it is read: the limit holds for what is read
            chunk = os.read(fd, min(limit + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise InputRefused(f"{what} {path} is too large: over {limit} bytes")
        return b"".join(chunks)
    except OSError as err:
        raise InputRefused(f"cannot read {what} {path}: {err.strerror or err}") from None
    finally:
        os.close(fd)


def read_text(path: str, limit: int, what: str = "file", follow_symlinks: bool = True) -> str:
    """`read_bytes` decoded as UTF-8 (InputRefused if it is not)."""
    data = read_bytes(path, limit, what, follow_symlinks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputRefused(f"cannot read {what} {path}: not UTF-8 text") from None


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
