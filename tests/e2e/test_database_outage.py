"""A PostgreSQL outage in the middle of serving: 503 with Retry-After, never 500, and the
service recovers on its own once the database is back (pool pre-ping). Runs against a
private throwaway cluster, never the shared server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from service import db
from service.app import create_app
from service.models import Comment
from tests.builders import comment_payload, settings_for
from tests.support.pg_cluster import PgCluster, create_cluster, unavailable_reason

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    cluster = create_cluster()
    yield cluster
    cluster.destroy()


@pytest.fixture
def app(cluster: PgCluster) -> Iterator[Flask]:
    app = create_app(settings_for(cluster.url))
    engine = db.database(app).engine
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.upgrade(engine)
    yield app
    db.database(app).engine.dispose()


def _assert_unavailable(response: object) -> None:
    assert response.status_code == 503  # type: ignore[attr-defined]
    assert response.headers["Retry-After"].isdigit()  # type: ignore[attr-defined]
    assert response.mimetype == "application/problem+json"  # type: ignore[attr-defined]


def test_an_outage_is_503_with_retry_after_and_the_service_recovers(
    app: Flask, cluster: PgCluster
) -> None:
    client = app.test_client()
    # Warm the pool so the outage hits connections that were good a moment ago.
    assert client.post("/api/v1/comments", json=comment_payload()).status_code == 202
    assert client.get("/readyz").status_code == 200

    cluster.stop()
    try:
        during = comment_payload(body="Skickad under avbrottet")
        _assert_unavailable(client.post("/api/v1/comments", json=during))
        _assert_unavailable(client.get("/api/v1/comments", query_string={"post_id": "p"}))
        _assert_unavailable(client.get("/readyz"))
        assert client.get("/readyz").get_json()["code"] == "database_unreachable"
        assert client.get("/healthz").status_code == 200  # the process itself is alive
        assert client.get("/metrics").status_code == 200  # scrapes still work
    finally:
        cluster.start()

    assert client.get("/readyz").status_code == 200
    after_recovery = comment_payload(body="Skickad efter återstarten")
    assert client.post("/api/v1/comments", json=after_recovery).status_code == 202
    with db.database(app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(Comment)) == 2


def test_a_connection_lost_during_commit_is_503_and_the_next_request_succeeds(
    app: Flask, cluster: PgCluster
) -> None:
    client = app.test_client()
    sessions = db.database(app).writers  # POST requests use these
    killer = db.create_db_engine(settings_for(cluster.url))

    def _terminate_other_backends(session: Session) -> None:
        # The server drops this request's connection just as it commits.
        with killer.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE pid <> pg_backend_pid() AND datname = current_database()"
                )
            )

    event.listen(sessions, "before_commit", _terminate_other_backends)
    try:
        _assert_unavailable(client.post("/api/v1/comments", json=comment_payload()))
    finally:
        event.remove(sessions, "before_commit", _terminate_other_backends)
        killer.dispose()

    assert client.post("/api/v1/comments", json=comment_payload(body="efteråt")).status_code == 202
    with sessions() as session:
        bodies = session.scalars(select(Comment.body_source)).all()
    assert "efteråt" in bodies
    assert len(bodies) == 1  # the interrupted submission was not stored
