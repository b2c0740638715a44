"""Turn a full copy of a model with a few lines changed into a variant of the model.

Broken models are written as variants (models/broken/README.md). A copy written the old way (the
whole model, one line changed) is converted with

    python models/broken/from_copy.py models/tcp.tcpspec COPY.tcpspec > models/broken/NAME.tcpspec

which keeps the copy's header comment and writes, for every item whose text differs from the
base's, a `replace` of it with the copy's text (`drop` for an item the copy lacks, the item itself
for one it adds). It compares items without their positions, so only real changes are written.
It refuses (exit 1) what it cannot express: a copy whose changes are not whole items.
Check the result: `tcpspec check` it, and `tests/test_broken_models.py` compares it to its base.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tcpspec.frontend import ast  # noqa: E402
from tcpspec.core.diagnostics import ModelError  # noqa: E402
from tcpspec.fmt import format_text  # noqa: E402
from tcpspec.frontend.parser import parse_text  # noqa: E402
from tcpspec.frontend.variant import kind_of, shape  # noqa: E402

_FIELDS = ("vars", "transitions", "properties", "finals", "defs")


def _items(mf: ast.ModelFile) -> dict[tuple[str, str, str], object]:
    out: dict[tuple[str, str, str], object] = {}
    for d in mf.decls:
        if isinstance(d, ast.ProcessDecl):
            for f in _FIELDS:
                for m in getattr(d, f):
                    out[(d.name, kind_of(m), m.name)] = m
            out[("", "process", d.name)] = d
        elif isinstance(d, ast.FairDecl):
            out[("", "fair", repr(sorted(map(repr, shape(d.targets)))))] = d
        else:
            out[("", kind_of(d), getattr(d, "name", repr(shape(d))))] = d
    return out


def _text(source: str, span: object) -> str:
    lines = source.splitlines(keepends=True)
    first, last = span.line, span.end_line  # type: ignore[attr-defined]
    return "".join(lines[first - 1 : last]).strip("\n")


def _qualify(text: str, kind: str, name: str, proc: str) -> str:
    """The item's text with `Process.` before its name (the first occurrence after its keyword)."""
    at = text.index(name, text.index(kind) + len(kind)) if kind in text else text.index(name)
    return text[:at] + f"{proc}." + text[at:]


def convert(base_path: str, copy_path: str, base_ref: str) -> str:
    base_text = Path(base_path).read_text(encoding="utf-8")
    copy_text = Path(copy_path).read_text(encoding="utf-8")
    base, copy = _items(parse_text(base_text, base_path)), _items(parse_text(copy_text, copy_path))
    edits: list[str] = []
    for key, item in copy.items():
        proc, kind, name = key
        if kind == "process":
            if key in base and shape(item.params) != shape(base[key].params):  # type: ignore[attr-defined]
                raise SystemExit(f"process {name}: its parameters changed; a variant cannot say that")
            if key not in base:
                edits.append(_text(copy_text, item.span))  # type: ignore[attr-defined]
            continue
        if proc and ("", "process", proc) not in base:
            continue  # a member of a process the copy adds: added with it
        if key in base and shape(base[key]) == shape(item):
            continue
        text = _text(copy_text, item.span)  # type: ignore[attr-defined]
        text = _qualify(text, kind, name, proc) if proc else text
        edits.append(("replace " if key in base else "") + text.lstrip())
    for key, item in base.items():
        if key not in copy and key[1] != "process":
            proc, kind, name = key
            if kind == "fair":
                edits.append("drop " + _text(base_text, item.span).lstrip())  # type: ignore[attr-defined]
            else:
                edits.append(f"drop {kind} {proc + '.' if proc else ''}{name};")
    header = []
    for line in copy_text.splitlines():
        if not line.startswith("//"):
            break
        header.append(line)
    if header and header[0].startswith("// Broken copy of"):
        header[0] = f"// Broken variant of {base_ref.lstrip('./')}: one fault, marked FAULT below."
    body = "\n\n".join("  " + e for e in edits)
    return format_text("\n".join(header) + f'\n\nvariant of "{base_ref}" {{\n{body}\n}}\n')


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    base, copy = argv
    try:
        sys.stdout.write(convert(base, copy, os.path.relpath(base, os.path.dirname(os.path.abspath(copy)))))
    except ModelError as err:
        print(err.render(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
