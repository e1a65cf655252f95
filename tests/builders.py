"""Builders called inside tests, so every test shows the data it relies on."""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from service import db
from service.comments.review import update_comment
from service.config import Settings
from service.models import CommentStatus, OutboxEvent


def comment_payload(**overrides: Any) -> dict[str, Any]:
    payload = {
        "post_id": "haninge-och-kalix",
        "name": "Åsa Öberg",
        "email": "asa.oberg@exempel.se",
        "body": "Tack för ett bra inlägg!",
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not None}


def submit(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/comments", json=comment_payload(**overrides))
    assert response.status_code in (201, 202), response.get_json()
    return response.get_json()


def approve(client: FlaskClient, headers: dict[str, str], comment_id: int) -> None:
    response = client.patch(
        f"/api/v1/moderation/comments/{comment_id}", json={"status": "approved"}, headers=headers
    )
    assert response.status_code == 200, response.get_json()


def submit_approved(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> int:
    comment_id = submit(client, **overrides)["id"]
    approve(client, headers, comment_id)
    return comment_id


def outbox_event(app: Flask, client: FlaskClient, **columns: Any) -> int:
    """Submit a comment, then set columns (delivered_at, failed_at, …) of the event it
    wrote; returns the event's id."""
    submit(client, body=f"Kommentar {uuid.uuid4().hex}")  # a repeated body is a duplicate
    with db.database(app).writers.begin() as session:
        event_id = session.scalar(select(func.max(OutboxEvent.id)))
        if columns:
            statement = update(OutboxEvent).where(OutboxEvent.id == event_id)
            session.execute(statement.values(**columns))
    return event_id


def outbox_event_ids(session: Session) -> set[int]:
    session.rollback()  # end the read snapshot so the query sees other sessions' commits
    return set(session.scalars(select(OutboxEvent.id)))


def settings_for(database_url: str, **overrides: Any) -> Settings:
    """Test settings: tests post many comments from one IP and e-mail in quick succession,
    so flood and rate limits are off unless a test turns them on."""
    return Settings(
        database_url=database_url, **{"flood_seconds": 0, "rate_limit": "0", **overrides}
    )


def metric_sample(text: str, name: str, **labels: str) -> float | None:
    """A sample's value in Prometheus text output, or None when the series is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return None


_WAITING_FOR_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def _another_transaction_waits_for_a_lock(engine: Engine) -> bool:
    """Wait (up to 5 s) until some PostgreSQL session of this database waits for a lock."""
    with engine.connect() as watcher:
        for _ in range(500):
            if watcher.execute(_WAITING_FOR_A_LOCK).scalar():
                return True
            # pg_stat_activity is read once per transaction: a new one sees new waits.
            watcher.rollback()
            time.sleep(0.01)
    return False


def approve_in_racing_transactions(app: Flask, first_id: int, second_id: int) -> None:
    """Approve two comments in overlapping PostgreSQL transactions: the first commits only
    once the second waits for a lock, so the second's counts must include the first's
    approval, which its own snapshot did not see."""
    database = db.database(app)

    def approve_second() -> None:
        with database.writers.begin() as session:
            update_comment(session, second_id, actor="second", status=CommentStatus.APPROVED)

    with database.writers.begin() as first:
        update_comment(first, first_id, actor="first", status=CommentStatus.APPROVED)
        second = threading.Thread(target=approve_second)
        second.start()
        assert _another_transaction_waits_for_a_lock(database.engine)
    second.join(timeout=10)
