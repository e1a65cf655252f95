"""The worker delivers outbox events to a real local webhook receiver and SMTP server,
retrying with backoff and giving up after the configured attempts."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import db
from service.config import Settings
from service.models import OutboxEvent, utcnow
from service.notifications import worker
from tests.builders import approve, submit
from tests.notifications.receivers import silent_server, smtp_server, webhook_receiver

SECRET = "test-webhook-secret"


def _events(session: Session) -> list[OutboxEvent]:
    session.rollback()  # end the read snapshot so the next query sees new commits
    return list(session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def _make_due(app: Flask) -> None:
    with db.database(app).writers.begin() as session:
        session.execute(update(OutboxEvent).values(next_attempt_at=utcnow()))


def test_events_are_posted_signed_and_without_private_fields(
    app: Flask,
    client: FlaskClient,
    session: Session,
    settings: Settings,
    moderator_headers: dict[str, str],
) -> None:
    comment_id = submit(client, email="hemlig@exempel.se")["id"]
    approve(client, moderator_headers, comment_id)
    with webhook_receiver(SECRET) as receiver:
        configured = replace(settings, webhook_url=receiver.url, webhook_secret=SECRET)
        assert worker.deliver_due(db.database(app).writers, configured) == 2

    assert receiver.bad_signatures == 0
    assert [p["type"] for p in receiver.received] == ["comment.created", "comment.status_changed"]
    created, changed = receiver.received
    assert created["verdict"]["status"] == "pending"
    assert changed["to_status"] == "approved"
    assert "private" not in created
    assert "hemlig@exempel.se" not in str(receiver.received)
    assert receiver.headers[0]["Kommentera-Event"] == "comment.created"
    assert receiver.headers[0]["Kommentera-Delivery"] == created["id"]
    assert all(e.delivered_at is not None and e.attempts == 1 for e in _events(session))


def test_private_fields_are_included_only_when_configured(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    submit(client, email="hemlig@exempel.se")
    with webhook_receiver(SECRET) as receiver:
        configured = replace(
            settings, webhook_url=receiver.url, webhook_secret=SECRET, webhook_include_private=True
        )
        worker.deliver_due(db.database(app).writers, configured)
    assert receiver.received[0]["private"]["email"] == "hemlig@exempel.se"


def test_a_failing_receiver_is_retried_with_backoff_until_it_accepts(
    app: Flask, client: FlaskClient, session: Session, settings: Settings
) -> None:
    submit(client)
    with webhook_receiver(SECRET, fail_first=2) as receiver:
        configured = replace(settings, webhook_url=receiver.url, webhook_secret=SECRET)
        sessions = db.database(app).writers
        before = utcnow()
        assert worker.deliver_due(sessions, configured) == 1
        [event] = _events(session)
        assert event.delivered_at is None
        assert event.attempts == 1
        assert event.last_error == "webhook: receiver answered 500"
        # Not due again until the backoff has passed.
        base = timedelta(seconds=configured.delivery_backoff_seconds)
        assert before + base <= event.next_attempt_at <= utcnow() + 2 * base
        assert worker.deliver_due(sessions, configured) == 0

        _make_due(app)
        worker.deliver_due(sessions, configured)
        _make_due(app)
        worker.deliver_due(sessions, configured)

    [event] = _events(session)
    assert receiver.calls == 3
    assert len(receiver.received) == 1
    assert event.delivered_at is not None
    assert event.attempts == 3
    assert event.last_error is None


def test_an_event_is_marked_failed_after_the_maximum_attempts(
    app: Flask, client: FlaskClient, session: Session, settings: Settings
) -> None:
    submit(client)
    with webhook_receiver(SECRET, fail_first=100) as receiver:
        configured = replace(
            settings, webhook_url=receiver.url, webhook_secret=SECRET, delivery_max_attempts=2
        )
        for _ in range(3):
            worker.deliver_due(db.database(app).writers, configured)
            _make_due(app)
    [event] = _events(session)
    assert receiver.calls == 2
    assert event.failed_at is not None
    assert event.delivered_at is None


def test_the_backoff_doubles_per_attempt_with_bounded_jitter() -> None:
    configured = Settings(database_url="sqlite://", delivery_backoff_seconds=10)
    for attempt, base in [(1, 10), (2, 20), (3, 40)]:
        delay = worker.backoff(configured, attempt).total_seconds()
        assert base <= delay <= base + 10


def test_moderators_get_an_email_for_each_held_comment_only(
    app: Flask,
    client: FlaskClient,
    session: Session,
    settings: Settings,
    moderator_headers: dict[str, str],
) -> None:
    comment_id = submit(client, post_id="vinter", name="Åsa", email="asa@exempel.se")["id"]
    approve(client, moderator_headers, comment_id)
    with smtp_server() as (port, inbox):
        configured = replace(
            settings,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_starttls=False,
            mail_from="kommentera@exempel.se",
            moderator_emails=("mod@exempel.se", "b@exempel.se"),
        )
        assert worker.deliver_due(db.database(app).writers, configured) == 2

    [message] = inbox
    assert message["To"] == "mod@exempel.se, b@exempel.se"
    assert message["Subject"] == f"Comment #{comment_id} on vinter awaits review"
    body = message.get_payload(decode=True).decode()
    assert "Åsa" in body
    assert "asa@exempel.se" in body
    assert all(e.delivered_at is not None for e in _events(session))


TIMEOUT = 1  # KOMMENTERA_WEBHOOK_TIMEOUT_SECONDS, which also bounds each SMTP conversation
SLACK = 3  # seconds of database work and scheduling on a busy machine, per pass


def _timed_pass(app: Flask, configured: Settings) -> float:
    started = time.monotonic()
    worker.deliver_due(db.database(app).writers, configured)
    return time.monotonic() - started


def test_a_receiver_that_accepts_and_never_answers_costs_a_pass_one_timeout(
    app: Flask, client: FlaskClient, session: Session, settings: Settings
) -> None:
    for number in range(3):
        submit(client, body=f"Kommentar {number}")  # held: moderators are e-mailed too
    with silent_server() as port, smtp_server() as (smtp_port, inbox):
        configured = replace(
            settings,
            webhook_url=f"http://127.0.0.1:{port}/hooks",
            webhook_secret=SECRET,
            webhook_timeout_seconds=TIMEOUT,
            delivery_max_attempts=2,
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            smtp_starttls=False,
            moderator_emails=("mod@exempel.se",),
        )
        first_pass = _timed_pass(app, configured)
        after_first = [(e.attempts, e.last_error, e.next_attempt_at) for e in _events(session)]
        _make_due(app)
        second_pass = _timed_pass(app, configured)

    # One timeout for the first event; the others skip the hung receiver in that pass
    # instead of each waiting for it, and the e-mails are not held back behind it.
    assert TIMEOUT <= first_pass < TIMEOUT + SLACK
    assert TIMEOUT <= second_pass < TIMEOUT + SLACK
    assert len(inbox) == 3
    assert [(attempts, error) for attempts, error, _ in after_first] == [
        (1, "webhook: receiver unreachable: TimeoutError"),
        (1, "webhook: skipped, unreachable earlier in this pass"),
        (1, "webhook: skipped, unreachable earlier in this pass"),
    ]
    assert all(due > utcnow() for _, _, due in after_first)  # retried after the backoff
    events = _events(session)
    assert all(e.failed_at is not None for e in events)  # out of attempts
    assert all(e.channels_done == ["email"] for e in events)


def test_an_smtp_server_that_accepts_and_never_answers_costs_one_timeout_per_attempt(
    app: Flask, client: FlaskClient, session: Session, settings: Settings
) -> None:
    submit(client)  # held for review: moderators are e-mailed
    with silent_server() as port:
        configured = replace(
            settings,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_starttls=False,
            moderator_emails=("mod@exempel.se",),
            webhook_timeout_seconds=TIMEOUT,
        )
        took = _timed_pass(app, configured)

    assert TIMEOUT <= took < TIMEOUT + SLACK
    [event] = _events(session)
    assert event.attempts == 1
    assert event.last_error.startswith("email: ")
    assert event.delivered_at is None
    assert event.failed_at is None
    assert event.next_attempt_at > utcnow()
