"""Edit-to-diagnostics latency of `tcpspec lsp` on models/tcp.tcpspec, measured as an editor sees
it: a pygls client starts the server over stdio, opens the model, then sends edits (one typed
character, a new line, a type error and its fix, in different parts of the file) and times each
from sending `didChange` to receiving its `publishDiagnostics`.

    python benchmarks/lsp_latency.py [--rounds N] [--pause SECONDS] [--json FILE]

Prints one line per kind of edit (median, 90th percentile and maximum in ms) and, with --json,
writes every sample. `--pause` waits between edits (as a person typing does), which lets the
server's idle-time garbage collection run between them. The figures go to docs/performance.md;
no test asserts on them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models/tcp.tcpspec"


def edits(text: str) -> dict[str, tuple[str, str]]:
    """Kinds of edit -> (edited text, the text to go back to)."""
    lines = text.split("\n")

    def at(line_no: int, new: str) -> str:
        copy = list(lines)
        copy[line_no] = new
        return "\n".join(copy)

    inside = next(i for i, line in enumerate(lines) if "snd_nxt := snd_nxt + n;" in line)
    late = next(i for i, line in enumerate(lines) if line.startswith("reachable both_established"))
    return {
        "char in a transition (process body)": (at(inside, lines[inside] + " "), text),
        "char in a top-level property": (at(late, lines[late] + " "), text),
        "new line near the top": ("\n".join([lines[0], "", *lines[1:]]), text),
        "type error in a transition": (at(inside, lines[inside].replace("+ n;", "+ true;")), text),
        "syntax error (missing ';')": (at(inside, lines[inside].replace("+ n;", "+ n")), text),
    }


async def measure(rounds: int, pause: float) -> dict[str, list[float]]:
    text = MODEL.read_text(encoding="utf-8")
    client = LanguageClient("lsp-latency", "1")
    got: asyncio.Queue[lsp.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _diags(params: lsp.PublishDiagnosticsParams) -> None:
        got.put_nowait(params)

    await client.start_io(sys.executable, "-m", "tcpspec", "lsp")
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    client.initialized(lsp.InitializedParams())
    uri = from_fs_path(str(MODEL)) or ""
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="tcpspec", version=1, text=text)))
    await got.get()
    version = 1
    samples: dict[str, list[float]] = {}

    async def send(new: str) -> float:
        nonlocal version
        version += 1
        await asyncio.sleep(pause)
        start = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=new)]))
        while (await got.get()).uri != uri:
            pass
        return (time.perf_counter() - start) * 1000

    for _ in range(rounds):
        for kind, (edited, back) in edits(text).items():
            samples.setdefault(kind, []).append(await send(edited))
            samples.setdefault(kind + " (undo)", []).append(await send(back))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return samples


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--pause", type=float, default=0.0, help="seconds between edits (default 0)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    samples = asyncio.run(measure(args.rounds, args.pause))
    print(f"models/tcp.tcpspec, {args.rounds} rounds, pause {args.pause:g} s, "
          f"load average {os.getloadavg()[0]:.2f}")
    for kind, ms in samples.items():
        ms_sorted = sorted(ms)
        p90 = ms_sorted[max(0, int(len(ms_sorted) * 0.9) - 1)]
        print(f"{kind:45s} median {statistics.median(ms):6.0f} ms  p90 {p90:6.0f} ms  max {max(ms):6.0f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(samples, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
