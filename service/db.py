"""The one place that talks to the database engine: engine set-up, a session (and for
public reads a plain connection) per request, and Alembic migrations configured in code.
Work outside a request (CLI, worker) is one `with factory.begin() as session:` block: it
commits on success and rolls back on an error."""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, g, request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from service.app_state import Slot
from service.config import Settings
from service.errors import KommenteraError

MIGRATIONS = Path(__file__).parent / "migrations"
# Execution option of the engine behind Database.writers: SQLite then begins their
# transactions with BEGIN IMMEDIATE, so two workers never deadlock upgrading read locks.
WRITE_OPTION = "kommentera_write"
# How long a request waits for a free pooled connection before it answers 503. Under gevent
# one worker serves many requests at once, so a burst can find the pool empty.
POOL_TIMEOUT_SECONDS = 10


def cooperate_with_gevent() -> None:
    """Call in a gevent worker once the standard library is patched. psycopg picks how to
    wait for the server when first imported, and the unpatched gunicorn master imported it
    to migrate: its C wait would stall every request of the worker during each query.
    Re-running psycopg's own choice now picks its gevent-aware wait."""
    waiting = sys.modules.get("psycopg.waiting")
    if waiting is not None:
        importlib.reload(waiting)


class DatabaseSetupError(KommenteraError):
    """The database cannot be opened, or is not migrated; the message says what to do."""


def create_db_engine(settings: Settings, *, pooled: bool = True) -> Engine:
    """The engine for the configured database. pooled=False opens a connection per use, for
    a process that forks after using it (a pooled connection must not cross a fork)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(settings, pooled)
    sizing: dict[str, Any] = (
        {
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_pool_size,
            "pool_timeout": POOL_TIMEOUT_SECONDS,
        }
        if pooled
        else {"poolclass": NullPool}
    )
    return create_engine(
        url,
        pool_pre_ping=True,
        # Error messages and logs must never carry bound values (e-mail addresses, IPs).
        hide_parameters=True,
        **sizing,
    )


def _sqlite_engine(settings: Settings, pooled: bool) -> Engine:
    engine = create_engine(
        make_url(settings.database_url),
        connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
        hide_parameters=True,
        **({"pool_timeout": POOL_TIMEOUT_SECONDS} if pooled else {"poolclass": NullPool}),
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (see the "begin" hook below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: each commit reaches the disk before it is acknowledged. NORMAL survived a
        # process crash but not a volume the kernel turns read-only after an I/O error (or
        # power loss): every commit since the last writeback was gone.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


def make_writer_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose transaction takes SQLite's write lock when it begins, which is at the
    first statement: validating and sanitizing before that runs outside the lock."""
    return make_session_factory(engine.execution_options(**{WRITE_OPTION: True}))


def alembic_config(engine: Engine) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def sqlite_path(engine: Engine) -> Path | None:
    """The file of a SQLite database (None for PostgreSQL or an in-memory one)."""
    database = engine.url.database
    if engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).absolute()


def _unopenable(engine: Engine, error: OperationalError) -> DatabaseSetupError:
    path = sqlite_path(engine)
    if path is None:
        reason = str(error.orig).strip().splitlines()[0]
        return DatabaseSetupError(
            f"cannot connect to the database ({reason}): check KOMMENTERA_DATABASE_URL "
            "and that the database server runs"
        )
    uid = os.getuid()
    return DatabaseSetupError(
        f"cannot open the SQLite database {path}: its folder {path.parent} must be writable "
        f"by uid {uid}, the user this runs as (chown {uid} {path.parent}, or set "
        "KOMMENTERA_DATABASE_URL to a writable place)"
    )


def _create_sqlite_folder(engine: Engine) -> None:
    path = sqlite_path(engine)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseSetupError(
            f"cannot create {path.parent} for the SQLite database ({error.strerror}, running "
            f"as uid {os.getuid()}): create it writable for that user, or set "
            "KOMMENTERA_DATABASE_URL"
        ) from None


def upgrade(engine: Engine) -> None:
    """Create a SQLite database's folder if need be, then apply every pending migration
    (safe to run from several instances at once)."""
    _create_sqlite_folder(engine)
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        raise _unopenable(engine, error) from None
    command.upgrade(alembic_config(engine), "head")


def require_current_schema(engine: Engine) -> None:
    """For commands that use, never create, the database: it must exist and be migrated.
    A missing SQLite file is reported rather than created empty (with its folder)."""
    path = sqlite_path(engine)
    if path is not None and not path.exists():
        raise DatabaseSetupError(
            f"no database at {path}: run `kommentera migrate` first, or run this in the "
            "folder holding var/, or set KOMMENTERA_DATABASE_URL to the database in use"
        )
    try:
        current = schema_is_current(engine)
    except OperationalError as error:
        raise _unopenable(engine, error) from None
    if not current:
        raise DatabaseSetupError(
            f"the database {path or engine.url.render_as_string(hide_password=True)} is not at "
            "the latest migration: run `kommentera migrate`"
        )


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    writers: sessionmaker[Session]

    @classmethod
    def for_engine(cls, engine: Engine) -> Database:
        return cls(engine, make_session_factory(engine), make_writer_factory(engine))


_DATABASE: Slot[Database] = Slot("kommentera.db")


def init_app(app: Flask, settings: Settings) -> None:
    _DATABASE.put(app, Database.for_engine(create_db_engine(settings)))

    @app.teardown_appcontext
    def _close_request_database(_error: BaseException | None) -> None:
        for opened in (g.pop("db_session", None), g.pop("db_connection", None)):
            if opened is not None:
                opened.close()  # rolls back anything the view did not commit


def database(app: Flask | None = None) -> Database:
    return _DATABASE.get(app)


def request_session() -> Session:
    """The request's one session; a writer for unsafe methods."""
    session: Session | None = g.get("db_session")
    if session is None:
        found = database()
        reading = request.method in ("GET", "HEAD", "OPTIONS")
        session = g.db_session = (found.sessions if reading else found.writers)()
    return session


def request_connection() -> Connection:
    """The request's connection for public reads, which need no ORM objects: a Session's
    set-up, transaction bookkeeping and close were a third of the CPU of a 304."""
    connection: Connection | None = g.get("db_connection")
    if connection is None:
        connection = g.db_connection = database().engine.connect()
    return connection
