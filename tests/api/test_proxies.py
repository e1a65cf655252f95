"""The client IP behind proxies, on SQLite and PostgreSQL: only a valid forwarded address
is ever stored, and a proxy Kommentera was not told about is warned of and counted."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import db
from service.app import create_app
from service.config import Settings
from service.models import Comment
from tests.builders import comment_payload

Configure = Callable[..., FlaskClient]
PEER = "192.0.2.10"
PROXY_LOG = "service.web.proxies"


@pytest.fixture
def configure(database_url: str) -> Iterator[Configure]:
    apps = []

    def build(**overrides: Any) -> FlaskClient:
        values = {"database_url": database_url, "flood_seconds": 0, "rate_limit": "0"}
        app = create_app(Settings(**{**values, **overrides}))
        apps.append(app)
        return app.test_client()

    yield build
    for app in apps:
        db.database(app).engine.dispose()


def _post(client: FlaskClient, forwarded_for: str, body: str) -> Any:
    return client.post(
        "/api/v1/comments",
        json=comment_payload(body=body),
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": PEER},
    )


def _stored_ips(session: Session) -> list[str | None]:
    session.rollback()
    return [c.ip for c in session.scalars(select(Comment).order_by(Comment.id))]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == PROXY_LOG and r.levelno == logging.WARNING]


def test_a_forwarded_value_that_is_not_an_ip_address_falls_back_to_the_peer_logged_once(
    configure: Configure, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    client = configure(trusted_proxies=1)
    caplog.set_level(logging.WARNING, logger=PROXY_LOG)
    responses = [
        _post(client, "not-an-ip<script>", "Ett"),
        _post(client, "2001:db8:1234:5678:9abc:def0:1234:5678:9abc:def", "Två"),  # 47 characters
        _post(client, "203.0.113.9, 198.51.100.7:8080", "Tre"),
        _post(client, "2001:0DB8:0000::0001", "Fyra"),
        _post(client, "::ffff:198.51.100.7", "Fem"),
    ]

    assert [r.status_code for r in responses] == [202] * 5
    assert _stored_ips(session) == [PEER, PEER, PEER, "2001:db8::1", "198.51.100.7"]
    [warning] = _warnings(caplog)
    assert "<script>" not in caplog.text
    assert "203.0.113.9" not in caplog.text
    assert warning.forwarded_for_chars == len("not-an-ip<script>")


def _untrusted_count(client: FlaskClient) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    match = re.search(r"^kommentera_untrusted_forwarded_for_total (\S+)$", text, re.M)
    assert match, "the counter is exported from the start"
    return float(match.group(1))


def test_forwarded_requests_without_trusted_proxies_are_warned_once_and_counted(
    configure: Configure, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    client = configure()
    caplog.set_level(logging.WARNING, logger=PROXY_LOG)
    assert _untrusted_count(client) == 0

    _post(client, "198.51.100.7", "Ett")
    _post(client, "198.51.100.8", "Två")
    client.get("/healthz")

    assert _untrusted_count(client) == 2
    [warning] = _warnings(caplog)
    assert "KOMMENTERA_TRUSTED_PROXIES" in warning.getMessage()
    assert _stored_ips(session) == [PEER, PEER]


def test_trusted_proxies_raise_no_warning(
    configure: Configure, caplog: pytest.LogCaptureFixture
) -> None:
    client = configure(trusted_proxies=1)
    caplog.set_level(logging.WARNING, logger=PROXY_LOG)
    _post(client, "198.51.100.7", "Ett")

    assert _warnings(caplog) == []
    assert "kommentera_untrusted_forwarded_for_total 0.0" in client.get("/metrics").get_data(
        as_text=True
    )
