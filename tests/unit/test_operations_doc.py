"""docs/operations.md lists every KOMMENTERA_* variable the code can read."""

from __future__ import annotations

import re
from pathlib import Path

from service.config import Settings

ROOT = Path(__file__).parents[2]
DOC = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
VARIABLE = re.compile(r"KOMMENTERA_[A-Z0-9_]*[A-Z0-9]")


def _documented() -> set[str]:
    return {
        match
        for line in DOC.splitlines()
        if line.startswith("| `KOMMENTERA_")
        for match in VARIABLE.findall(line.split("|")[1])
    }


def test_every_setting_is_in_the_operations_table() -> None:
    missing = set(Settings.variables()) - _documented()
    assert not missing, f"add to docs/operations.md: {sorted(missing)}"


def test_no_code_mentions_a_variable_the_operations_doc_does_not_list() -> None:
    mentioned = {
        name
        for path in (ROOT / "service").rglob("*.py")
        for name in VARIABLE.findall(path.read_text(encoding="utf-8"))
    }
    # Settings builds names from PREFIX + suffix, so the suffixes are checked above;
    # this catches a literal name read anywhere else.
    assert mentioned, "the scan found no variable names at all"
    assert not mentioned - _documented(), sorted(mentioned - _documented())


def test_the_table_lists_no_variable_the_code_does_not_read() -> None:
    assert not _documented() - set(Settings.variables())
