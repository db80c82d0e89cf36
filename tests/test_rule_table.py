"""docs/protocol.md's table "Where each rule lives" stays true: every file it names exists and
every name it gives in parentheses is defined in the file beside it."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def rows() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    section = text.split("## Where each rule lives", 1)[1].split("\n## ", 1)[0]
    out = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] not in ("rule", "---"):
            out.append((cells[0], cells[1]))
    return out


def places(code: str) -> list[tuple[pathlib.Path, list[str]]]:
    """(file or folder, names defined there) for one cell; a bare file name continues the
    folder of the path before it (`models/upload.py`, `payment.py`)."""
    found: list[tuple[pathlib.Path, list[str]]] = []
    folder = None
    for part in re.finditer(r"`([^`]+)`(?:\s*\(([^)]*)\))?", code):
        inside = re.findall(r"`([^`]+)`", part.group(2) or "")
        name, names = part.group(1), [n for n in inside if "/" not in n]
        found.extend((ROOT / n, []) for n in inside if "/" in n)
        if "/" in name:
            path = ROOT / name.split(" ")[0]
            folder = path.parent if path.suffix else path
        elif folder is not None and name.endswith((".py", ".rs")):
            path = folder / name
        else:
            continue
        found.append((path, names))
    return found


def test_the_table_has_rows_for_the_rust_core_and_the_python_package():
    cells = " ".join(code for _, code in rows())
    assert len(rows()) >= 20
    assert "rust/src/envelope.rs" in cells and "python/medpay_core/models/__init__.py" in cells


def test_every_file_and_name_in_the_table_exists():
    for rule, code in rows():
        assert places(code), rule
        for path, names in places(code):
            assert path.exists(), f"{rule}: {path} is missing"
            source = path.read_text(encoding="utf-8") if path.is_file() else ""
            for name in names:
                bare = name.split("::")[-1]
                assert re.search(rf"\b(fn|def|class|struct|enum|const|static)\s+{re.escape(bare)}\b"
                                 rf"|^{re.escape(bare)}\s*[:=]", source, re.M), f"{rule}: {name} not in {path}"
