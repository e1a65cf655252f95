"""Shared fixtures: every API test runs on a real SQLite file and on a real PostgreSQL.

PostgreSQL comes from KOMMENTERA_TEST_DATABASE_URL; without it those tests are skipped
with a visible notice (CI sets KOMMENTERA_REQUIRE_POSTGRES=1 to turn the skip into a failure).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from service import db
from service.app import create_app
from service.config import Settings
from service.models import Base, Role
from service.moderators import create_token
from tests.builders import settings_for
from tests.support.browser import chromium

POSTGRES_URL = os.environ.get("KOMMENTERA_TEST_DATABASE_URL", "")
POSTGRES_REQUIRED = os.environ.get("KOMMENTERA_REQUIRE_POSTGRES") == "1"
POSTGRES_SKIP = "PostgreSQL half skipped: set KOMMENTERA_TEST_DATABASE_URL to run it"


def pytest_report_header() -> str:
    if POSTGRES_URL:
        return f"kommentera: PostgreSQL tests run against {POSTGRES_URL}"
    return f"kommentera: NOTICE {POSTGRES_SKIP}"


def pytest_sessionstart(session: pytest.Session) -> None:
    if POSTGRES_REQUIRED and not POSTGRES_URL:
        raise pytest.UsageError("KOMMENTERA_REQUIRE_POSTGRES=1 but no KOMMENTERA_TEST_DATABASE_URL")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not POSTGRES_URL:
        terminalreporter.write_line(f"NOTICE: {POSTGRES_SKIP}", yellow=True, bold=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium for every browser test of the run: launching it takes seconds."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test copies it instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.create_db_engine(Settings(database_url=f"sqlite:///{path}"))
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP)
    engine = db.create_db_engine(Settings(database_url=POSTGRES_URL))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.upgrade(engine)
    yield engine
    engine.dispose()


def _truncate_all(engine: Engine) -> None:
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "kommentera.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    _truncate_all(request.getfixturevalue("postgres_engine"))
    return POSTGRES_URL


@pytest.fixture
def settings(database_url: str) -> Settings:
    return settings_for(database_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    yield app
    db.database(app).engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session for arranging data and checking database state directly."""
    with db.database(app).sessions() as session:
        yield session


@pytest.fixture
def moderator_headers(app: Flask) -> dict[str, str]:
    with db.database(app).writers.begin() as session:
        token = create_token(session, "moderator-1", Role.MODERATOR)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin_headers(app: Flask) -> dict[str, str]:
    with db.database(app).writers.begin() as session:
        token = create_token(session, "admin-1", Role.ADMIN)
    return {"Authorization": f"Bearer {token}"}
