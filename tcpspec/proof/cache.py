"""A cache of proof certificates and witnesses, so that checking an unchanged model again is a
re-check only.

The prover writes the certificate of a proof (model text, `proof/certificate.render`) under a
key made of the model's source files, its constants (after `-D`), the number theory and the
tcpspec version. When the same key comes again, the certificate is read back against the
model and every obligation is re-checked with fresh solvers (`recheck.certificate_for`,
`recheck.recheck_read`), exactly as `tcpspec recheck` does: nothing in the cache is trusted,
so a stale, corrupt, planted or edited entry can cost time, never a wrong `proved`. Each entry
starts with the SHA-256 of what its key is made of (`digest`), compared on reading, so an entry
copied under another name is not read at all; entries are read as regular files of bounded
size, never through a symlink. Any trouble reading or writing the cache is ignored (it is only
a cache).

The latest certificate of each model file is also kept by the file's path alone
(`load_earlier`): when the file has been edited, the prover first re-checks that certificate
against the new text (the invariants that no longer type-check left out) and searches only if
it fails -- an edit to comments, docs or an unrelated property then costs a re-check too.

BMC's reachability witnesses are kept beside them (`store_witnesses`), under the same key: a
cached witness is replayed on the interpreter (every state and step, and that only its last state
reaches the target) before it is reported, so it is a run of the model whatever the cache holds.
What a replay cannot re-establish is that no shorter run exists: that was BMC's answer when it
was stored (the key makes it the same model, constants and tcpspec version).

Where: `$TCPSPEC_CACHE_DIR`, else `$XDG_CACHE_HOME/tcpspec`, else `~/.cache/tcpspec`.
`TCPSPEC_NO_CACHE=1` (or `tcpspec check --no-cache`) turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tcpspec.core.version import __version__

from tcpspec.checker import ir
from tcpspec.core.inputs import InputRefused, load_json, read_text
from tcpspec.core.trace import Trace, TraceStep
from tcpspec.core.types import MapValue

if TYPE_CHECKING:
    from tcpspec.proof.recheck import CertificateFile

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
    """The entry's file name: the first half of `digest`."""
    return digest(model, theory)[:32]


def digest(model: ir.Model, theory: str) -> str:
    """SHA-256 of the model's texts, constants, number theory and tcpspec version: written in
    every entry and compared when it is read, so that an entry copied under another name (or
    another model's) is never taken for this model's."""
    h = hashlib.sha256()
    h.update(f"tcpspec {__version__}\0theory {theory}\0".encode())
    for path, text in sorted(model.sources.items()):
        h.update(f"{os.path.basename(path)}\0{text}\0".encode())
    for name, value in sorted(model.constants.items()):
        h.update(f"{name}={constant_text(value)}\0".encode())
    return h.hexdigest()


def lineage_key(model: ir.Model, theory: str) -> str:
    """The model's main file by its resolved path (not its text), constants, theory and
    version: the entry an edited model can start from (`load_earlier`)."""
    h = hashlib.sha256()
    h.update(f"tcpspec {__version__}\0theory {theory}\0lineage\0{os.path.realpath(model.path)}\0".encode())
    for name, value in sorted(model.constants.items()):
        h.update(f"{name}={constant_text(value)}\0".encode())
    return h.hexdigest()[:32]


# An entry is small (tcp.tcpspec's certificate: ~60 KB); anything larger is not one of ours.
MAX_ENTRY_BYTES = 16 * 1024 * 1024


def _read(folder_name: str, name: str) -> str | None:
    """An entry's text, or None: missing, not a regular file (a symlink is not followed: the
    cache never writes one), too large, or not UTF-8."""
    where = cache_dir()
    if where is None:
        return None
    try:
        return read_text(str(where / folder_name / name), MAX_ENTRY_BYTES, "cache entry", follow_symlinks=False)
    except InputRefused:
        return None


def _bound(model: ir.Model, theory: str, text: str | None) -> str | None:
    """The entry's body if its first line names this model's digest, else None."""
    if text is None:
        return None
    first, _, rest = text.partition("\n")
    return rest if first == f"{_FOR_DIGEST}{digest(model, theory)}" else None


def load(model: ir.Model, theory: str) -> str | None:
    """The cached certificate text for this model, if any."""
    return _bound(model, theory, _read("proofs", f"{key(model, theory)}.cert"))


def load_certificate(model: ir.Model, theory: str) -> CertificateFile | None:
    """The cached certificate for this model, parsed (not yet re-checked); None if there is
    none or it does not parse."""
    from tcpspec.proof.recheck import CACHE_PATH, parse_certificate
    from tcpspec.core.diagnostics import UsageError

    text = load(model, theory)
    if text is None:
        return None
    try:
        return parse_certificate(text, CACHE_PATH)
    except UsageError:
        return None


def store(model: ir.Model, theory: str, text: str) -> None:
    """Keep a (re-checked) certificate; written atomically, failures ignored. It is also this
    model file's latest certificate, for when the file is edited (`load_earlier`)."""
    bound = f"{_FOR_DIGEST}{digest(model, theory)}\n{text}"
    _write("proofs", f"{key(model, theory)}.cert", bound)
    _write("latest", f"{lineage_key(model, theory)}.cert", bound)


def load_earlier(model: ir.Model, theory: str) -> str | None:
    """The latest certificate stored for this model file, whatever its text was then: for an
    edited model, a proof to try before searching (engines/prover.py `_earlier_proof`). None
    when it was stored for this very text: that is the `load` entry, tried already."""
    text = _read("latest", f"{lineage_key(model, theory)}.cert")
    if text is None:
        return None
    first, _, rest = text.partition("\n")
    if not first.startswith(_FOR_DIGEST) or first[len(_FOR_DIGEST):] == digest(model, theory):
        return None
    return rest


_FOR_DIGEST = "// the certificate of the model text with proof cache digest "


def _write(folder_name: str, name: str, text: str) -> None:
    where = cache_dir()
    if where is None:
        return
    try:
        folder = where / folder_name
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, folder / name)
    except OSError:
        pass


# ---------------------------------------------------------------- witnesses


def load_witnesses(model: ir.Model, theory: str) -> dict[str, Trace]:
    """The cached witnesses for this model, by target name (not yet replayed: see module doc).
    An entry that does not read back as a trace is left out."""
    text = _bound(model, theory, _read("witnesses", f"{key(model, theory)}.json"))
    if text is None:
        return {}
    try:
        doc = load_json(text, "cache entry")
    except InputRefused:
        return {}
    out: dict[str, Trace] = {}
    for name, data in (doc.items() if isinstance(doc, dict) else ()):
        try:
            out[name] = _trace_from_json(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return out


def store_witnesses(model: ir.Model, theory: str, traces: dict[str, Trace]) -> None:
    """Add BMC's (shortest, replayed) witnesses to this model's entry; failures ignored."""
    if not traces or cache_dir() is None:
        return
    kept = load_witnesses(model, theory)
    kept.update(traces)
    doc = {name: _trace_to_json(t) for name, t in sorted(kept.items())}
    # Not sort_keys: a record's fields keep the order of its type, which replay compares.
    _write("witnesses", f"{key(model, theory)}.json", f"{_FOR_DIGEST}{digest(model, theory)}\n{json.dumps(doc)}")


def _enc(v: Any) -> Any:
    """A value as JSON: maps and sets tagged as in ITF (`#map`, `#set`), records as objects."""
    if isinstance(v, MapValue):
        return {"#map": [[_enc(k), _enc(x)] for k, x in v.items]}
    if isinstance(v, frozenset):
        return {"#set": [_enc(x) for x in v]}
    if isinstance(v, dict):
        return {k: _enc(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_enc(x) for x in v]
    return v


def _dec(v: Any) -> Any:
    if isinstance(v, dict):
        if set(v) == {"#map"}:
            return MapValue(tuple((_dec(k), _dec(x)) for k, x in v["#map"]))
        if set(v) == {"#set"}:
            return frozenset(_dec(x) for x in v["#set"])
        return {k: _dec(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dec(x) for x in v]
    return v


def _trace_to_json(t: Trace) -> dict[str, Any]:
    return {"loop": t.loop, "steps": [
        {"index": s.index, "state": _enc(s.state), "transition": s.transition, "params": _enc(s.params),
         "changed": s.changed, "received": [[c, _enc(m)] for c, m in s.received],
         "sent": [[c, _enc(m)] for c, m in s.sent]}
        for s in t.steps]}


def _trace_from_json(data: dict[str, Any]) -> Trace:
    steps = [
        TraceStep(index=int(s["index"]), state=_dec(dict(s["state"])), transition=s["transition"],
                  params=_dec(dict(s["params"])), changed=list(s["changed"]),
                  received=[(str(c), _dec(m)) for c, m in s["received"]],
                  sent=[(str(c), _dec(m)) for c, m in s["sent"]])
        for s in data["steps"]]
    if not steps:
        raise ValueError("a trace has an initial state")
    return Trace(steps, data["loop"])
