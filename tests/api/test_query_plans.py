"""The queries that must not grow with the table read comments by index seeks, never by
scanning: checked with SQLite's query planner on the statements the domain really runs."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from service import db
from service.comments.facts import gather_facts
from service.comments.queries import moderation_queue, public_thread_page
from service.comments.rules_config import RulesConfig
from service.comments.validation import CommentDraft
from service.config import Settings
from service.models import CommentStatus


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


def _comment_plan_steps(session: Session, run: Callable[[], object]) -> list[str]:
    with _captured(session) as statements:
        run()
    connection = session.connection()
    steps = []
    for statement, parameters in statements:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        steps += [row[-1] for row in plan if " comments" in row[-1]]
    assert steps, "no statement touched the comments table"
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
        _comment_plan_steps(
            sqlite_session,
            lambda: public_thread_page(sqlite_session.connection(), 1, limit=50, after=1000),
        )
    )


@pytest.mark.parametrize("post_id", [None, "haninge-och-kalix"])
def test_the_moderation_queue_seeks_its_status(sqlite_session: Session, post_id: str) -> None:
    def queue() -> object:
        return moderation_queue(
            sqlite_session, status=CommentStatus.PENDING, post_id=post_id, limit=50, after=1000
        )

    _assert_seeks(_comment_plan_steps(sqlite_session, queue))


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

    steps = _comment_plan_steps(
        sqlite_session,
        lambda: gather_facts(
            sqlite_session, draft, config, now=datetime.now(UTC), ip="10.0.0.1", user_agent=None
        ),
    )

    _assert_seeks(steps)
    assert any("ix_comments_ip_id (ip=?" in step for step in steps), steps
    assert any("ix_comments_email_id (email=?" in step for step in steps), steps
