"""tcpspec as a library: load a model, check it, and get typed results back.

    import tcpspec

    model = tcpspec.load("models/tcp.tcpspec", defines={"MSS": "536"})
    report = tcpspec.check(model, engine="auto", timeout=60)
    for r in report.failed:
        print(r.property, r.verdict, r.depth)
        print(r.trace.to_text())          # also .to_itf(), .to_mermaid(), .to_svg()
    assert report.ok, report.to_text()

The CLI is one client of the same pipeline; what it prints is `report.to_text()`. Calls are safe
from a plain script without an `if __name__ == "__main__":` guard, a notebook and a pytest test:
the engines' worker processes never run the caller's main module (engines/processes.py). Nothing
here prints or exits: bad models raise `ModelError` (with positioned diagnostics: `str(err)`,
`err.render()`), bad arguments `UsageError`, a crashed engine process `EngineError`.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tcpspec.core.diagnostics import EngineError, ModelError, UsageError
from tcpspec.core.options import DEFAULT_ENGINE, CheckOptions
from tcpspec.core.results import PropertyResult, Verdict, exit_code

if TYPE_CHECKING:
    from tcpspec.checker import ir
    from tcpspec.core import trace as raw_trace
    from tcpspec.analyses.diff import DiffResult

Source = str | os.PathLike[str]

__all__ = ["EngineError", "Model", "ModelError", "Replay", "Report", "Result", "Trace", "UsageError", "Verdict",
           "check", "diff", "export", "load", "replay", "simulate"]


# ---------------------------------------------------------------- models


@dataclass(frozen=True)
class Model:
    """A checked model: what `load` returns and every other call takes. `ir` is the checked,
    instantiated model the engines read; `path` names it in messages and reports."""

    ir: ir.Model
    path: str
    defines: dict[str, str] = field(default_factory=dict)

    @property
    def properties(self) -> dict[str, str]:
        """Every property's name and kind, in the model's order."""
        return {p.name: p.kind.value for p in self.ir.properties + self.ir.liveness}

    @property
    def constants(self) -> dict[str, Any]:
        return dict(self.ir.constants)

    def __repr__(self) -> str:
        n = len(self.properties)
        return f"<tcpspec.Model {self.path}: {n} propert{'y' if n == 1 else 'ies'}>"


def _is_text(source: Source) -> bool:
    """A string holding a model rather than naming a file: several lines, or a brace."""
    return isinstance(source, str) and ("\n" in source or "{" in source)


def load(source: Source, defines: dict[str, Any] | None = None, *, name: str = "<string>") -> Model:
    """Parse and check a model: a path (its imports relative to it), or the model's text (imports
    relative to the current directory; `name` is how messages call it). `defines` overrides
    constants as `-D NAME=VALUE` does (values as text or Python values). Raises ModelError with
    every diagnostic found, UsageError for a bad define."""
    from tcpspec.checker.check import check_program
    from tcpspec.frontend.parser import Source as Files
    from tcpspec.frontend.parser import load_program

    class _Text(Files):  # the root file's text is `source`; its imports are read from disk
        def read(self, path: str) -> bytes:
            return str(source).encode("utf-8") if path == name else super().read(path)

    texts = {str(k): _define_text(v) for k, v in (defines or {}).items()}
    if not _is_text(source):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise UsageError(f"no such file: {path}" if not os.path.exists(path) else f"not a model file: {path}")
        model = check_program(load_program(path), texts)
        return Model(model, model.path, texts)
    try:
        model = check_program(load_program(name, _Text()), texts)
    except ModelError as err:  # the text is in no file: keep it for `err.render()`
        err.sources = {name: str(source), **(getattr(err, "sources", None) or {})}  # type: ignore[attr-defined]
        raise
    return Model(model, model.path, texts)


def _define_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _model(model: Model | Source) -> Model:
    return model if isinstance(model, Model) else load(model)


# ---------------------------------------------------------------- traces and results


@dataclass(frozen=True, repr=False)
class Trace:
    """A run of the model: a counterexample, a witness, a counterexample to induction, a random
    run. `steps[0]` is the initial state; each step has its transition, its parameters, the
    messages it received and sent, and the whole state after it. Renders as the CLI shows it."""

    raw: raw_trace.Trace
    model: Model
    property: str  # the property it is about ("" for a random run); no default: see Result
    kind: str
    verdict: Verdict | None = None
    note: str = ""  # simulate: why the run stopped early ("" if it did not)

    @builtins.property  # the field `property` shadows the builtin in this class
    def steps(self) -> list[raw_trace.TraceStep]:
        return self.raw.steps

    @builtins.property  # the field `property` shadows the builtin in this class
    def length(self) -> int:
        """The number of transitions taken."""
        return self.raw.length

    @builtins.property  # the field `property` shadows the builtin in this class
    def loop(self) -> int | None:
        """For a lasso (liveness): the step the last state continues as."""
        return self.raw.loop

    def _result(self) -> PropertyResult:
        verdict = self.verdict or Verdict.HOLDS
        return PropertyResult(self.property or "run", self.kind or "run", verdict, "", self.length, 0.0, trace=self.raw)

    def to_text(self) -> str:
        """The step table of the text report."""
        from tcpspec.render.text import render_trace

        what = "" if self.property else "run"
        return "\n".join(render_trace(self.raw, self._result(), self.model.ir, what=what)) + "\n"

    def to_itf(self) -> dict[str, Any]:
        """Apalache's ITF JSON document (what `--trace-out` writes)."""
        from tcpspec.render.itf import trace_to_itf

        verdict = self.verdict.value if self.verdict else "run"
        return trace_to_itf(self.raw, source=self.model.path, prop=self.property or "run", verdict=verdict,
                            model=self.model.ir)

    def to_mermaid(self) -> str:
        """A Mermaid sequence diagram (what `--format mermaid` prints)."""
        from tcpspec.render.msc import build_chart, to_mermaid

        return to_mermaid(build_chart(self.raw, self._result() if self.verdict else None, self.model.ir))

    def __repr__(self) -> str:
        about = f": {self.property} {self.verdict.value if self.verdict else ''}".rstrip() if self.property else ""
        loop = "" if self.loop is None else f", looping back to step {self.loop}"
        return f"<tcpspec.Trace of {self.length} steps{loop}{about}>"

    def to_svg(self, title: str = "") -> str:
        """A self-contained SVG sequence diagram (what `--svg FILE` writes)."""
        from tcpspec.render.msc import build_chart, to_svg

        title = title or f"{self.model.path}: {self.property or 'run'} {self.verdict.value if self.verdict else ''}"
        return to_svg(build_chart(self.raw, self._result() if self.verdict else None, self.model.ir), title.strip())


@dataclass(frozen=True, repr=False)
class Result:
    """One property's verdict. `depth` is the bound searched, or the length of the trace when
    there is one; `trace` is the counterexample or witness (None for proofs and bounded holds);
    `cti` the counterexample to induction when a proof failed; `raw` what the engines returned.
    (No field has a default, so that the field `property` leaves the builtin usable below.)"""

    property: str
    kind: str
    verdict: Verdict
    engine: str
    depth: int | None
    seconds: float
    detail: str
    doc: str
    trace: Trace | None
    traces: list[Trace]  # with `max_cex`: every counterexample found, `trace` first
    cti: Trace | None
    raw: PropertyResult = field(repr=False)
    model: Model = field(repr=False)

    @classmethod
    def of(cls, raw: PropertyResult, model: Model) -> Result:
        def wrap(t: raw_trace.Trace | None, verdict: Verdict | None = raw.verdict) -> Trace | None:
            return None if t is None else Trace(t, model, raw.property, raw.kind, verdict)

        runs = raw.traces or ([raw.trace] if raw.trace is not None else [])
        return cls(raw.property, raw.kind, raw.verdict, raw.engine, raw.depth, raw.seconds, raw.detail, raw.doc,
                   wrap(raw.trace), [t for t in map(wrap, runs) if t is not None], wrap(raw.cti, None), raw, model)

    @builtins.property  # the field `property` shadows the builtin in this class
    def failed(self) -> bool:
        """Violated, or a target not reached: what fails a CI gate (exit 1)."""
        return bool(self.raw.failed)

    @builtins.property  # the field `property` shadows the builtin in this class
    def certificate(self) -> str:
        """A proof's certificate as model text (`tcpspec recheck` reads it back); "" otherwise."""
        return self.raw.certificate

    def to_text(self) -> str:
        """The property's lines in the full report (its verdict line and its trace)."""
        from tcpspec.render.text import name_width, render_result

        return "\n".join(render_result(self.raw, name_width([self.property]), self.model.ir)) + "\n"

    def __repr__(self) -> str:
        depth = "" if self.depth is None else f", depth {self.depth}"
        return f"<tcpspec.Result {self.property}: {self.verdict.value} ({self.engine}{depth})>"


@dataclass(frozen=True)
class Report:
    """The results of one check, in the model's order."""

    model: Model
    results: list[Result]
    interrupted: bool = False

    def __iter__(self) -> Iterator[Result]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, name: str) -> Result:
        """The result of the property called `name` (or a process property's short name, when
        one instance has it)."""
        hits = [r for r in self.results if r.property == name] or \
               [r for r in self.results if r.property.split(".", 1)[-1] == name]
        if len(hits) != 1:
            known = ", ".join(r.property for r in self.results)
            raise KeyError(f"{name!r}: {'ambiguous' if hits else 'no such property'} (properties: {known})")
        return hits[0]

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.failed]

    @property
    def exit_code(self) -> int:
        """What `tcpspec check` would exit with: 0 ok, 1 a failure, 3 unknown, 130 interrupted."""
        return 130 if self.interrupted else exit_code([r.raw for r in self.results])

    @property
    def ok(self) -> bool:
        """Every property holds (proved, reached, or no violation within the bound)."""
        return self.exit_code == 0

    def summary(self) -> str:
        """`116 properties: 110 proved, 6 reached`."""
        from tcpspec.render.text import render_summary

        return render_summary([r.raw for r in self.results])

    def to_text(self, verbose: bool = False) -> str:
        """The text report; `verbose`: the full table with every trace (`tcpspec check -v`)."""
        from tcpspec.render.text import render_report

        return render_report(self.model.path, [r.raw for r in self.results], self.model.ir, verbose=verbose,
                             interrupted=self.interrupted)

    def to_json(self) -> dict[str, Any]:
        """The document `tcpspec check --format json` prints (docs/schemas/report.schema.json)."""
        from tcpspec.render.json_report import report_to_json

        return report_to_json(self.model.path, [r.raw for r in self.results], self.model.ir,
                              interrupted=self.interrupted)

    def __repr__(self) -> str:
        return f"<tcpspec.Report {self.model.path}: {self.summary()}>"


# ---------------------------------------------------------------- check


@contextmanager
def _cache(enabled: bool) -> Iterator[None]:
    """`cache=False` for one call: the proof cache reads its switch from the environment (the
    engines' worker processes inherit it), so it is set for the call and restored after."""
    from tcpspec.proof.cache import ENV_OFF

    if enabled:
        yield
        return
    before = os.environ.get(ENV_OFF)
    os.environ[ENV_OFF] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_OFF, None)
        else:
            os.environ[ENV_OFF] = before


def check(
    model: Model | Source,
    properties: str | Sequence[str] = (),
    *,
    engine: str = DEFAULT_ENGINE,
    depth: int | None = None,
    timeout: float | None = None,
    kinds: Sequence[str] = (),
    theory: str = "auto",
    keep_going: bool = False,
    max_cex: int = 1,
    deadlock: bool = False,
    k_max: int = 4,
    memory_mb: int | None = None,
    cache: bool = True,
) -> Report:
    """Check `model` (a Model, or a path or text to `load`) as `tcpspec check` does.

    `properties`: names to check (default all; a process property's short name selects it for
    every instance); `kinds`: only these kinds. `engine`: a registered engine (`auto`, `bmc`,
    `kind`, `pdr`, ...). `depth`: BMC's bound (default: the model's `depth` declarations, else
    20). `timeout`: seconds per property. Like the CLI, a check stops at its first violation
    unless `keep_going`. `cache=False` neither reads nor fills the proof cache.
    """
    m = _model(model)
    names = (properties,) if isinstance(properties, str) else tuple(properties)
    options = CheckOptions(properties=names, kinds=tuple(kinds), depth=depth, timeout=timeout, engine=engine,
                           theory=theory, memory_mb=memory_mb, deadlock=deadlock, k_max=k_max, max_cex=max_cex,
                           keep_going=keep_going)
    from tcpspec.solving import interrupts
    from tcpspec.run.pipeline import check_model

    interrupts.install()  # Ctrl-C stops a query at once (in the main thread: a notebook's too)
    interrupts.reset()  # an earlier call's Ctrl-C is spent
    with _cache(cache):
        found = check_model(m.ir, options)
    return Report(m, [Result.of(r, m) for r in found])


# ---------------------------------------------------------------- replay, diff, simulate, export


@dataclass(frozen=True)
class Replay:
    """Whether an observed trace is a behaviour of the model. `verdict`: "accepted", "rejected"
    or "unknown"; `explained`: the transition that explains each step, in order, up to the first
    one no run explains (`first_unexplained`, 1-based; None when accepted) and `reason` why."""

    verdict: str
    steps: int
    explained: list[str]
    first_unexplained: int | None = None
    reason: str = ""
    seconds: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.verdict == "accepted"


def replay(model: Model | Source, trace: Trace | Source, *, conn: str | None = None, strict_acks: bool = False,
           timeout: float | None = 300.0) -> Replay:
    """`tcpspec replay`: `trace` is one of our Traces, an ITF file (.json), a capture
    (.pcap/.pcapng: the first connection, or `conn` "A:P-B:Q"), or a text trace (a file, or its
    text: `client -> server SYN,ACK seq=0 ack=1`, one segment a line)."""
    m = _model(model)
    if isinstance(trace, Trace):
        return _replay_run(m, trace.raw)
    if _is_text(trace) or (isinstance(trace, str) and "->" in trace and not os.path.exists(trace)):
        from tcpspec.traffic.wire import read_text_trace

        return _replay_segments(m, read_text_trace("<string>", str(trace)), timeout, strict_acks)
    path = os.fspath(trace)
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    lower = path.lower()
    if lower.endswith(".json"):
        from tcpspec.core.inputs import MAX_TRACE_BYTES, InputRefused, load_json, read_text
        from tcpspec.render.itf import itf_to_trace

        text = read_text(path, MAX_TRACE_BYTES, "trace")  # bounded, a regular file (InputRefused)
        try:
            doc = load_json(text, "the trace")
        except InputRefused as e:
            raise UsageError(f"{path}: not an ITF JSON trace ({e})") from None
        return _replay_run(m, itf_to_trace(doc, m.ir))
    from tcpspec.traffic.wire import read_pcap, read_text_trace

    if lower.endswith((".pcap", ".pcapng", ".cap")):
        return _replay_segments(m, read_pcap(path, conn), timeout, strict_acks)
    from tcpspec.core.inputs import MAX_TRACE_BYTES, read_bytes

    try:
        text = read_bytes(path, MAX_TRACE_BYTES, "trace").decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text (captures must end in .pcap or .pcapng)") from None
    return _replay_segments(m, read_text_trace(path, text), timeout, strict_acks)


def _replay_run(m: Model, run: raw_trace.Trace) -> Replay:
    """A run of ours: every state and step as written, checked on the interpreter."""
    from tcpspec.interp.search import run_is_behaviour

    res = run_is_behaviour(m.ir, run)
    if res.ok:
        return Replay("accepted", run.length, [s.transition or "" for s in run.steps[1:]])
    done = [s.transition or "" for s in run.steps[1:res.step or 0]]
    return Replay("rejected", run.length, done, res.step, res.message)


def _replay_segments(m: Model, segments: list[Any], timeout: float | None, strict_acks: bool) -> Replay:
    from tcpspec.traffic.conformance import check_conformance

    res = check_conformance(m.ir, segments, timeout=timeout, coalesce_acks=not strict_acks)
    return Replay(res.verdict, len(segments), [x.transition for x in res.explained], res.first_unexplained,
                  res.reason, res.seconds)


def diff(a: Model | Source, b: Model | Source, *, depth: int = 6, other_depth: int | None = None,
         direction: str = "both", timeout: float | None = None, theory: str = "auto",
         absent_as_default: bool = False, defines: dict[str, Any] | None = None) -> DiffResult:
    """`tcpspec diff`: the shortest message sequence one model sends and the other cannot
    (`DiffResult.verdict` "different", with `messages`, `witness`...), or "same" within the
    bounds. Given two paths, `defines` applies to each model that declares the constant."""
    from tcpspec.analyses.diff import diff_models, load_pair

    directions = {"both": ("a", "b"), "a-not-b": ("a",), "b-not-a": ("b",)}.get(direction)
    if directions is None:
        raise UsageError(f"direction: expected both, a-not-b or b-not-a, got '{direction}'")
    if isinstance(a, Model) or isinstance(b, Model):
        ma, mb = _model(a).ir, _model(b).ir
    else:
        ma, mb = load_pair(os.fspath(a), os.fspath(b), {k: _define_text(v) for k, v in (defines or {}).items()})
    return diff_models(ma, mb, depth, other_depth, timeout, theory, directions, absent_as_default)


def simulate(model: Model | Source, steps: int = 20, seed: int = 0) -> Trace:
    """`tcpspec simulate`: a random run of at most `steps` transitions on the interpreter (the
    same seed gives the same run); `Trace.note` says why it stopped early, if it did."""
    from tcpspec.interp.simulate import simulate as run

    m = _model(model)
    raw, stopped = run(m.ir, steps, seed)
    return Trace(raw, m, "", "", note=stopped)


def export(model: Model | Source, to: str = "promela", *, properties: Sequence[str] = (), theory: str = "auto",
           **promela: Any) -> str:
    """`tcpspec export`: the model as Promela for SPIN (`to="promela"`; keyword options
    `isn_values`, `isn_vars`, `payload_range`, `max_steps`, as export.promela.ExportOptions) or
    as an SMT-LIB 2 transition system (`to="smtlib"`, in `theory`)."""
    from tcpspec.run.pipeline import select_properties

    m = _model(model)
    props = [p for p in select_properties(m.ir, tuple(properties)) if p.kind.value not in ("eventually", "leads_to", "temporal")]
    if to == "smtlib":
        if promela:
            raise UsageError(f"{', '.join(sorted(promela))}: only for to='promela'")
        from tcpspec.exporters.smtlib import export_smtlib

        return export_smtlib(m.ir, theory, props).text
    if to != "promela":
        raise UsageError(f"to: expected promela or smtlib, got '{to}'")
    from tcpspec.exporters.promela import ExportOptions, export_promela

    try:
        options = ExportOptions(properties=tuple(p.name for p in props), **promela)
    except TypeError as e:
        raise UsageError(f"export options: {e}") from None
    return export_promela(m.ir, options)
