"""Threads: created on first comment, and their derived public state (approved count and
the version that public ETags are made of), refreshed in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Row, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.models import Comment, CommentStatus, Thread


def get_or_create_thread(session: Session, post_id: str) -> Thread:
    """Find the post's thread or create it; safe when two first comments race."""
    thread = session.scalar(select(Thread).where(Thread.post_id == post_id))
    if thread is not None:
        return thread
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Thread).values(post_id=post_id).on_conflict_do_nothing(index_elements=["post_id"])
    )
    return session.scalars(select(Thread).where(Thread.post_id == post_id)).one()


def find_thread(session: Session, post_id: str) -> Thread | None:
    return session.scalar(select(Thread).where(Thread.post_id == post_id))


_THREADS = Thread.__table__.c
# Built once: a 304 does little else, so even composing the statement showed in profiles.
_PUBLIC_STATE = select(_THREADS.id, _THREADS.approved_count, _THREADS.public_version).where(
    _THREADS.post_id == bindparam("post_id")
)


def public_state(connection: Connection, post_id: str) -> Row[tuple[int, int, int]] | None:
    """The thread's id, approved_count and public_version: all a public read needs, as one
    indexed row read, without building a Thread object."""
    return connection.execute(_PUBLIC_STATE, {"post_id": post_id}).first()


def refresh_public_state(session: Session, thread_ids: set[int]) -> None:
    """Recount approved comments and bump the public version of each thread.

    Recounting (rather than incrementing) keeps the counter right whatever changed.
    """
    session.flush()
    for thread_id in thread_ids:
        approved = (
            select(func.count())
            .select_from(Comment)
            .where(Comment.thread_id == thread_id, Comment.status == CommentStatus.APPROVED)
            .scalar_subquery()
        )
        session.execute(
            update(Thread)
            .where(Thread.id == thread_id)
            .values(approved_count=approved, public_version=Thread.public_version + 1)
            .execution_options(synchronize_session=False)
        )
    for thread in [obj for obj in session.identity_map.values() if isinstance(obj, Thread)]:
        if thread.id in thread_ids:
            session.expire(thread, ["approved_count", "public_version"])


def set_closed(session: Session, post_id: str, closed: bool) -> Thread:
    """Close or reopen a post's comments; creates the thread so a post can be closed
    before its first comment."""
    thread = get_or_create_thread(session, post_id)
    thread.closed = closed
    session.flush()
    return thread


def closes_at(thread: Thread, close_after_days: int) -> datetime | None:
    """When the thread closes by age (KOMMENTERA_CLOSE_AFTER_DAYS), or None."""
    return thread.created_at + timedelta(days=close_after_days) if close_after_days else None
