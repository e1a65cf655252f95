"""Comment events land in the outbox in the same transaction as the change."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import OutboxEvent
from tests.builders import submit


def _events(session: Session) -> list[OutboxEvent]:
    session.rollback()  # end the read snapshot so the next query sees new commits
    return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def test_a_submission_writes_a_comment_created_event_with_its_verdict(
    client: FlaskClient, session: Session
) -> None:
    comment_id = submit(client, email="private@exempel.se")["id"]
    [event] = _events(session)
    assert event.event_type == "comment.created"
    assert event.payload["comment"]["id"] == comment_id
    assert event.payload["verdict"]["status"] == "pending"
    assert event.payload["verdict"]["reasons"]
    assert event.payload["private"]["email"] == "private@exempel.se"
    assert event.delivered_at is None
    assert event.attempts == 0


def test_a_rejected_submission_writes_no_event(client: FlaskClient, session: Session) -> None:
    assert client.post("/api/v1/comments", json={"post_id": "p"}).status_code == 422
    assert _events(session) == []


def test_status_changes_single_and_bulk_write_one_event_per_changed_comment(
    client: FlaskClient, session: Session, moderator_headers: dict[str, str]
) -> None:
    first, second = submit(client)["id"], submit(client, body="Ett annat svar")["id"]
    response = client.patch(
        f"/api/v1/moderation/comments/{first}",
        json={"status": "approved"},
        headers=moderator_headers,
    )
    assert response.status_code == 200
    response = client.post(
        "/api/v1/moderation/comments/bulk",
        json={"ids": [first, second], "status": "spam"},
        headers=moderator_headers,
    )
    assert response.status_code == 200

    changes = [e.payload for e in _events(session) if e.event_type == "comment.status_changed"]
    assert [(p["comment"]["id"], p["from_status"], p["to_status"]) for p in changes] == [
        (first, "pending", "approved"),
        (first, "approved", "spam"),
        (second, "pending", "spam"),
    ]
    assert all(p["actor"] == "moderator-1" for p in changes)
    assert changes[0]["comment"]["status"] == "approved"


def test_a_change_that_does_not_commit_leaves_no_event(
    client: FlaskClient, session: Session, moderator_headers: dict[str, str]
) -> None:
    comment_id = submit(client)["id"]
    response = client.patch(
        f"/api/v1/moderation/comments/{comment_id}",
        json={"status": "approved"},
        headers={**moderator_headers, "If-Match": '"v99"'},
    )
    assert response.status_code == 412
    assert [e.event_type for e in _events(session)] == ["comment.created"]
