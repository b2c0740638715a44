"""A cache of proof certificates, so that checking an unchanged model again is a re-check only.

The prover writes the certificate of a proof (model text, `engines/certificate.render`) under a
key made of the model's source files, its constants (after `-D`), the number theory and the
tcpspec version. When the same key comes again, the certificate is read back against the
model and every obligation is re-checked with fresh solvers (`certcheck.certificate_for`,
`certificate.recheck`), exactly as `tcpspec recheck` does: nothing in the cache is trusted, so
a stale, corrupt or edited entry can cost time, never a wrong `proved`. Any trouble reading or
writing the cache is ignored (it is only a cache).

Where: `$TCPSPEC_CACHE_DIR`, else `$XDG_CACHE_HOME/tcpspec`, else `~/.cache/tcpspec`.
`TCPSPEC_NO_CACHE=1` (or `tcpspec check --no-cache`) turns it off.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tcpspec import __version__, ir

if TYPE_CHECKING:
    from tcpspec.certcheck import CertificateFile

ENV_DIR = "TCPSPEC_CACHE_DIR"
ENV_OFF = "TCPSPEC_NO_CACHE"


def cache_dir() -> Path | None:
    """The directory of cached certificates, or None when caching is off."""
    if os.environ.get(ENV_OFF, "") not in ("", "0"):
        return None
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tcpspec"


def constant_text(value: object) -> str:
    """A constant's value as `-D` text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def key(model: ir.Model, theory: str) -> str:
    h = hashlib.sha256()
    h.update(f"tcpspec {__version__}\0theory {theory}\0".encode())
    for path, text in sorted(model.sources.items()):
        h.update(f"{os.path.basename(path)}\0{text}\0".encode())
    for name, value in sorted(model.constants.items()):
        h.update(f"{name}={constant_text(value)}\0".encode())
    return h.hexdigest()[:32]


def load(model: ir.Model, theory: str) -> str | None:
    """The cached certificate text for this model, if any."""
    where = cache_dir()
    if where is None:
        return None
    try:
        return (where / "proofs" / f"{key(model, theory)}.cert").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def load_certificate(model: ir.Model, theory: str) -> CertificateFile | None:
    """The cached certificate for this model, parsed (not yet re-checked); None if there is
    none or it does not parse."""
    from tcpspec.certcheck import parse_certificate
    from tcpspec.diagnostics import UsageError

    text = load(model, theory)
    if text is None:
        return None
    try:
        return parse_certificate(text, "<proof cache>")
    except UsageError:
        return None


def store(model: ir.Model, theory: str, text: str) -> None:
    """Keep a (re-checked) certificate; written atomically, failures ignored."""
    where = cache_dir()
    if where is None:
        return
    try:
        folder = where / "proofs"
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, folder / f"{key(model, theory)}.cert")
    except OSError:
        pass
