"""An ESC or another control character in a doc comment or a file name reaches no report raw:
the terminal is not driven by a model, and JUnit XML stays XML (tcpspec/render/escape.py)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tcpspec.cli import main
from tcpspec.render.escape import printable

# What a terminal would obey: ESC (clear screen, set title), BEL, CR, C1 CSI, a bidi override.
EVIL = "evil \x1b[2J\x1b]0;pwned\x07 \r\x9b31m \u202e rev"
MODEL = f"""process P() {{
  var x: 0..3 = 0;
  transition t when x < 3 {{ x := x + 1; }}
}}
instance p = P();
/// {EVIL}
invariant small: p.x < 2;
"""
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def model(tmp_path: Path) -> str:
    directory = tmp_path / "dir\x1b[31m"
    directory.mkdir()
    path = directory / "m.tcpspec"
    path.write_text(MODEL)
    return str(path)


def _clean(text: str) -> None:
    assert not RAW.search(text), repr(RAW.search(text))
    assert "\\x1b[2J" in text  # shown, escaped


def test_the_text_report(model: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", model, "--engine", "bmc"]) == 1
    out = capsys.readouterr()
    _clean(out.out)
    assert "\\x1b[31m" in out.out  # the directory's name, in the header


def test_mermaid(model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", model, "--engine", "bmc", "--format", "mermaid"]) == 1
    out = capsys.readouterr().out
    assert not RAW.search(out) and out.count("sequenceDiagram") == 1


def test_junit_is_valid_xml(model: str, tmp_path: Path) -> None:
    import junitparser

    report = tmp_path / "j.xml"
    assert main(["check", model, "--engine", "bmc", "--junit", str(report)]) == 1
    text = report.read_text()
    _clean(text)
    ET.fromstring(text.split("?>", 1)[1])
    suites = junitparser.JUnitXml.fromfile(str(report))
    assert suites.failures == 1


def test_sarif(model: str, tmp_path: Path) -> None:
    report = tmp_path / "s.sarif"
    assert main(["check", model, "--engine", "bmc", "--sarif", str(report)]) == 1
    doc = json.loads(report.read_text())
    strings = json.dumps(doc, ensure_ascii=False)
    assert not RAW.search(strings)
    assert "\\x1b[2J" in doc["runs"][0]["tool"]["driver"]["rules"][0]["shortDescription"]["text"]


def test_svg_is_valid_xml(model: str, tmp_path: Path) -> None:
    svg = tmp_path / "c.svg"
    assert main(["check", model, "--engine", "bmc", "--svg", str(svg)]) == 1
    text = svg.read_text()
    assert not RAW.search(text)
    ET.fromstring(text.split("?>", 1)[1])


def test_error_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "no\x1b[2Jsuch.tcpspec")]) == 2
    err = capsys.readouterr().err
    assert not RAW.search(err) and "no\\x1b[2Jsuch.tcpspec" in err


def test_printable_keeps_newlines_tabs_and_letters() -> None:
    assert printable("a\tb\nc é 握手") == "a\tb\nc é 握手"
    assert printable("\x00\x1b\x7f\x85\u2067") == "\\x00\\x1b\\x7f\\x85\\u2067"
