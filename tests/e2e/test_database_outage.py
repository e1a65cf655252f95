"""A PostgreSQL outage in the middle of serving: 503 with Retry-After, never 500, and the
service recovers on its own once the database is back (pool pre-ping). Runs against a
private throwaway cluster, never the shared server. Likewise a SQLite volume that fills up
or turns read-only: 503 with Retry-After, nothing acknowledged lost."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from service import db
from service.app import create_app
from service.models import Comment
from tests.builders import comment_payload, settings_for
from tests.conftest import POSTGRES_SKIP, POSTGRES_URL
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


# SQLite on a volume that fills up or turns read-only: real filesystems mounted for the
# test (root only), the database file on them, and SQLite's own errors.
@contextlib.contextmanager
def mounted(target: Path, *mount_args: str) -> Iterator[Path]:
    target.mkdir()
    result = subprocess.run(["mount", *mount_args, str(target)], capture_output=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a test volume: {result.stderr.decode().strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)


def _volume_app(volume: Path) -> Flask:
    app = create_app(settings_for(f"sqlite:///{volume / 'kommentera.db'}"))
    db.upgrade(db.database(app).engine)
    return app


def _fill(volume: Path) -> Path:
    filler = volume / "filler"
    with filler.open("wb") as file, contextlib.suppress(OSError):  # ENOSPC: full
        while True:
            file.write(b"\0" * 65536)
            file.flush()
    return filler


def _stored_bodies(volume: Path) -> list[str]:
    engine = db.create_db_engine(settings_for(f"sqlite:///{volume / 'kommentera.db'}"))
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            return list(connection.scalars(select(Comment.body_source).order_by(Comment.id)))
    finally:
        engine.dispose()


def test_a_full_sqlite_volume_is_503_with_retry_after_and_writes_resume_when_space_returns(
    tmp_path: Path,
) -> None:
    with mounted(tmp_path / "volume", "-t", "tmpfs", "-o", "size=2m", "tmpfs") as volume:
        app = _volume_app(volume)
        client = app.test_client()
        acknowledged = []
        for number in range(3):
            body = f"Före {number}"
            assert (
                client.post("/api/v1/comments", json=comment_payload(body=body)).status_code == 202
            )
            acknowledged.append(body)

        filler = _fill(volume)
        for number in range(3):  # a long body needs new pages, which need space
            during = comment_payload(body=f"Under {number} " + "lång text " * 300)
            _assert_unavailable(client.post("/api/v1/comments", json=during))
        assert client.get("/api/v1/comments", query_string={"post_id": "p"}).status_code == 200
        assert client.get("/readyz").status_code == 200  # reads still work

        filler.unlink()
        after = "Efter " + "lång text " * 300
        after = after.strip()
        assert client.post("/api/v1/comments", json=comment_payload(body=after)).status_code == 202
        acknowledged.append(after)
        db.database(app).engine.dispose()

        assert _stored_bodies(volume) == acknowledged


def test_a_sqlite_volume_turned_read_only_is_503_and_loses_nothing_acknowledged(
    tmp_path: Path,
) -> None:
    image = tmp_path / "volume.img"
    subprocess.run(["truncate", "-s", "8M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", str(image)], check=True)
    mount_options = ("-o", "loop,errors=remount-ro", str(image))
    with mounted(tmp_path / "volume", *mount_options) as volume:
        app = _volume_app(volume)
        client = app.test_client()
        acknowledged = []
        for number in range(3):
            body = f"Före {number}"
            assert (
                client.post("/api/v1/comments", json=comment_payload(body=body)).status_code == 202
            )
            acknowledged.append(body)

        # What the kernel does to ext4 after an I/O error: the volume turns read-only under
        # the open database (remount,ro would refuse while SQLite holds it open for writing).
        device = subprocess.run(
            ["findmnt", "-no", "SOURCE", str(volume)], capture_output=True, text=True, check=True
        ).stdout.strip()
        Path(f"/sys/fs/ext4/{Path(device).name}/trigger_fs_error").write_text("test\n")
        _assert_unavailable(client.post("/api/v1/comments", json=comment_payload(body="Under")))
        assert client.get("/api/v1/comments", query_string={"post_id": "p"}).status_code == 200
        db.database(app).engine.dispose()

    with mounted(tmp_path / "remounted", *mount_options) as volume:  # after the repair
        assert _stored_bodies(volume) == acknowledged


def test_no_free_pooled_connection_is_503_with_retry_after_not_500() -> None:
    # Under gevent one worker serves many requests at once, so a burst can empty its pool.
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP)
    app = create_app(settings_for(POSTGRES_URL, db_pool_size=1))  # 1 + 1 overflow
    engine = db.database(app).engine
    try:
        with engine.connect(), engine.connect():  # every pooled connection is in use
            response = app.test_client().get("/api/v1/comments", query_string={"post_id": "p"})
        _assert_unavailable(response)
    finally:
        engine.dispose()
