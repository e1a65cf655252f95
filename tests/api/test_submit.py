"""POST /api/v1/comments: validation, sanitizing, the queue, and the error contract."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Comment, CommentStatus, EventAction, ModerationEvent, Thread
from tests.builders import comment_payload, submit, submit_approved


def _errors(response) -> dict[str, str]:
    return {error["field"]: error["code"] for error in response.get_json()["errors"]}


def _comment_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Comment))


def test_a_valid_comment_is_queued_as_pending_with_202_and_location(
    client: FlaskClient, session: Session
) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(url="https://exempel.se"))

    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["post_id"] == "haninge-och-kalix"
    assert response.headers["Location"] == f"/api/v1/comments/{body['id']}"
    assert "email" not in body
    stored = session.get(Comment, body["id"])
    assert stored.status is CommentStatus.PENDING
    assert stored.email == "asa.oberg@exempel.se"
    assert stored.url == "https://exempel.se"
    assert stored.ip == "127.0.0.1"
    assert stored.reasons[0]["rule"]


def test_the_first_comment_creates_the_thread_and_an_audit_event(
    client: FlaskClient, session: Session
) -> None:
    comment_id = submit(client, post_id="/2016/12/ny-post/")["id"]

    thread = session.scalars(select(Thread)).one()
    assert thread.post_id == "/2016/12/ny-post/"
    event = session.scalars(select(ModerationEvent)).one()
    assert (event.comment_id, event.action, event.to_status) == (
        comment_id,
        EventAction.CREATED,
        CommentStatus.PENDING,
    )


def test_all_field_errors_are_reported_at_once_as_problem_json(
    client: FlaskClient, session: Session
) -> None:
    response = client.post(
        "/api/v1/comments",
        json={
            "post_id": "p",
            "name": "  ",
            "email": "inte-en-adress",
            "url": "ftp://x",
            "body": "",
        },
    )

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422
    assert problem["title"]
    assert _errors(response) == {
        "name": "required",
        "email": "invalid_email",
        "url": "invalid_url",
        "body": "required",
    }
    assert all(error["message"] for error in problem["errors"])
    assert _comment_count(session) == 0


def test_a_missing_post_id_and_email_are_required(client: FlaskClient) -> None:
    response = client.post("/api/v1/comments", json={"name": "A", "body": "b"})

    assert response.status_code == 422
    assert _errors(response) == {"post_id": "required", "email": "required"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "å" * 123),  # 246 bytes
        ("email", "a" * 90 + "@exempel.se"),  # 101 bytes
        ("url", "https://exempel.se/" + "a" * 182),  # 201 bytes
        ("body", "ö" * 32_763),  # 65 526 bytes
    ],
)
def test_limits_are_counted_in_utf8_bytes(client: FlaskClient, field: str, value: str) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(**{field: value}))

    assert response.status_code == 422
    assert _errors(response) == {field: "too_long"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "å" * 122 + "a"),  # 245 bytes
        ("email", "a" * 64 + "@" + "b" * 32 + ".se"),  # 100 bytes, the longest local part
        ("url", "https://exempel.se/" + "a" * 181),  # 200 bytes
        ("body", "ö" * 32_762 + "a"),  # 65 525 bytes
    ],
)
def test_values_exactly_at_the_limit_are_accepted(
    client: FlaskClient, field: str, value: str
) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(**{field: value}))

    assert response.status_code == 202, response.get_json()


def test_a_post_id_longer_than_200_characters_is_rejected(client: FlaskClient) -> None:
    assert (
        client.post("/api/v1/comments", json=comment_payload(post_id="x" * 200)).status_code == 202
    )
    response = client.post("/api/v1/comments", json=comment_payload(post_id="x" * 201))
    assert _errors(response) == {"post_id": "too_long"}


def test_a_post_id_with_control_characters_is_rejected(client: FlaskClient) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(post_id="a\u0000b"))
    assert _errors(response) == {"post_id": "invalid_characters"}


def test_control_characters_are_removed_and_fields_trimmed(
    client: FlaskClient, session: Session
) -> None:
    payload = comment_payload(
        name="  Kalle\u0000 Anka\u0007 ",
        body="rad ett\r\nrad\u0085 två\x1b\ttab\ud800",
        url=" https://exempel.se/a ",
    )
    # ensure_ascii lets the lone surrogate travel as the \\ud800 escape a client may send.
    response = client.post(
        "/api/v1/comments", data=json.dumps(payload), content_type="application/json"
    )
    comment_id = response.get_json()["id"]

    stored = session.get(Comment, comment_id)
    assert stored.name == "Kalle Anka"
    assert stored.body_source == "rad ett\nrad två\ttab"
    assert stored.url == "https://exempel.se/a"


@pytest.mark.parametrize(
    "payload",
    [
        {"name": 5},
        {"email": ["a@b.se"]},
        {"body": {"html": "x"}},
        {"url": 1},
        {"parent_id": "abc"},
        {"parent_id": True},
        {"parent_id": 1.5},
        {"post_id": {"a": 1}},
    ],
)
def test_wrong_json_types_are_invalid_type(client: FlaskClient, payload: dict) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(**payload))

    assert response.status_code == 422
    assert set(_errors(response).values()) == {"invalid_type"}


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://exempel.se",
        "http://",
        "https://a b.se",
        "//x.se",
    ],
)
def test_only_http_and_https_urls_are_accepted(client: FlaskClient, url: str) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(url=url))
    assert _errors(response) == {"url": "invalid_url"}


def test_internationalized_email_addresses_are_accepted_and_normalized(
    client: FlaskClient, session: Session
) -> None:
    comment_id = submit(client, email="Åsa+blogg@Exempel.SE")["id"]
    stored = session.get(Comment, comment_id)
    assert stored.email == "Åsa+blogg@exempel.se"
    assert submit(client, email="användare@exempel.se", body="annan")["status"] == "pending"


def test_name_and_url_are_stored_as_typed_not_as_html(
    client: FlaskClient, session: Session
) -> None:
    comment_id = submit(client, name="<b>Eva</b> & Co")["id"]
    assert session.get(Comment, comment_id).name == "<b>Eva</b> & Co"


def test_the_body_is_sanitized_before_it_is_stored(client: FlaskClient, session: Session) -> None:
    comment_id = submit(client, body='<script>alert(1)</script><b onclick="x()">fet</b>')["id"]

    stored = session.get(Comment, comment_id)
    assert stored.body_html == "<p><b>fet</b></p>"
    assert "script" in stored.body_source  # moderators still see what was typed


@pytest.mark.parametrize(
    "body", ["<script>alert(1)</script>", "<b> </b>", "<!-- hej -->", "<p></p>"]
)
def test_a_body_with_no_visible_text_is_empty(client: FlaskClient, body: str) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(body=body))
    assert _errors(response) == {"body": "empty"}


def test_a_reply_to_an_approved_comment_of_the_same_post_is_accepted(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    parent_id = submit_approved(client, moderator_headers)

    reply = submit(client, parent_id=parent_id, body="Håller med")
    assert reply["parent_id"] == parent_id


def test_a_reply_to_a_pending_other_post_or_missing_comment_is_parent_not_found(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    pending_id = submit(client)["id"]
    other_post_id = submit_approved(client, moderator_headers, post_id="annan-post")

    for parent_id in (pending_id, other_post_id, 999_999):
        response = client.post("/api/v1/comments", json=comment_payload(parent_id=parent_id))
        assert _errors(response) == {"parent_id": "parent_not_found"}


def test_parent_not_found_is_reported_together_with_other_errors(client: FlaskClient) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(parent_id=42, email="x"))
    assert _errors(response) == {"parent_id": "parent_not_found", "email": "invalid_email"}


def test_the_user_agent_is_stored_cut_to_254_characters(
    client: FlaskClient, session: Session
) -> None:
    response = client.post(
        "/api/v1/comments", json=comment_payload(), headers={"User-Agent": "M" * 400}
    )
    assert session.get(Comment, response.get_json()["id"]).user_agent == "M" * 254


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{", "application/json", 400),
        ('{"a": ', "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"text"', "application/json", 400),
        ("null", "application/json", 400),
        (b"\xff\xfe\xfa", "application/json", 400),
        ("[" * 100_000, "application/json", 400),
        ("post_id=1", "application/x-www-form-urlencoded", 415),
        ("{}", "text/plain", 415),
        ("{}", None, 415),
    ],
)
def test_malformed_bodies_get_400_and_wrong_types_415(
    client: FlaskClient, session: Session, data, content_type, status: int
) -> None:
    response = client.post("/api/v1/comments", data=data, content_type=content_type)

    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == status
    assert _comment_count(session) == 0


def test_a_request_larger_than_the_limit_gets_413(client: FlaskClient, session: Session) -> None:
    huge = json.dumps(comment_payload(body="x" * 600_000))
    response = client.post("/api/v1/comments", data=huge, content_type="application/json")

    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert _comment_count(session) == 0


def test_unknown_routes_and_methods_answer_problem_json(client: FlaskClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    wrong_method = client.put("/api/v1/comments")

    assert (missing.status_code, missing.mimetype) == (404, "application/problem+json")
    assert (wrong_method.status_code, wrong_method.mimetype) == (405, "application/problem+json")
    assert "POST" in wrong_method.headers["Allow"]
