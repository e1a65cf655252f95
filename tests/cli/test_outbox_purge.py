"""`kommentera outbox purge` deletes finished events past retention, for set-ups with no
worker, and says how many went."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service import db
from service.app import create_app
from service.cli import cli
from service.config import Settings
from service.models import utcnow
from tests.builders import outbox_event, outbox_event_ids

DAY = timedelta(days=1)


def _events_aged_8_and_6_days_and_pending(app: Flask, client: FlaskClient) -> tuple[int, ...]:
    now = utcnow()
    return (
        outbox_event(app, client, delivered_at=now - 8 * DAY),
        outbox_event(app, client, failed_at=now - 6 * DAY, attempts=8),
        outbox_event(app, client, next_attempt_at=now - 30 * DAY),
    )


def _purge(settings: Settings, *args: str) -> tuple[int, str]:
    app = create_app(settings)
    result = app.test_cli_runner().invoke(cli, ["outbox", "purge", *args])
    db.database(app).engine.dispose()
    return result.exit_code, result.output


def test_purge_keeps_events_for_the_configured_retention_by_default(
    app: Flask, client: FlaskClient, session: Session, settings: Settings
) -> None:
    _old, recent, pending = _events_aged_8_and_6_days_and_pending(app, client)

    exit_code, output = _purge(replace(settings, outbox_retention_days=7))

    assert exit_code == 0, output
    assert "removed 1 events finished over 7 days ago" in output
    assert outbox_event_ids(session) == {recent, pending}


def test_older_than_days_overrides_the_setting(
    app: Flask, client: FlaskClient, session: Session, settings: Settings
) -> None:
    _old, _recent, pending = _events_aged_8_and_6_days_and_pending(app, client)

    exit_code, output = _purge(replace(settings, outbox_retention_days=0), "--older-than-days", "5")

    assert exit_code == 0, output
    assert "removed 2 events finished over 5 days ago" in output
    assert outbox_event_ids(session) == {pending}


def test_retention_zero_keeps_every_event(
    app: Flask, client: FlaskClient, session: Session, settings: Settings
) -> None:
    events = set(_events_aged_8_and_6_days_and_pending(app, client))

    exit_code, output = _purge(replace(settings, outbox_retention_days=0))

    assert exit_code == 0, output
    assert "kept forever" in output
    assert outbox_event_ids(session) == events


@pytest.mark.parametrize("days", ["0", "-3", "week"])
def test_a_bad_number_of_days_is_refused(
    app: Flask, client: FlaskClient, session: Session, settings: Settings, days: str
) -> None:
    events = set(_events_aged_8_and_6_days_and_pending(app, client))

    exit_code, output = _purge(settings, "--older-than-days", days)

    assert exit_code == 2
    assert "--older-than-days" in output
    assert outbox_event_ids(session) == events
