"""The `tcpspec` command: its parser, made of each command's own (commands_*.py, fmt/, lsp/), and
`main`, which turns every error into one line on stderr and its exit code (exit_codes.py), never a
traceback. The only package that prints or exits.

Imports of the pipeline (and so of z3 and lark) happen inside the commands, so that `--help`
answers at once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

from tcpspec.core.version import __version__
from tcpspec.cli.commands_check import add_check_parser, add_recheck_parser
from tcpspec.cli.commands_diff import add_diff_parser
from tcpspec.cli.commands_export import add_export_parser, add_graph_parser
from tcpspec.cli.commands_gate import add_ci_parser
from tcpspec.cli.commands_traces import add_replay_parser, add_simulate_parser
from tcpspec.cli.exit_codes import (
    EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE,
)
from tcpspec.cli.output import one_line
from tcpspec.core.diagnostics import EngineError, ModelError, UsageError, error_sources, render_diagnostic
from tcpspec.fmt.command import add_fmt_parser
from tcpspec.lsp.command import add_lsp_parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tcpspec", description="A protocol model checker with an RFC 9293 TCP model at its heart."
    )
    parser.add_argument("--version", action="version", version=f"tcpspec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_check_parser(sub)
    add_ci_parser(sub)
    add_graph_parser(sub)
    add_replay_parser(sub)
    add_simulate_parser(sub)
    add_diff_parser(sub)
    add_recheck_parser(sub)
    add_export_parser(sub)
    add_fmt_parser(sub)
    add_lsp_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command; everything it prints on stdout and stderr goes through PrintableStream, so
    that an ESC in a doc comment or a file name is shown, not obeyed by the terminal."""
    from tcpspec.render.escape import PrintableStream

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableStream(out), PrintableStream(err)  # type: ignore[assignment]
    with _sigterm_interrupts() as terminated:
        try:
            code = _main(argv)
        finally:  # unless the broken-pipe branch has put /dev/null there
            if isinstance(sys.stdout, PrintableStream):
                sys.stdout = out
            sys.stderr = err
    return EXIT_TERMINATED if terminated and code == EXIT_INTERRUPTED else code


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[list[int]]:
    """SIGTERM (a CI job cancelled, `timeout`, systemd) ends the run as Ctrl-C does: the worker
    processes are stopped and what had finished is reported (by default Python would die at once
    and leave the pool's workers running). The list is non-empty once it came."""
    came: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield came
        return

    def on_term(signum: int, frame: object) -> None:
        if not came:
            came.append(signum)
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield came
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, argparse errors (code 2)
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("tcpspec: error: a command is required (try 'tcpspec check --help')", file=sys.stderr)
        return EXIT_USAGE
    if args.command != "lsp":  # the language server's event loop keeps the wakeup fd
        from tcpspec.solving import interrupts

        interrupts.install()  # before any Z3 object exists: see solving/interrupts.py
    if getattr(args, "no_cache", False):
        from tcpspec.proof.cache import ENV_OFF

        os.environ[ENV_OFF] = "1"  # worker processes inherit it
    try:
        code: int = args.func(args)
        return code
    except ModelError as e:
        sources = error_sources(e)
        for d in e.diagnostics or []:
            print(render_diagnostic(d, sources), file=sys.stderr)
        if not e.diagnostics:
            print("tcpspec: error: the model is invalid", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as e:
        print(f"tcpspec: error: {one_line(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    except EngineError as e:  # a gate's worker process died (cmd_check_one reports its own first)
        print(f"tcpspec: internal error: {one_line(str(e))} (please report)", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("tcpspec: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `tcpspec check ... | head`: the reader left; say nothing more
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the interpreter's final flush is quiet
        except OSError:
            pass
        return EXIT_BROKEN_PIPE
    except Exception as e:
        from tcpspec.solving.interrupts import is_interrupt

        if is_interrupt(e):
            print("tcpspec: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        if os.environ.get("TCPSPEC_DEBUG") == "1":
            raise
        print(f"tcpspec: internal error: {type(e).__name__}: {one_line(str(e))} (please report)", file=sys.stderr)
        return EXIT_INTERNAL
