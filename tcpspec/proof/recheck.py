"""Reading a written proof certificate back and re-checking it (`tcpspec recheck MODEL CERTIFICATE`,
and the proof cache's entries).

proof/certificate.py holds a certificate as Z3 predicates and its obligations; this module turns
the text it renders back into one. A certificate file (`--certificate FILE`, proof/certificate.py
`render`) is model text: a header naming the proved properties, then `invariant NAME: EXPR;`
lines. It is read back by the same parser and checker as the model (each line becomes a
top-level lemma of a second file, so errors point into the certificate), and its obligations
are checked with fresh solvers: init => Inv, Inv /\\ T => Inv', Inv => P. Nothing the prover
computed is trusted: an edited certificate either fails to read or fails an obligation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tcpspec.core.diagnostics import Diagnostic, ModelError, Span, UsageError

_INVARIANT = re.compile(r"^invariant\s+(\S+?)\s*:")
_PROVED_HEADER = re.compile(r"^// .*(it implies the proved properties|-induction proves the properties):\s*$")
_K = re.compile(r"with them, (\d+)-induction proves")
EARLIER_PATH = "<earlier proof>"  # the file name an earlier version's certificate is read under
CACHE_PATH = "<proof cache>"  # ... and the proof cache's
_CERT_PATHS = (EARLIER_PATH, CACHE_PATH)


@dataclass(frozen=True)
class CertificateFile:
    path: str
    proved: list[str]  # the property names the header says it proves
    names: list[str]  # invariant names, in order
    texts: list[str]  # their expressions, as written
    k: int
    text: str  # the file rewritten as top-level lemmas `__cert_i` (same lines)
    solver_reading: bool = False  # PDR's: numbers read unwrapped, so model text may not re-check


def read_certificate(path: str) -> CertificateFile:
    """The header and the invariants of a certificate file; UsageError if it is not one."""
    from tcpspec.core.inputs import MAX_CERTIFICATE_BYTES, read_text

    return parse_certificate(read_text(path, MAX_CERTIFICATE_BYTES, "certificate"), path)


def parse_certificate(text: str, path: str) -> CertificateFile:
    """A certificate's text (`path` names it in messages); UsageError if it is not one."""
    lines = text.splitlines()
    proved: list[str] = []
    names: list[str] = []
    texts: list[str] = []
    k = 1
    in_list = False
    out: list[str] = []
    for line in lines:
        m = _K.search(line)
        if m:
            k = int(m.group(1))
        if _PROVED_HEADER.match(line):
            in_list = True
        elif in_list and line.startswith("//   "):
            proved.append(line[5:].strip())
        else:
            in_list = False
        inv = _INVARIANT.match(line)
        if inv:
            head = f"lemma __cert_{len(names)}"
            names.append(inv.group(1))
            texts.append(line[inv.end():].strip().rstrip(";").strip())
            # Keep the expression's columns where the new head is not longer than the old one.
            line = head.ljust(inv.end() - 1) + line[inv.end() - 1:]
        out.append(line)
    if not names:
        raise UsageError(f"{path}: no 'invariant NAME: EXPR;' lines: not a tcpspec proof certificate")
    if not proved:
        raise UsageError(f"{path}: the header does not list the proved properties: not a tcpspec proof certificate")
    reading = any("in the solver's reading of the state" in ln for ln in lines)
    return CertificateFile(path, proved, names, texts, k, "\n".join(out) + "\n", reading)


def certificate_for(model_path: str, cert: CertificateFile, defines: dict[str, str]):  # type: ignore[no-untyped-def]
    """The model read afresh with the certificate's invariants as extra lemmas (`__cert_i`), and
    the certificate over them: (ir.Model, proof.certificate.Certificate). ModelError when the
    text does not check against the model or names a property the model does not declare;
    UsageError when the file declares anything but its invariants (see `_only_invariants`)."""
    from tcpspec.checker.check import check_program
    from tcpspec.proof.certificate import CertInvariant, Certificate, property_builder
    from tcpspec.frontend.parser import load_program, parse_text

    if cert.k != 1:
        raise UsageError(f"{cert.path}: a {cert.k}-inductive certificate; only 1-inductive certificates "
                         "can be re-checked from a file")
    program = load_program(model_path)
    extra = parse_text(cert.text, cert.path)
    _only_invariants(extra, len(cert.names))
    program.files.append(extra)
    program.sources[cert.path] = cert.text
    model = check_program(program, defines)
    by_name = {p.name: p for p in model.properties}
    missing = [n for n in cert.proved if n not in by_name]
    if missing:
        raise ModelError([Diagnostic(Span(cert.path, 1, 1), f"the certificate proves '{n}', which {model_path} "
                                     "does not declare") for n in missing])
    invs = [CertInvariant(name, cert.texts[i], property_builder(by_name[f"__cert_{i}"]))
            for i, name in enumerate(cert.names)]
    return model, Certificate(invs, k=1, model_path=model_path, proved=list(cert.proved))


def _only_invariants(parsed, count: int) -> None:  # type: ignore[no-untyped-def]
    """A certificate is read as model text, so it could declare anything: a process whose
    initial values leave no initial state, a constant, an import. Any of those would change
    the model the obligations are asked of (an empty set of initial states makes every one of
    them hold). So the file may hold its `invariant` lines and comments, nothing else."""
    from tcpspec.frontend import ast

    wanted = {f"__cert_{i}" for i in range(count)}
    for imp in parsed.imports:
        raise UsageError(f"{imp.span.file}:{imp.span.line}: a certificate may not import files")
    for d in parsed.decls:
        if not (isinstance(d, ast.Invariant) and d.lemma and d.name in wanted):
            span = getattr(d, "span", None)
            where = f"{span.file}:{span.line}" if span is not None else parsed.path
            raise UsageError(f"{where}: a certificate holds only 'invariant NAME: EXPR;' lines and comments, "
                             "nothing else: not a tcpspec proof certificate")
        wanted.discard(d.name)
    if wanted:
        raise UsageError(f"{parsed.path}: not every 'invariant' line reads as one invariant: "
                         "not a tcpspec proof certificate")


def recheck_read(model, certificate, props: list[str], theory: str = "auto",  # type: ignore[no-untyped-def]
                 timeout: float | None = None, sources: dict[str, str] | None = None, quick: bool = False,
                 threads: int | None = None) -> str | None:
    """Every obligation of `certificate` (read by `certificate_for`, into `model`) for the
    properties named `props`, with fresh solvers: None when all hold, else what failed. The
    one re-check behind `tcpspec recheck`, the proof cache and an earlier version's proof, so
    that they cannot drift apart. `sources`: the files the caller's model was read from; the
    answer is only about that model if the certificate's model was read from the same texts."""
    from tcpspec.proof.certificate import CASE_THREADS, recheck

    if sources is not None and {k: v for k, v in model.sources.items() if k not in _CERT_PATHS} != sources:
        return "the model's files changed since it was read"
    by_name = {p.name: p for p in model.properties}
    unknown = [n for n in props if n not in by_name]
    if unknown:
        return f"the model does not declare {', '.join(unknown)}"
    return recheck(model, certificate, [by_name[n] for n in props], theory, timeout, quick,
                   threads=CASE_THREADS if threads is None else threads)


def earlier_certificate_for(model_path: str, text: str, defines: dict[str, str], declared: set[str],  # type: ignore[no-untyped-def]
                            tries: int = 5):
    """An earlier version's certificate (text) read against the model as it is now, like
    `certificate_for`, with what no longer fits left out: the proved properties not in
    `declared` (the model's property names now), and the invariant lines that no longer check
    (a renamed variable, a removed constant; each try drops the lines the checker names). None
    when nothing usable is left or the text is not a certificate. Only a hint: the result
    still has to be re-checked."""
    lines: list[str] = []
    in_list = False
    for line in text.splitlines():
        if _PROVED_HEADER.match(line):
            in_list = True
        elif in_list and line.startswith("//   "):
            if line[5:].strip() not in declared:
                continue
        else:
            in_list = False
        lines.append(line)
    path = EARLIER_PATH
    for _ in range(tries):
        try:
            cert = parse_certificate("\n".join(lines) + "\n", path)
            return certificate_for(model_path, cert, defines)
        except UsageError:
            return None
        except ModelError as err:
            bad = {d.span.line for d in err.diagnostics if d.span is not None and d.span.file == path}
            if not bad or len(bad) < len(err.diagnostics) or any(
                    not 0 < n <= len(lines) or not _INVARIANT.match(lines[n - 1]) for n in bad):
                return None  # not only invariant lines at fault
            for n in bad:
                lines[n - 1] = ""  # blank, so that the other lines keep their numbers
    return None


@dataclass(frozen=True)
class RecheckOutcome:
    ok: bool
    unknown: bool  # the solver gave up (timeout): neither valid nor refuted
    detail: str
    invariants: int
    properties: int


def recheck_file(model_path: str, cert_path: str, defines: dict[str, str], theory: str = "auto",
                 timeout: float | None = None) -> RecheckOutcome:
    """Read the model and the certificate, and check every obligation with fresh solvers."""
    from tcpspec.solving.query import require_model_initial_state

    cert = read_certificate(cert_path)
    model, certificate = certificate_for(model_path, cert, defines)
    require_model_initial_state(model, theory)  # the model's own error (exit 2); recheck_read refuses it too
    problem = recheck_read(model, certificate, cert.proved, theory, timeout)
    if problem is None:
        return RecheckOutcome(True, False, "every obligation holds", len(cert.names), len(cert.proved))
    if cert.solver_reading:
        problem += ("; note: this certificate is in the PDR solver's reading of numbers (no wrap-around), "
                    "which the model's own semantics need not share")
    return RecheckOutcome(False, "solver unknown" in problem, problem, len(cert.names), len(cert.proved))
