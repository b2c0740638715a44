"""The argument vocabulary every command shares: the checks of option values (each refused at parse
time with exit 2 and a message, before any work), `-D NAME=VALUE`, the CI gate's options, and the
translation of `check`'s arguments into the library's `CheckOptions`. A command's own options are
declared in its commands_*.py module with these checks."""

from __future__ import annotations

import argparse
import re
from typing import Callable

from tcpspec.core.diagnostics import UsageError
from tcpspec.core.inputs import MAX_DEPTH, MAX_JOBS, MAX_SECONDS
from tcpspec.core.options import CheckOptions

FORMATS = ("text", "json", "mermaid")

DEFINE_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S.*?)\s*$")

# Upper bounds of numeric options (docs/errors.md "Limits"): far past what a run can use, and
# each one stops a number that would overflow a C int in the pool or the solver, or an unrolling
# that would build for ever, at parse time with exit 2.
MAX_K = 1000
MAX_CEX = 10_000
MAX_STEPS = 1_000_000
MAX_PROMELA_STEPS = 30_000  # Promela's `short steps` counter (export/promela.py)
MIN_MEMORY_MB = 64  # measured: below it Z3 cannot even start on a small model (docs/errors.md)
MAX_MEMORY_MB = 1 << 20  # 1 TiB; Z3's memory_max_size is an unsigned int of MB


def _whole(text: str, what: str) -> int:
    """ASCII decimal digits only: int() would also take '٣', '1_000' and ' 7 '."""
    if not re.fullmatch(r"-?[0-9]{1,30}", text):
        raise argparse.ArgumentTypeError(f"expected {what}, got '{text if len(text) <= 40 else text[:37] + '...'}'")
    return int(text)


def bounded_int(low: int, high: int, what: str = "a whole number") -> Callable[[str], int]:
    def parse(text: str) -> int:
        n = _whole(text, what)
        if n < low:
            raise argparse.ArgumentTypeError("must not be negative, got " + text if low == 0
                                             else f"expected {what} of at least {low}, got '{text}'")
        if n > high:
            raise argparse.ArgumentTypeError(f"at most {high}, got {text}")
        return n
    return parse


def nonneg_int(text: str) -> int:
    return bounded_int(0, MAX_DEPTH)(text)


def positive_int(text: str) -> int:
    return bounded_int(1, MAX_DEPTH, "a positive whole number")(text)


def positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got '{text}'") from None
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got '{text}'")
    if x >= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be below {MAX_SECONDS} seconds, got '{text}'")
    return x


def memory_mb(text: str) -> int:
    n = bounded_int(1, MAX_MEMORY_MB, "a number of megabytes")(text)
    if n < MIN_MEMORY_MB:
        raise argparse.ArgumentTypeError(f"{n} MB is below what Z3 needs to start ({MIN_MEMORY_MB} MB at least)")
    return n


_CLUSTER = re.compile(r"(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):[0-9]{1,5}")


def file_name(text: str) -> str:
    """A path option's value; an empty one is refused (not taken as "not given", silently)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a file name, got '{text}'")
    return text


def report_name(text: str) -> str:
    """A report file beside the run's own report on standard output, so not `-` (the two would
    be one stream no reader can split); /dev/stdout mixes them for who wants that."""
    if text == "-":
        raise argparse.ArgumentTypeError("'-' would mix this file into the report on standard output: "
                                         "name a file, or /dev/stdout to mix them on purpose")
    return file_name(text)


def _scheduler_address(text: str) -> str:
    """A Dask scheduler's address, [PROTOCOL://]HOST:PORT; an empty one is refused (not taken as
    "run locally"), and so is one Dask would fail to parse after the models are read."""
    address = text.strip()
    if not _CLUSTER.fullmatch(address) or not 0 < int(address.rsplit(":", 1)[1]) < 65536:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise argparse.ArgumentTypeError(f"expected a scheduler address such as tcp://host:8786, got '{shown}'")
    return address


def add_defines(p: argparse.ArgumentParser, help: str = "override a constant (repeatable)") -> None:
    """`-D NAME=VALUE`, the same in every command that reads a model."""
    p.add_argument("-D", dest="define", metavar="NAME=VALUE", action="append", default=[], help=help)

def values_arg(text: str) -> tuple[str, tuple[int, ...]]:
    """`NAME=A..B` or `NAME=V,V,...` (engine explicit): the values a free number is searched over."""
    name, eq, vals = text.partition("=")
    try:
        if not eq or not name.strip():
            raise ValueError
        if ".." in vals:
            lo, hi = (int(x, 0) for x in vals.split("..", 1))
            if hi < lo or hi - lo >= 1 << 16:
                raise argparse.ArgumentTypeError(f"{text}: give at most 65536 values, lowest first")
            return name.strip(), tuple(range(lo, hi + 1))
        return name.strip(), tuple(int(x, 0) for x in vals.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=A..B or NAME=V,V,..., got '{text}'") from None


def add_gate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-cache", dest="no_cache", action="store_true",
                   help="do not use or fill the proof cache (certificates of earlier proofs of the "
                        "same model, always re-checked before use; see tcpspec/proof/cache.py)")
    p.add_argument("--keep-going", dest="keep_going", action="store_true",
                   help="check every property to the end after a violation (default: a model's "
                        "check stops at its first violation, like SPIN and TLC; what it has not "
                        "decided by then is unknown)")
    p.add_argument("--junit", metavar="FILE", default=None, type=report_name,
                   help="write a JUnit XML report (one test case per model and property)")
    p.add_argument("--sarif", metavar="FILE", default=None, type=report_name,
                   help="write a SARIF 2.1.0 report (one result per failing property, at its line)")
    p.add_argument("-j", "--jobs", dest="jobs", metavar="N", type=bounded_int(1, MAX_JOBS, "a positive whole number"), default=None,
                   help="independent checks in N worker processes (default: the number of "
                        "cores when several models or reports are asked for, else in-process)")
    p.add_argument("--cluster", metavar="ADDRESS", default=None, type=_scheduler_address,
                   help="hand the checks to a Dask distributed scheduler (pip install 'tcpspec[cluster]')")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print only the summary line (reports are still written)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="the full table: every property on its own line in the model's order, with "
                        "every trace (default: what needs attention first, then one line per verdict)")


def parse_defines(items: list[str]) -> dict[str, str]:
    """`-D NAME=VALUE` pairs; the last one wins. The checker judges the values."""
    defines: dict[str, str] = {}
    for item in items:
        m = DEFINE_RE.match(item)
        if not m:
            raise UsageError(f"bad -D '{item}': expected NAME=VALUE")
        defines[m.group(1)] = m.group(2)
    return defines


def check_options(args: argparse.Namespace) -> CheckOptions:
    """`check`'s options as the library takes them (options.py defines each once)."""
    return CheckOptions(
        properties=tuple(args.prop), kinds=tuple(args.kinds), depth=args.depth,
        timeout=args.timeout, engine=args.engine,
        theory=args.theory, memory_mb=args.memory_mb,
        deadlock=getattr(args, "deadlock", False), max_cex=getattr(args, "max_cex", 1),
        k_max=getattr(args, "k_max", 4), keep_going=getattr(args, "keep_going", False),
        values=tuple(getattr(args, "values", ())), max_states=getattr(args, "max_states", None),
        search=getattr(args, "search", "bfs"), symmetry=getattr(args, "symmetry", True),
    )
