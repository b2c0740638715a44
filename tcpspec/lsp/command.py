"""`tcpspec lsp`: argument wiring only. pygls is an optional dependency (`pip install
'tcpspec[lsp]'`), imported when the command runs, so the rest of the CLI works without it."""

from __future__ import annotations

import argparse
import sys

EXIT_USAGE = 2


def add_lsp_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "lsp",
        help="run the language server (for editors: diagnostics, hover, go to definition, ...)",
        description="Run the tcpspec language server on standard input and output (the Language "
                    "Server Protocol). Editors start it; see docs/editors.md for VS Code, Neovim, "
                    "Helix and Emacs.",
    )
    p.add_argument("--stdio", action="store_true",
                   help="talk over standard input/output (the default and only transport; accepted "
                        "because some clients pass it)")
    p.set_defaults(func=cmd_lsp)


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from tcpspec.lsp.server import run_stdio
    except ImportError as exc:
        print(f"tcpspec: error: the language server needs pygls ({exc.name or exc} is missing): "
              "pip install 'tcpspec[lsp]'", file=sys.stderr)
        return EXIT_USAGE
    run_stdio()
    return 0
