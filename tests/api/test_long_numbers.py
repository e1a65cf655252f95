"""Numbers of thousands of digits, wherever an integer is read (JSON body, form field, query
parameter, path, If-Match): the usual 4xx naming the field, never a 500. CPython refuses to
convert a string of more than 4,300 digits to an int (ValueError), and below that limit the
conversion is quadratic."""

from __future__ import annotations

import base64
import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Comment
from tests.builders import comment_payload, submit

HUGE = "9" * 5000
FORM = {
    "comment_post_ID": "haninge-och-kalix",
    "author": "Åsa Öberg",
    "email": "asa.oberg@exempel.se",
    "comment": "Tack för ett bra inlägg!",
}


def _errors(response) -> dict[str, str]:
    return {error["field"]: error["code"] for error in response.get_json()["errors"]}


def _raw_json(**literals: str) -> str:
    """A submission whose named fields are written as bare JSON number literals."""
    fields = json.dumps(comment_payload())[:-1]
    extra = "".join(f', "{name}": {literal}' for name, literal in literals.items())
    return fields + extra + "}"


def _comment_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Comment))


@pytest.mark.parametrize("literal", [HUGE, "-" + HUGE])
def test_a_huge_json_parent_id_is_422_naming_the_field(
    client: FlaskClient, session: Session, literal: str
) -> None:
    response = client.post(
        "/api/v1/comments", data=_raw_json(parent_id=literal), content_type="application/json"
    )

    assert response.status_code == 422
    assert _errors(response) == {"parent_id": "parent_not_found"}
    assert _comment_count(session) == 0


def test_a_huge_json_post_id_is_422_too_long(client: FlaskClient, session: Session) -> None:
    body = _raw_json(post_id=HUGE).replace('"post_id": "haninge-och-kalix", ', "")
    response = client.post("/api/v1/comments", data=body, content_type="application/json")

    assert response.status_code == 422
    assert _errors(response) == {"post_id": "too_long"}
    assert _comment_count(session) == 0


def test_a_huge_parent_id_as_text_is_422_naming_the_field(
    client: FlaskClient, session: Session
) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(parent_id=HUGE))

    assert response.status_code == 422
    assert _errors(response) == {"parent_id": "parent_not_found"}
    assert _comment_count(session) == 0


def test_a_huge_form_comment_parent_is_a_422_page_naming_the_field(
    client: FlaskClient, session: Session
) -> None:
    response = client.post("/comments/form", data={**FORM, "comment_parent": HUGE})

    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "Reply to: The comment you are replying to does not exist" in response.get_data(
        as_text=True
    )
    assert _comment_count(session) == 0


def test_huge_public_query_parameters_are_400_naming_the_parameter(client: FlaskClient) -> None:
    response = client.get("/api/v1/comments", query_string={"post_id": "p", "limit": HUGE})
    assert response.status_code == 400
    assert _errors(response) == {"limit": "out_of_range"}

    cursor = base64.urlsafe_b64encode(f"id:{HUGE}".encode()).decode().rstrip("=")
    response = client.get("/api/v1/comments", query_string={"post_id": "p", "cursor": cursor})
    assert response.status_code == 400
    assert _errors(response) == {"cursor": "invalid_cursor"}


def test_huge_ids_in_paths_are_404(client: FlaskClient, moderator_headers: dict[str, str]) -> None:
    assert client.get(f"/api/v1/comments/{HUGE}").status_code == 404
    response = client.get(f"/api/v1/moderation/comments/{HUGE}", headers=moderator_headers)
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


def test_huge_moderation_query_parameters_are_400_naming_the_parameter(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    response = client.get(
        "/api/v1/moderation/events", query_string={"comment_id": HUGE}, headers=moderator_headers
    )
    assert response.status_code == 400
    assert _errors(response) == {"comment_id": "out_of_range"}

    response = client.get(
        "/api/v1/moderation/comments", query_string={"limit": HUGE}, headers=moderator_headers
    )
    assert response.status_code == 400
    assert _errors(response) == {"limit": "out_of_range"}


def test_a_huge_bulk_id_is_422_naming_ids(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/moderation/comments/bulk",
        data=f'{{"ids": [{HUGE}], "status": "spam"}}',
        content_type="application/json",
        headers=moderator_headers,
    )
    assert response.status_code == 422
    assert _errors(response) == {"ids": "invalid_type"}


def test_a_huge_if_match_version_is_412_not_a_server_error(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    comment_id = submit(client)["id"]
    response = client.patch(
        f"/api/v1/moderation/comments/{comment_id}",
        json={"status": "approved"},
        headers={**moderator_headers, "If-Match": f'"v{HUGE}"'},
    )
    assert response.status_code == 412
    assert response.get_json()["code"] == "version_conflict"


def test_a_huge_receipt_id_on_the_demo_page_shows_no_held_comment(client: FlaskClient) -> None:
    response = client.get("/demo/", query_string={"unapproved": HUGE, "moderation-hash": "x"})
    assert response.status_code == 200
    assert "awaiting moderation" not in response.get_data(as_text=True)
