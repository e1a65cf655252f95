"""The queries that must not grow with the table read comments by index seeks, never by
scanning: checked with SQLite's query planner on the statements the domain really runs."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from service import db
from service.comments.authors import refresh_author_history
from service.comments.facts import gather_facts
from service.comments.queries import author_history, moderation_queue, public_thread_page
from service.comments.rules_config import RulesConfig
from service.comments.validation import CommentDraft
from service.config import Settings
from service.models import CommentStatus
from service.notifications.outbox import purge_finished


@contextmanager
def _captured(session: Session) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _plan_steps(
    session: Session, run: Callable[[], object], tables: tuple[str, ...] = ("comments",)
) -> list[str]:
    """The plan steps, of every statement run, that read one of these tables."""
    with _captured(session) as statements:
        run()
    connection = session.connection()
    steps = []
    for statement, parameters in statements:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        steps += [row[-1] for row in plan if set(tables) & set(row[-1].split())]
    assert steps, f"no statement touched {tables}"
    return steps


@pytest.fixture
def sqlite_session(sqlite_template: Path, tmp_path: Path) -> Iterator[Session]:
    """SQLite's planner explains itself in a stable, greppable form; PostgreSQL's choice
    depends on table statistics, so these checks are SQLite's alone."""
    path = tmp_path / "plans.db"
    shutil.copy(sqlite_template, path)
    engine = db.create_db_engine(Settings(database_url=f"sqlite:///{path}"))
    with db.make_session_factory(engine)() as session:
        yield session
    engine.dispose()


def _assert_seeks(steps: list[str]) -> None:
    scans = [step for step in steps if step.startswith("SCAN")]
    assert not scans, steps


def test_a_public_thread_page_seeks_its_thread_and_status(sqlite_session: Session) -> None:
    _assert_seeks(
        _plan_steps(
            sqlite_session,
            lambda: public_thread_page(sqlite_session.connection(), 1, limit=50, after=1000),
        )
    )


@pytest.mark.parametrize(
    ("post_id", "comments_seek"),
    [
        (None, "ix_comments_status_id (status=? AND id>?)"),
        ("haninge-och-kalix", "ix_comments_thread_status_id (thread_id=? AND status=? AND id>?)"),
    ],
)
def test_the_moderation_queue_seeks_its_status(
    sqlite_session: Session, post_id: str | None, comments_seek: str
) -> None:
    def queue() -> object:
        return moderation_queue(
            sqlite_session, status=CommentStatus.PENDING, post_id=post_id, limit=50, after=1000
        )

    # The thread's post_id is joined in per row: that must be a key lookup, not a scan.
    steps = _plan_steps(sqlite_session, queue, ("comments", "threads"))

    _assert_seeks(steps)
    assert any(comments_seek in step for step in steps), steps
    assert any(step.startswith("SEARCH threads") for step in steps), steps


def test_the_rule_facts_seek_the_authors_newest_comments(sqlite_session: Session) -> None:
    draft = CommentDraft(
        post_id="haninge-och-kalix",
        name="Åsa",
        email="asa@exempel.se",
        url=None,
        body_source="hej",
        body_html="<p>hej</p>",
        parent_id=None,
    )
    config = RulesConfig(flood_seconds=15, max_depth=5)

    steps = _plan_steps(
        sqlite_session,
        lambda: gather_facts(
            sqlite_session, draft, config, now=datetime.now(UTC), ip="10.0.0.1", user_agent=None
        ),
    )

    _assert_seeks(steps)
    assert any("ix_comments_ip_id (ip=?" in step for step in steps), steps
    assert any("ix_comments_email_id (email=?" in step for step in steps), steps


def test_author_history_reads_authors_by_primary_key(sqlite_session: Session) -> None:
    emails = ["asa@exempel.se", "bo@exempel.se"]

    steps = _plan_steps(
        sqlite_session, lambda: author_history(sqlite_session, emails), ("authors", "comments")
    )

    # A text primary key is SQLite's automatic unique index on authors.email.
    assert steps == ["SEARCH authors USING INDEX sqlite_autoindex_authors_1 (email=?)"], steps


def test_recounting_an_author_seeks_their_comments_by_email(sqlite_session: Session) -> None:
    steps = _plan_steps(
        sqlite_session,
        lambda: refresh_author_history(sqlite_session, ["asa@exempel.se", "bo@exempel.se"]),
    )

    _assert_seeks(steps)
    assert any("ix_comments_email_id (email=?)" in step for step in steps), steps


def test_purging_finished_events_seeks_the_due_index(sqlite_session: Session) -> None:
    cutoff = datetime.now(UTC) - timedelta(days=7)

    steps = _plan_steps(
        sqlite_session, lambda: purge_finished(sqlite_session, cutoff), ("outbox_events",)
    )

    assert steps == [
        "SEARCH outbox_events USING INDEX ix_outbox_events_due (delivered_at<?)",
        "SEARCH outbox_events USING INDEX ix_outbox_events_due (delivered_at=? AND failed_at<?)",
    ], steps
