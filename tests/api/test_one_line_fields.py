"""Names and post ids stay on one line wherever they are shown (moderator e-mail, pages,
logs): a name's line breaks become spaces, a post id with a line separator is refused."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Comment
from tests.builders import comment_payload


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
def test_a_post_id_with_a_line_or_paragraph_separator_is_refused_naming_the_field(
    client: FlaskClient, session: Session, separator: str
) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(post_id=f"vinter{separator}x"))
    listed = client.get(f"/api/v1/comments?post_id=vinter{separator}x")

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert [(e["field"], e["code"]) for e in response.get_json()["errors"]] == [
        ("post_id", "invalid_characters")
    ]
    assert listed.status_code == 400
    assert session.scalars(select(Comment)).all() == []


def test_line_breaks_and_other_separators_in_a_name_become_single_spaces(
    client: FlaskClient, session: Session
) -> None:
    name = " Åsa\r\nE-mail: x@exempel.se\u2028Why\u2029it\x85is\x0bheld\x1c:\t\u00a0 Öberg "
    response = client.post("/api/v1/comments", json=comment_payload(name=name))

    assert response.status_code == 202, response.get_json()
    stored = session.scalars(select(Comment)).one()
    assert stored.name == "Åsa E-mail: x@exempel.se Why it is held : Öberg"
