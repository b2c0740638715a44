"""Every ```tcpspec block of docs/language.md parses and checks, so the reference cannot drift.

A block is a whole model, unless the line before it is `<!-- checked in context: NAME -->`:
then it is checked inside the context NAME below (a small model with a hole where the block
goes), the declarations it assumes (TCP's `Segment`, an `Endpoint`'s variables) being there.
A block that is a syntax schema, not a model, is fenced as ```text, not ```tcpspec.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tcpspec.run.pipeline import load_model

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "language.md"
BLOCK = re.compile(r"(?:<!-- checked in context: ([\w-]+) -->\n)?```tcpspec\n(.*?)```", re.S)
BLOCKS = BLOCK.findall(DOC.read_text(encoding="utf-8"))

_TCP = """\
const MSS = 4;
const CAP = 2;
const LOSSY = false;
const REORDER = false;
const ATTACK = false;
enum State { CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSING, TIME_WAIT,
             CLOSE_WAIT, LAST_ACK }
message Segment { syn: bool = false, ack: bool = false, seq: seq32, ackno: seq32 = 0, len: 0..MSS = 0 }
"""
_CHANNELS = "channel c2s: Segment[CAP];\nchannel s2c: Segment[CAP];\n"
_ENDPOINT = """\
process Endpoint(inbox: chan Segment, outbox: chan Segment, passive: bool) {
  var state: State = if passive then LISTEN else CLOSED;
  var iss: seq32;
  var irs: seq32 = 0;
  var snd_una: seq32 = iss;
  var snd_nxt: seq32 = iss;
  var rcv_nxt: seq32 = 0;
@PROC@
}
instance client = Endpoint(inbox: s2c, outbox: c2s, passive: false);
instance server = Endpoint(inbox: c2s, outbox: s2c, passive: true);
"""
_ABP = """\
const K = 2;
enum Phase { IDLE, BUSY, DONE }
message Frame { msg: 0..K }
channel data: Frame[1];
process Sender(out: chan Frame) {
  var next: 0..K = 0;
  fair transition transmit when next < K { send out Frame { msg: next }; next := next + 1; }
}
process Receiver(inbox: chan Frame) {
  var delivered: 0..K = 0;
  fair transition take receive f from inbox { delivered := f.msg + 1; }
}
instance sender = Sender(out: data);
instance receiver = Receiver(inbox: data);
"""

# context name -> the model with a hole (@TOP@ at top level, @PROC@ inside a process).
CONTEXTS = {
    "import": "@TOP@\ninvariant common_seen: COMMON == 1;\n",
    "tcp-types": "const MSS = 4;\n@TOP@",
    "tcp-channels": _TCP + "@TOP@",
    "tcp-process": _TCP + _CHANNELS + "@TOP@",
    "tcp-endpoint": _TCP + _CHANNELS + _ENDPOINT,
    "tcp-top": _TCP + _CHANNELS + _ENDPOINT.replace("@PROC@", "") + "@TOP@",
    "abp": _ABP + "@TOP@",
}


def _model(context: str, block: str) -> str:
    if not context:
        return block
    text = CONTEXTS[context]
    hole = "@PROC@" if "@PROC@" in text else "@TOP@"
    return text.replace(hole, block)


def test_the_reference_has_its_blocks() -> None:
    assert len(BLOCKS) >= 18
    assert {c for c, _ in BLOCKS if c} == set(CONTEXTS), "a context no block uses, or a block naming none"


@pytest.mark.parametrize(("context", "block"), BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_every_block_parses_and_checks(context: str, block: str, tmp_path: Path) -> None:
    path = tmp_path / "doc.tcpspec"
    if "variant of \"../tcp.tcpspec\"" in block:  # a variant, as it would sit in models/broken/
        (tmp_path / "tcp.tcpspec").write_text((ROOT / "models" / "tcp.tcpspec").read_text(encoding="utf-8"))
        path = tmp_path / "broken" / "doc.tcpspec"
        path.parent.mkdir()
    path.write_text(_model(context, block), encoding="utf-8")
    (tmp_path / "tcp_common.tcpspec").write_text("const COMMON = 1;\n", encoding="utf-8")
    model = load_model(str(path))  # raises ModelError, with positions, if the block is wrong
    assert model.warnings == [], [w.message for w in model.warnings]


def test_the_variant_example_is_the_librarys_file() -> None:
    (block,) = [b for _, b in BLOCKS if "variant of" in b]
    name, _, body = block.partition("\n")
    path = ROOT / name.removeprefix("// ").split(":")[0]
    assert body in path.read_text(encoding="utf-8"), f"docs/language.md's variant example is not {path}'s"
