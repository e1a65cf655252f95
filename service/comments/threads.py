"""Threads: created on first comment, and their derived public state (approved count and
the version that public ETags are made of), refreshed in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Row, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.models import Comment, CommentStatus, Thread

_THREADS = Thread.__table__.c
_THREAD_ID = select(_THREADS.id).where(_THREADS.post_id == bindparam("post_id"))


def thread_id_for(session: Session, post_id: str) -> int:
    """The post's thread id, creating the thread on its first comment; safe when two first
    comments race (the insert does nothing if the other one won)."""
    connection = session.connection()
    found: int | None = connection.execute(_THREAD_ID, {"post_id": post_id}).scalar()
    if found is not None:
        return found
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert(Thread).values(post_id=post_id).on_conflict_do_nothing(index_elements=["post_id"])
    )
    created: int = connection.execute(_THREAD_ID, {"post_id": post_id}).scalar_one()
    return created


# Built once: a 304 does little else, so even composing the statement showed in profiles.
_PUBLIC_STATE = select(_THREADS.id, _THREADS.approved_count, _THREADS.public_version).where(
    _THREADS.post_id == bindparam("post_id")
)


def public_state(connection: Connection, post_id: str) -> Row[int, int, int] | None:
    """The thread's id, approved_count and public_version: all a public read needs, as one
    indexed row read, without building a Thread object."""
    return connection.execute(_PUBLIC_STATE, {"post_id": post_id}).first()


# FOR NO KEY UPDATE, not FOR UPDATE: comments being inserted into the thread meanwhile only
# take a key-share lock on it (their foreign key), which this does not block.
_LOCK_THREADS = (
    select(_THREADS.id)
    .where(_THREADS.id.in_(bindparam("ids", expanding=True)))
    .order_by(_THREADS.id)
    .with_for_update(key_share=True)
)


def refresh_public_state(session: Session, thread_ids: set[int]) -> None:
    """Recount approved comments and bump the public version of each thread. Call it only
    for changes readers can see: public ETags are made of the version, and must reveal
    nothing about held, spam or trashed comments.

    Recounting (rather than incrementing) keeps the counter right whatever changed. The
    threads are locked first, in id order: on PostgreSQL (READ COMMITTED, a fresh snapshot
    per statement) two transactions approving in one thread then count one after the other,
    the second seeing the first's approval, instead of both counting without the other's.
    """
    session.flush()
    session.connection().execute(_LOCK_THREADS, {"ids": sorted(thread_ids)})
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
    thread = session.get_one(Thread, thread_id_for(session, post_id))
    thread.closed = closed
    session.flush()
    return thread


def closes_at(thread: Thread, close_after_days: int) -> datetime | None:
    """When the thread closes by age (KOMMENTERA_CLOSE_AFTER_DAYS), or None."""
    return thread.created_at + timedelta(days=close_after_days) if close_after_days else None
