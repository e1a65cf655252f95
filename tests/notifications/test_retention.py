"""Delivered and failed events, which carry commenters' e-mail, IP and user agent, are
deleted once past KOMMENTERA_OUTBOX_RETENTION_DAYS; events still to deliver never are."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from service import db
from service.config import Settings
from service.models import OutboxEvent, utcnow
from service.notifications import worker
from service.notifications.outbox import purge_finished
from tests.builders import outbox_event, outbox_event_ids, submit

DAY = timedelta(days=1)


def _wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _delivered(session: Session, event_id: int) -> bool:
    session.rollback()  # end the read snapshot so the query sees the worker's commits
    return session.get_one(OutboxEvent, event_id).delivered_at is not None


@contextmanager
def _running_worker(app: Flask, settings: Settings) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(db.database(app).writers, settings, stop))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_events_finished_before_the_cutoff_are_deleted_and_pending_ones_kept(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    now = utcnow()
    old_delivered = outbox_event(app, client, delivered_at=now - 8 * DAY)
    old_failed = outbox_event(app, client, failed_at=now - 8 * DAY, attempts=8)
    recent_delivered = outbox_event(app, client, delivered_at=now - 6 * DAY)
    recent_failed = outbox_event(app, client, failed_at=now - 6 * DAY, attempts=8)
    old_pending = outbox_event(
        app, client, created_at=now - 30 * DAY, next_attempt_at=now - 30 * DAY, attempts=3
    )
    assert outbox_event_ids(session) >= {old_delivered, old_failed}

    with db.database(app).writers.begin() as writer:
        removed = purge_finished(writer, now - 7 * DAY)

    assert removed == 2
    assert outbox_event_ids(session) == {recent_delivered, recent_failed, old_pending}


def test_purging_logs_the_count_and_no_private_data(
    app: Flask, client: FlaskClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    submit(client, email="hemlig@exempel.se")
    with db.database(app).writers.begin() as writer:
        writer.execute(update(OutboxEvent).values(delivered_at=utcnow() - 8 * DAY))

    with caplog.at_level(logging.INFO, logger=worker.__name__):
        assert worker.purge_expired(db.database(app).writers, 7) == 1

    assert "purged 1 outbox events finished over 7 days ago" in caplog.text
    assert "hemlig@exempel.se" not in caplog.text
    assert outbox_event_ids(session) == set()


@pytest.mark.parametrize(("retention_days", "old_events_kept"), [(7, False), (0, True)])
def test_the_worker_purges_on_its_first_pass_unless_retention_is_zero(
    app: Flask,
    client: FlaskClient,
    session: Session,
    settings: Settings,
    retention_days: int,
    old_events_kept: bool,
) -> None:
    now = utcnow()
    old = {
        outbox_event(app, client, delivered_at=now - 8 * DAY),
        outbox_event(app, client, failed_at=now - 8 * DAY, attempts=8),
    }
    due = outbox_event(app, client)
    configured = replace(settings, outbox_retention_days=retention_days, worker_poll_seconds=1)

    with _running_worker(app, configured):
        # The first pass purges before it delivers.
        _wait_until(lambda: _delivered(session, due))

    assert (old <= outbox_event_ids(session)) is old_events_kept
    assert due in outbox_event_ids(session)


def test_the_worker_purges_at_most_once_an_hour(
    app: Flask, client: FlaskClient, session: Session, settings: Settings
) -> None:
    first = outbox_event(app, client)
    configured = replace(settings, outbox_retention_days=7, worker_poll_seconds=1)

    with _running_worker(app, configured):
        _wait_until(lambda: _delivered(session, first))
        with db.database(app).writers.begin() as writer:
            writer.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == first)
                .values(delivered_at=utcnow() - 8 * DAY)
            )
        second = outbox_event(app, client)
        _wait_until(lambda: _delivered(session, second))

    # Expired since the first pass, but the next purge is an hour away.
    assert outbox_event_ids(session) == {first, second}
