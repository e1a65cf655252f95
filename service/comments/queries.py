"""Read-side queries: public threads, counts, the moderation queue and the audit log.

Every list is keyset-paginated on the comment id (oldest first) over an index, so a
deep page costs what the first page costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import NotFoundError
from service.models import Comment, CommentStatus, ModerationEvent, Thread

MAX_COUNT_POSTS = 100


class _HasId(Protocol):
    id: int


T = TypeVar("T", bound=_HasId)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_after: int | None


def _page(rows: Sequence[T], limit: int) -> Page[T]:
    """rows were fetched with limit + 1 to learn whether another page exists."""
    if len(rows) > limit:
        return Page(rows[:limit], rows[limit - 1].id)
    return Page(rows, None)


def public_thread_page(
    session: Session, thread: Thread, *, limit: int, after: int | None
) -> Page[Comment]:
    query = (
        select(Comment)
        .where(Comment.thread_id == thread.id, Comment.status == CommentStatus.APPROVED)
        .order_by(Comment.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(Comment.id > after)
    rows = session.scalars(query).all()
    return _page(rows, limit)


def public_comment(session: Session, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None or comment.status is not CommentStatus.APPROVED:
        raise NotFoundError(comment_id)
    return comment


def _storable(post_id: str) -> bool:
    # PostgreSQL text cannot hold NUL, so querying with one fails; validation strips control
    # characters, so such a post id can never have been stored and simply matches nothing.
    return "\x00" not in post_id


def approved_counts(session: Session, post_ids: Sequence[str]) -> dict[str, int]:
    rows = session.execute(
        select(Thread.post_id, Thread.approved_count).where(
            Thread.post_id.in_([p for p in post_ids if _storable(p)])
        )
    )
    found = {post_id: count for post_id, count in rows}
    return {post_id: found.get(post_id, 0) for post_id in post_ids}


def moderation_queue(
    session: Session,
    *,
    status: CommentStatus,
    post_id: str | None,
    limit: int,
    after: int | None,
) -> Page[Comment]:
    query = select(Comment).where(Comment.status == status).order_by(Comment.id).limit(limit + 1)
    if post_id is not None:
        if not _storable(post_id):
            return _page([], limit)
        query = query.join(Thread).where(Thread.post_id == post_id)
    if after is not None:
        query = query.where(Comment.id > after)
    rows = session.scalars(query).all()
    return _page(rows, limit)


def any_comment(session: Session, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFoundError(comment_id)
    return comment


def audit_events(
    session: Session, *, comment_id: int | None, limit: int, after: int | None
) -> Page[ModerationEvent]:
    query = select(ModerationEvent).order_by(ModerationEvent.id).limit(limit + 1)
    if comment_id is not None:
        query = query.where(ModerationEvent.comment_id == comment_id)
    if after is not None:
        query = query.where(ModerationEvent.id > after)
    rows = session.scalars(query).all()
    return _page(rows, limit)
