"""Free-text cleaning is a regex; these pin it to the Unicode categories it stands for."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.comments.validation import clean_text, validate_comment
from service.errors import InvalidFieldsError

REMOVED_CATEGORIES = {"Cc", "Cs"}


def _by_category(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    kept = (
        char
        for char in value
        if char in "\t\n" or unicodedata.category(char) not in REMOVED_CATEGORIES
    )
    return "".join(kept).strip()


def test_every_code_point_is_kept_or_removed_by_its_category() -> None:
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    assert clean_text(f"x{every}x") == _by_category(f"x{every}x")


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200))
def test_clean_text_matches_the_category_rule(value: str) -> None:
    assert clean_text(value) == _by_category(value)


def _draft(**fields: str) -> dict[str, str]:
    return {"post_id": "p", "name": "Anna", "email": "anna@example.se", "body": "Hej", **fields}


@pytest.mark.parametrize("post_id", ["a\tb", "a\nb", "a\x00b", "a\x85b", "a\ud800b"])
def test_post_ids_with_tab_newline_or_controls_are_refused(post_id: str) -> None:
    with pytest.raises(InvalidFieldsError) as raised:
        validate_comment(_draft(post_id=post_id), parent_exists=lambda *_: False)
    assert [(e.field, e.code) for e in raised.value.errors] == [("post_id", "invalid_characters")]


def test_body_keeps_tabs_and_newlines_and_drops_controls() -> None:
    draft = validate_comment(_draft(body="a\tb\r\nc\x07d\x9fe"), parent_exists=lambda *_: False)
    assert draft.body_source == "a\tb\ncde"
