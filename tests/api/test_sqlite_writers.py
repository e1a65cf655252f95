"""SQLite writers: a writer session takes the write lock at its first statement (so work
done before it, like sanitizing, runs outside the lock) and holds it to the end."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from service import db
from service.config import Settings
from service.models import Thread


def _another_writer_can_start(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        return False
    finally:
        other.close()


@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path):
    path = tmp_path / "writers.db"
    path.write_bytes(sqlite_template.read_bytes())
    found = db.Database.for_engine(db.create_db_engine(Settings(database_url=f"sqlite:///{path}")))
    yield found, path
    found.engine.dispose()


def test_a_writer_takes_the_lock_at_its_first_statement_not_before(database) -> None:
    found, path = database
    with found.writers() as session:
        assert _another_writer_can_start(path)
        session.execute(select(Thread.id))
        assert not _another_writer_can_start(path)
    assert _another_writer_can_start(path)


def test_a_reader_never_takes_the_write_lock(database) -> None:
    found, path = database
    with found.sessions() as session:
        session.execute(select(Thread.id))
        assert _another_writer_can_start(path)
