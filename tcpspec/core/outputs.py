"""Writing the files a run produces: one writer for every output option.

A report path is usually a regular file, and then readers must never see half of it: the text
goes to a temporary file beside it, which is renamed over it. But a path may also name something
a rename would destroy: a FIFO another process reads, a device (`/dev/null`, `/dev/full`), the
run's own standard output (`/dev/stdout`, `/dev/fd/1`), or a symlink someone keeps pointing at
the real file. Those are written in place (the FIFO and the device stay what they are) or
through (the symlink stays, its target is replaced). `-` is standard output.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from dataclasses import dataclass

from tcpspec.core.diagnostics import UsageError

STDOUT = "-"
_MAX_LINKS = 40  # as the kernel's ELOOP limit


@dataclass(frozen=True)
class Target:
    """Where a path's text goes: `stream` (written in place, once, in one piece) or a regular
    file replaced atomically at `path` (a symlink's target, resolved). `fd`: the path is one of
    this process's open files (`/dev/stdout` is fd 1), written through that descriptor so that
    its offset is shared with the shell's redirection (`>>` appends, `>` is not truncated
    again); -1 for `-` (sys.stdout)."""

    path: str
    stream: bool
    fd: int | None = None


def target(path: str) -> Target:
    """How `path` is written (see the module docstring). Raises UsageError for a directory."""
    if path == STDOUT:
        return Target(path, stream=True, fd=-1)
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        where = os.path.join(os.path.realpath(os.path.dirname(current)), os.path.basename(current))
        if where.startswith("/proc/"):  # /proc/self/fd/N: an open file, not a name to replace
            return Target(where, stream=True, fd=_own_fd(where))
        if not os.path.islink(where):
            break
        current = os.path.normpath(os.path.join(os.path.dirname(where), os.readlink(where)))
    else:
        raise UsageError(f"{path}: too many levels of symbolic links")
    try:
        info = os.stat(where)
    except FileNotFoundError:
        return Target(where, stream=False)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{path} is a directory, not a file")
    if stat.S_ISREG(info.st_mode):
        return Target(where, stream=False)
    return Target(where, stream=True)


_OWN_FD = re.compile(r"^/proc/(?:self|thread-self|(\d+)(?:/task/\d+)?)/fd/(\d+)$")


def _own_fd(path: str) -> int | None:
    m = _OWN_FD.match(path)
    if m is None or (m.group(1) is not None and int(m.group(1)) != os.getpid()):
        return None
    return int(m.group(2))


def check_writable(path: str | None, option: str) -> None:
    """An output path, checked before any work (not after a long run): its directory exists,
    it is not a directory, and a special file can be opened for writing."""
    if not path or path == STDOUT:
        return
    try:
        where = target(path)
    except UsageError as err:
        raise UsageError(f"{option}: {err}") from None
    if where.stream:
        if where.fd is None and not os.access(where.path, os.W_OK):
            raise UsageError(f"{option}: cannot write {path}: permission denied")
        return
    directory = os.path.dirname(where.path)
    if not os.path.isdir(directory):
        shown = os.path.dirname(path) if where.path == os.path.abspath(path) else directory
        raise UsageError(f"{option}: no such directory: {shown}")


def write_output(path: str, text: str | list[str]) -> None:
    """Write `text` (or several documents, one after the other) to `path`. Several documents
    to a regular file are a caller's mistake: they get one file each (`trace_file_names`)."""
    texts = [text] if isinstance(text, str) else text
    try:
        where = target(path)
        if where.fd is not None:
            _write_fd(where.fd, texts)
        elif where.stream:
            _write_in_place(where.path, texts)
        else:
            _write_atomic(where.path, "".join(texts))
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None


def is_stream(path: str) -> bool:
    """Whether `path` is written in place (then every trace of a run goes to it)."""
    return target(path).stream


def _write_fd(fd: int, texts: list[str]) -> None:
    """To sys.stdout (-1), or to an open descriptor after what was printed before it."""
    if fd == -1:
        for t in texts:
            sys.stdout.write(t)
        sys.stdout.flush()
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    data = "".join(texts).encode("utf-8")
    while data:
        data = data[os.write(fd, data):]


def _write_in_place(path: str, texts: list[str]) -> None:
    # No O_CREAT: the path exists. A FIFO's open waits for a reader, as a shell's `>` does.
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        if stat.S_ISREG(os.fstat(fd).st_mode):  # another process's open file (/proc/PID/fd/N)
            os.ftruncate(fd, 0)
        for t in texts:
            f.write(t)


def _write_atomic(path: str, text: str) -> None:
    """Readers never see half a file: write a temp file next to it, then rename over."""
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide reports from CI's other users
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
