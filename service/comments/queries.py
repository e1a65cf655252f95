"""Read-side queries: public threads, counts, the moderation queue and the audit log.

Every list is keyset-paginated on the comment id (oldest first) over an index, so a
deep page costs what the first page costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Row, Select, bindparam, select
from sqlalchemy.orm import Session

from service.comments.validation import MAX_ID
from service.errors import NotFoundError
from service.models import Author, Comment, CommentStatus, ModerationEvent, Thread

MAX_COUNT_POSTS = 100


# A page's items: ORM objects or rows, each with the id the cursor is taken from.
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_after: int | None


def _page(rows: Sequence[Any], limit: int) -> Page[Any]:
    """The page of limit rows, given up to limit + 1 of them, the last telling whether more
    exist."""
    if len(rows) > limit:
        return Page(rows[:limit], rows[limit - 1].id)
    return Page(rows, None)


def _keyset_page(
    session: Session,
    query: Select[Any],
    id_column: Any,
    limit: int,
    after: int | None,
    *,
    entities: bool = True,
) -> Page[Any]:
    """Rows after the cursor id, oldest first. entities=False returns plain column rows
    instead of ORM objects, straight from the connection, past the ORM's machinery."""
    if after is not None:
        query = query.where(id_column > after)
    query = query.order_by(id_column).limit(limit + 1)
    rows = (session.scalars(query) if entities else session.connection().execute(query)).all()
    return _page(rows, limit)


# What a public reader sees of a comment, in the order serializers.public_comments unpacks
# them. Thread pages select just these as plain rows: loading full Comment objects (with
# the joined thread and the JSON-decoded moderation reasons) cost most of a 200-comment read.
_PUBLIC = Comment.__table__.c
PUBLIC_COLUMNS = (
    _PUBLIC.id,
    _PUBLIC.parent_id,
    _PUBLIC.name,
    _PUBLIC.url,
    _PUBLIC.body_html,
    _PUBLIC.created_at,
)
PublicRow = Row[int, int | None, str, str | None, str, datetime]
# What a moderator sees (serializers.moderator_comment reads these names): the queue
# selects them as plain rows too, the thread's post_id joined in as a column, because
# building Comment and Thread objects was most of the CPU of a page of 50.
_THREADS = Thread.__table__.c
MODERATOR_COLUMNS = (
    *PUBLIC_COLUMNS,
    _THREADS.post_id,
    _PUBLIC.status,
    _PUBLIC.email,
    _PUBLIC.ip,
    _PUBLIC.user_agent,
    _PUBLIC.body_source,
    _PUBLIC.reasons,
    _PUBLIC.version,
    _PUBLIC.updated_at,
)
# Built once with bind parameters: composing it per request showed in profiles of a
# 200-comment read. Ids start at 1, so after=0 asks for the first page.
_PUBLIC_PAGE = (
    select(*PUBLIC_COLUMNS)
    .where(
        _PUBLIC.thread_id == bindparam("thread_id"),
        _PUBLIC.status == CommentStatus.APPROVED,
        _PUBLIC.id > bindparam("after"),
    )
    .order_by(_PUBLIC.id)
    .limit(bindparam("limit"))
)


def public_thread_page(
    connection: Connection, thread_id: int, *, limit: int, after: int | None
) -> Page[PublicRow]:
    """A page of a thread's approved comments as rows of PUBLIC_COLUMNS, oldest first."""
    page = {"thread_id": thread_id, "after": after or 0, "limit": limit + 1}
    return _page(connection.execute(_PUBLIC_PAGE, page).all(), limit)


def find_comment(session: Session, comment_id: int) -> Comment | None:
    """The comment with this id, if any. An id outside the column's range names no row
    (and PostgreSQL would refuse to compare with it)."""
    if not 0 < comment_id <= MAX_ID:
        return None
    return session.get(Comment, comment_id)


def public_comment(session: Session, comment_id: int) -> Comment:
    comment = find_comment(session, comment_id)
    if comment is None or comment.status is not CommentStatus.APPROVED:
        raise NotFoundError(comment_id)
    return comment


def _storable(post_id: str) -> bool:
    # PostgreSQL text cannot hold NUL, so querying with one fails; validation strips control
    # characters, so such a post id can never have been stored and simply matches nothing.
    return "\x00" not in post_id


def approved_counts(connection: Connection, post_ids: Sequence[str]) -> dict[str, int]:
    rows = connection.execute(
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
) -> Page[Row[Any]]:
    """A page of comments with this status (on one post, if given) as rows of
    MODERATOR_COLUMNS."""
    query = (
        select(*MODERATOR_COLUMNS)
        .join_from(Comment.__table__, Thread.__table__)
        .where(_PUBLIC.status == status)
    )
    if post_id is not None:
        if not _storable(post_id):
            return Page([], None)
        query = query.where(_THREADS.post_id == post_id)
    return _keyset_page(session, query, _PUBLIC.id, limit, after, entities=False)


def any_comment(session: Session, comment_id: int) -> Comment:
    comment = find_comment(session, comment_id)
    if comment is None:
        raise NotFoundError(comment_id)
    return comment


def audit_events(
    session: Session, *, comment_id: int | None, limit: int, after: int | None
) -> Page[ModerationEvent]:
    query = select(ModerationEvent)
    if comment_id is not None:
        query = query.where(ModerationEvent.comment_id == comment_id)
    return _keyset_page(session, query, ModerationEvent.id, limit, after)


_AUTHORS = Author.__table__.c
_AUTHOR_HISTORY = select(_AUTHORS.email, _AUTHORS.approved_count, _AUTHORS.spam_count).where(
    _AUTHORS.email.in_(bindparam("emails", expanding=True))
)


def author_history(session: Session, emails: Sequence[str]) -> dict[str, dict[str, int]]:
    """Approved and spam counts per author e-mail, for a whole queue page in one
    primary-key read of authors (kept by comments.authors); zeros for an e-mail never
    counted."""
    history = {email: {"approved": 0, "spam": 0} for email in emails}
    if not history:
        return history
    rows = session.connection().execute(_AUTHOR_HISTORY, {"emails": list(history)})
    for email, approved, spam in rows:
        history[email] = {"approved": approved, "spam": spam}
    return history
