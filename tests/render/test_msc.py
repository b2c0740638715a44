"""Sequence diagrams (render/msc.py): Mermaid text, standalone SVG, and the SVG in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import pytest

from tcpspec.run.pipeline import CheckOptions, check_model, load_model
from tcpspec.render.msc import build_chart, html_page, message_label, to_mermaid, to_svg
from tcpspec.core.results import PropertyResult, Verdict

ROOT = Path(__file__).resolve().parents[2]
SVG_NS = "{http://www.w3.org/2000/svg}"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@lru_cache(maxsize=None)
def _cex(path: str, prop: str, depth: int) -> tuple[object, PropertyResult]:
    model = load_model(str(ROOT / path))
    result = check_model(model, CheckOptions(engine="bmc", depth=depth, properties=(prop,)))[0]
    assert result.verdict in (Verdict.VIOLATED, Verdict.REACHED) and result.trace is not None
    return model, result


def test_message_labels_read_like_the_seed() -> None:
    syn_ack = {"syn": True, "ack": True, "fin": False, "rst": False, "seq": 0, "ackno": 1, "len": 0}
    assert message_label(syn_ack) == "SYN,ACK seq=0 ack=1 len=0"
    assert message_label({"syn": True, "ack": False, "seq": 7, "ackno": 0, "len": 0}) == "SYN seq=7 len=0"
    assert message_label({"bit": False, "data": 3}) == "data=3"


def test_mermaid_of_the_seed_counterexample() -> None:
    model, r = _cex("models/broken/seed_ack_plus_two.tcpspec", "server.syn_ack_rule", 3)
    text = to_mermaid(build_chart(r.trace, r, model))  # type: ignore[arg-type]
    lines = [ln.strip() for ln in text.splitlines()]
    assert lines[:3] == ["sequenceDiagram", "participant client", "participant server"]
    syn = lines.index("client->>server: SYN seq=0 len=0")
    reply = next(i for i, ln in enumerate(lines) if ln.startswith("server--)client: SYN,ACK seq=0 ack=2"))
    shade = lines.index("rect rgb(255, 221, 221)")
    assert shade < syn < reply < lines.index("end")  # the violating step is shaded
    assert "Note over client,server: violates server.syn_ack_rule" in lines
    assert any("LISTEN -> SYN_RECEIVED" in ln for ln in lines)


def _svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.split("?>", 1)[-1])
    return [t.text or "" for t in root.iter(f"{SVG_NS}text")]


def _messages(model: object, r: PropertyResult) -> list[str]:
    """Every message label of the trace, in the order of the run."""
    chart = build_chart(r.trace, r, model)  # type: ignore[arg-type]
    return [e.text for e in chart.events if e.kind in ("msg", "inflight", "lost")]


def test_svg_is_standalone_and_has_every_message_in_order() -> None:
    model, r = _cex("models/broken/tcp_una_wrong.tcpspec", "client.una_moves_to_ack", 6)
    svg = to_svg(build_chart(r.trace, r, model), "tcp_una_wrong")  # type: ignore[arg-type]
    assert "<script" not in svg and "href" not in svg.replace('url(#arrow)', '')  # nothing to fetch
    texts = _svg_texts(svg)
    assert [t for t in texts if "seq=" in t] == _messages(model, r)
    assert len(_messages(model, r)) >= 3
    assert any("violates client.una_moves_to_ack" in t for t in texts)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (installed by .ci/run)")
def test_svg_renders_in_a_headless_browser(tmp_path: Path) -> None:
    model, r = _cex("models/broken/tcp_una_wrong.tcpspec", "client.una_moves_to_ack", 6)
    svg = to_svg(build_chart(r.trace, r, model), "tcp_una_wrong")  # type: ignore[arg-type]
    # The browser lays the SVG out; a script lists each text that was drawn (a box with a
    # width), top to bottom, into the DOM that --dump-dom prints.
    probe = (
        "<pre id='out'></pre><script>"
        "const rows = [...document.querySelectorAll('svg text')]"
        ".map(t => [t.getBBox().y, t.getBBox().width, t.textContent])"
        ".filter(r => r[1] > 0).sort((a, b) => a[0] - b[0]);"
        "document.getElementById('out').textContent = rows.map(r => r[2]).join('\\n');"
        "</script>"
    )
    page = tmp_path / "trace.html"
    page.write_text(html_page(svg).replace("</body>", probe + "</body>"), encoding="utf-8")
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r"<pre id=\"out\">(.*?)</pre>", proc.stdout, flags=re.S)
    assert match, proc.stdout[-2000:]
    drawn = [ln.replace("&gt;", ">").replace("&amp;", "&") for ln in match.group(1).splitlines()]
    position = -1
    for want in _messages(model, r):
        hits = [i for i, ln in enumerate(drawn) if want in ln and i > position]
        assert hits, f"{want!r} not drawn after row {position}: {drawn}"
        position = hits[0]
    for state in ("CLOSED -> LISTEN", "LISTEN -> SYN_RECEIVED", "SYN_SENT -> ESTABLISHED", "SYN_RECEIVED -> FIN_WAIT_1"):
        assert any(state in ln for ln in drawn), state
    assert drawn.index(next(ln for ln in drawn if "CLOSED -> LISTEN" in ln)) < drawn.index(
        next(ln for ln in drawn if "SYN_RECEIVED -> FIN_WAIT_1" in ln))
    assert any("violates client.una_moves_to_ack" in ln for ln in drawn)
