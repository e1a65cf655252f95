"""Under gevent workers, PostgreSQL queries wait cooperatively: psycopg was imported by the
unpatched gunicorn master, and db.cooperate_with_gevent() makes it re-choose its wait once
the worker is patched. Without that, each query froze every request of its worker."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import POSTGRES_SKIP, POSTGRES_URL

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
QUERIES, SECONDS = 4, 0.5

# What `kommentera serve` does: the master imports psycopg (to migrate) before it forks; the
# gevent worker then patches the standard library and loads the app.
WORKER = textwrap.dedent(
    """
    import sys, time
    import psycopg
    from gevent import monkey
    monkey.patch_all()
    import gevent
    from sqlalchemy import text
    from service import db
    from service.config import Settings

    db.cooperate_with_gevent()
    engine = db.create_db_engine(Settings(database_url=sys.argv[1]))

    def query():
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_sleep(:s)"), {"s": float(sys.argv[3])})

    started = time.monotonic()
    gevent.joinall([gevent.spawn(query) for _ in range(int(sys.argv[2]))], raise_error=True)
    print(time.monotonic() - started)
    """
)


def test_postgresql_queries_of_one_gevent_worker_run_side_by_side() -> None:
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP)
    result = subprocess.run(
        [sys.executable, "-c", WORKER, POSTGRES_URL, str(QUERIES), str(SECONDS)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    took = float(result.stdout.strip())
    # One after another they would take QUERIES × SECONDS (2 s); side by side about SECONDS.
    assert took < (QUERIES - 1) * SECONDS, result.stderr
