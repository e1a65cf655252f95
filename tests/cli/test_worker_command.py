"""`kommentera worker --once` delivers what is due; a webhook without a secret is refused."""

from __future__ import annotations

from dataclasses import replace

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import db
from service.app import create_app
from service.cli import cli
from service.config import Settings
from service.models import OutboxEvent
from tests.builders import submit
from tests.notifications.receivers import webhook_receiver


def test_worker_once_delivers_the_due_events(
    client: FlaskClient, session: Session, settings: Settings
) -> None:
    submit(client)
    with webhook_receiver("k") as receiver:
        app = create_app(replace(settings, webhook_url=receiver.url, webhook_secret="k"))
        result = app.test_cli_runner().invoke(cli, ["worker", "--once"])
        db.database(app).engine.dispose()
    assert result.exit_code == 0, result.output
    assert len(receiver.received) == 1
    assert session.scalars(select(OutboxEvent.delivered_at)).one() is not None


def test_worker_refuses_a_webhook_url_without_a_secret(settings: Settings) -> None:
    app = create_app(replace(settings, webhook_url="http://127.0.0.1:9/hook"))
    result = app.test_cli_runner().invoke(cli, ["worker", "--once"])
    db.database(app).engine.dispose()
    assert result.exit_code != 0
    assert "KOMMENTERA_WEBHOOK_SECRET" in result.output
