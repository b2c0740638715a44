"""How `tcpspec replay` scales with the length of a connection: prints a table, writes JSON.

    python benchmarks/replay_scaling.py [--captures DIR] [--json FILE] [--cap SECONDS]

Synthetic text traces of models/tcp.tcpspec's behaviour, each replayed with no -D in a fresh
process (`python -m tcpspec replay ... --format json`):
- `exchanges N`: a handshake, N request/response exchanges (4 segments each: data, its ACK,
  the answer, its ACK), a three-segment close: 4N + 6 segments.
- `bursts B`: 200 data segments sent B at a time, each burst acknowledged every other segment
  (as Linux does) while the rest of the burst is in flight: the frontier grows with B.
With `--captures DIR` (traces/capture_loopback.py --all DIR), every capture there too. Each
row: segments, the verdict, the command's wall time and CPU time (on a shared machine the CPU
time is the comparable figure), replay's own wall time (`seconds` of the JSON report, model
loading excluded), and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TCP = str(ROOT / "models/tcp.tcpspec")


def exchanges(n: int) -> str:
    c, s = 3_000_000_000, 4_294_967_000  # the server's sequence numbers wrap around 2^32
    out = [f"client -> server SYN seq={c}", f"server -> client SYN,ACK seq={s} ack={c + 1}",
           f"client -> server ACK seq={c + 1} ack={(s + 1) % 2**32}"]
    c, s = c + 1, s + 1
    for _ in range(n):
        out.append(f"client -> server ACK,PSH seq={c} ack={s % 2**32} len=10")
        c += 10
        out.append(f"server -> client ACK seq={s % 2**32} ack={c}")
        out.append(f"server -> client ACK,PSH seq={s % 2**32} ack={c} len=20")
        s += 20
        out.append(f"client -> server ACK seq={c} ack={s % 2**32}")
    out += [f"client -> server FIN,ACK seq={c} ack={s % 2**32}", f"server -> client FIN,ACK seq={s % 2**32} ack={c + 1}",
            f"client -> server ACK seq={c + 1} ack={(s + 1) % 2**32}"]
    return "\n".join(out) + "\n"


def bursts(total: int, burst: int) -> str:
    c, s = 1000, 5000
    out = [f"client -> server SYN seq={c}", f"server -> client SYN,ACK seq={s} ack={c + 1}",
           f"client -> server ACK seq={c + 1} ack={s + 1}"]
    c, s = c + 1, s + 1
    sent = 0
    while sent < total:
        ends = []
        for _ in range(burst):
            out.append(f"client -> server ACK seq={c} ack={s} len=100")
            c += 100
            sent += 1
            ends.append(c)
        acks = ends[1::2] + ([ends[-1]] if len(ends) % 2 else [])
        out += [f"server -> client ACK seq={s} ack={a}" for a in acks]
    out += [f"client -> server FIN,ACK seq={c} ack={s}", f"server -> client FIN,ACK seq={s} ack={c + 1}",
            f"client -> server ACK seq={c + 1} ack={s + 1}"]
    return "\n".join(out) + "\n"


def run(trace: str, cap: float, conn: str | None = None) -> dict[str, Any]:
    cmd = [sys.executable, "-c", "import resource, sys; from tcpspec.cli.app import main; code = main(sys.argv[1:]); "
           "r = resource.getrusage(resource.RUSAGE_SELF); print(r.ru_maxrss, r.ru_utime + r.ru_stime, file=sys.stderr); "
           "sys.exit(code)",
           "replay", TCP, trace, "--format", "json", "--timeout", str(cap)] + (["--conn", conn] if conn else [])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=cap + 60)
    except subprocess.TimeoutExpired:
        return {"verdict": f"> {cap:g} s", "wall": None}
    wall = time.perf_counter() - t0
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"verdict": "error", "error": proc.stderr[-400:], "wall": round(wall, 2)}
    peak, cpu = proc.stderr.strip().splitlines()[-1].split()
    return {"verdict": doc["verdict"], "segments": doc["segments"], "wall": round(wall, 2), "cpu": round(float(cpu), 2),
            "replay": doc["seconds"], "rss_mb": round(int(peak) / 1024, 1),
            "at": doc.get("where"), "settings": doc.get("settings")}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--captures", metavar="DIR", help="also replay the captures in DIR (its index.json)")
    p.add_argument("--json", metavar="FILE", default=None)
    p.add_argument("--cap", type=float, default=300.0, help="seconds per replay (default 300)")
    p.add_argument("--quick", action="store_true", help="the smallest sizes only")
    args = p.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [(f"exchanges {n}", exchanges(n)) for n in ((1, 25) if args.quick else (1, 25, 250, 750))]
        cases += [(f"bursts {b}", bursts(200, b)) for b in ((4,) if args.quick else (2, 4, 10, 20))]
        for name, text in cases:
            path = Path(tmp) / f"{name.replace(' ', '_')}.txt"
            path.write_text(text)
            rows.append({"name": name, **run(str(path), args.cap)})
            print(_row(rows[-1]), flush=True)
    if args.captures:
        index = json.loads((Path(args.captures) / "index.json").read_text())
        for name, entry in sorted(index.items()):
            if "file" in entry:
                rows.append({"name": f"capture {name}", **run(entry["file"], args.cap, entry.get("conn"))})
                print(_row(rows[-1]), flush=True)
    doc = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.platform(), "python": sys.version.split()[0],
           "load": open("/proc/loadavg").read().split()[:3] if Path("/proc/loadavg").exists() else None, "rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    return 0


def _row(r: dict[str, Any]) -> str:
    return (f"{r['name']:<28} {r.get('segments', ''):>6} {r['verdict']:<9} wall {r.get('wall')} s, cpu {r.get('cpu')} s, "
            f"replay {r.get('replay')} s, {r.get('rss_mb')} MB" + (f"  (rejected at {r['at']})" if r.get("at") else ""))


if __name__ == "__main__":
    sys.exit(main())
