"""single_line() is what keeps a name on one line: no input leaves a line break in it."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from service.comments.validation import single_line

ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200)


@given(ANY_TEXT)
def test_single_line_leaves_no_line_break_control_or_double_space(value: str) -> None:
    line = single_line(value)

    assert len(f"x{line}x".splitlines()) == 1
    assert not any(unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") for char in line)
    assert "  " not in line
    assert line == line.strip()


@given(ANY_TEXT)
def test_single_line_keeps_every_visible_character_in_order(value: str) -> None:
    visible = [c for c in value if not c.isspace() and unicodedata.category(c) not in ("Cc", "Cs")]
    assert [c for c in single_line(value) if c != " "] == visible
