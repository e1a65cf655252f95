"""The Swedish catalog: complete for every message in the code, and compiled as committed."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "service" / "translations" / "sv" / "LC_MESSAGES"
METHODS = [("**.py", "python"), ("web/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def _extracted_ids() -> set[str]:
    found = extract_from_dir(ROOT / "service", METHODS, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _, _, message, *_ in found}


def _as_tuple(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _messages(catalog) -> dict[tuple[str, ...], tuple[str, ...]]:
    """msgid → translations, with plurals as tuples however the reader returned them."""
    return {_as_tuple(m.id): _as_tuple(m.string) for m in catalog if m.id}


def test_every_message_in_the_code_has_a_swedish_translation() -> None:
    with (CATALOG / "messages.po").open("rb") as po:
        swedish = {msgid[0]: strings for msgid, strings in _messages(read_po(po)).items()}

    ids = _extracted_ids()
    assert "Required fields are marked *" in ids  # the extraction itself works
    assert sorted(i for i in ids if not all(swedish.get(i, ("",)))) == []


def test_the_committed_mo_file_is_the_compiled_po_file() -> None:
    with (CATALOG / "messages.po").open("rb") as po:
        compiled = io.BytesIO()
        write_mo(compiled, read_po(po))
    compiled.seek(0)
    with (CATALOG / "messages.mo").open("rb") as mo:
        assert _messages(read_mo(mo)) == _messages(read_mo(compiled))


def test_swedish_texts_read_naturally() -> None:
    with (CATALOG / "messages.po").open("rb") as po:
        swedish = {m.id: m.string for m in read_po(po) if m.id}

    assert swedish["Required fields are marked *"] == "Obligatoriska fält är märkta *"
    assert swedish["Your email address will not be published."] == "E-postadressen publiceras inte."
    assert swedish["Your comment is awaiting moderation."] == "Din kommentar väntar på granskning."
