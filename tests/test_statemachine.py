"""`tcpspec graph`: the state machine read off the model's semantics (statemachine.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tcpspec.cli import main
from tcpspec.run.pipeline import load_model
from tcpspec.analyses.statemachine import extract, to_dot

ROOT = Path(__file__).resolve().parents[1]
TCP = str(ROOT / "models/tcp.tcpspec")

# RFC 9293 Figure 5, edge by edge (state names as the model spells them).
RFC_EDGES = {
    ("CLOSED", "LISTEN"), ("CLOSED", "SYN_SENT"), ("LISTEN", "SYN_RECEIVED"), ("LISTEN", "CLOSED"),
    ("SYN_SENT", "SYN_RECEIVED"), ("SYN_SENT", "ESTABLISHED"), ("SYN_SENT", "CLOSED"),
    ("SYN_RECEIVED", "ESTABLISHED"), ("SYN_RECEIVED", "FIN_WAIT_1"), ("SYN_RECEIVED", "LISTEN"),
    ("ESTABLISHED", "FIN_WAIT_1"), ("ESTABLISHED", "CLOSE_WAIT"),
    ("FIN_WAIT_1", "FIN_WAIT_2"), ("FIN_WAIT_1", "CLOSING"), ("FIN_WAIT_1", "TIME_WAIT"),
    ("FIN_WAIT_2", "TIME_WAIT"), ("CLOSE_WAIT", "LAST_ACK"), ("CLOSING", "TIME_WAIT"),
    ("LAST_ACK", "CLOSED"), ("TIME_WAIT", "CLOSED"),
}


def test_tcp_reads_like_rfc_9293_figure_5() -> None:
    sm = extract(load_model(TCP), "Endpoint")
    assert sm.variable == "state" and sm.initial == "CLOSED" and len(sm.states) == 11
    edges = set(sm.edges)
    assert RFC_EDGES <= edges
    # The only others: resets into CLOSED (ABORT, an acceptable RST), and a FIN that acknowledges
    # the SYN taken in SYN-RECEIVED (§3.10.7.4: to ESTABLISHED, and on, the FIN, to CLOSE-WAIT;
    # the text says so, the figure has no such arrow).
    extra = edges - RFC_EDGES - {("SYN_RECEIVED", "CLOSE_WAIT")}
    assert all(b == "CLOSED" for _, b in extra), extra
    assert "syn_received_recv_fin" in sm.edges[("SYN_RECEIVED", "CLOSE_WAIT")]
    assert "listen_recv_syn" in sm.edges[("LISTEN", "SYN_RECEIVED")]
    assert "discard" in sm.loops["ESTABLISHED"]


def test_a_broken_variant_shows_its_wrong_edge() -> None:
    sm = extract(load_model(str(ROOT / "models/broken/tcp_no_time_wait.tcpspec")), "Endpoint")
    assert ("FIN_WAIT_2", "TIME_WAIT") not in sm.edges  # the fault: no TIME-WAIT


def test_dot_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", TCP]) == 0
    dot = capsys.readouterr().out
    assert dot.startswith('digraph "Endpoint"') and '"CLOSED" -> "LISTEN" [label="passive_open_call"];' in dot
    assert '"SYN_RECEIVED" [label="SYN-RECEIVED"];' in dot
    assert to_dot(extract(load_model(TCP)), self_loops=True).count("style=dashed") >= 10


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz (installed by .ci/run)")
def test_svg_through_graphviz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tcp.svg"
    assert main(["graph", TCP, "--format", "svg", "-o", str(out)]) == 0
    svg = out.read_text()
    assert "<svg" in svg and "SYN&#45;RECEIVED" in svg or "SYN-RECEIVED" in svg


def test_unknown_process_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", TCP, "--process", "Nope"]) == 2
    assert "no process or instance named 'Nope'" in capsys.readouterr().err


def test_an_empty_process_name_is_named_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    # `--process ''` is a name that matches nothing, not "no --process given".
    assert main(["graph", TCP, "--process", ""]) == 2
    assert "no process or instance named ''" in capsys.readouterr().err
