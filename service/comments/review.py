"""Moderators' changes: status, body edits, bulk changes and permanent deletion. Each
change writes its audit event and refreshes the thread's public state (and, for a status
change or deletion, the author's history) in the caller's transaction, so the log, the
public view and the queue never disagree with the comment.

The public state (count and the version public ETags are made of) is refreshed only when
a change touches what readers see: a reader must not learn from a validator that unseen
comments exist or were moderated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from service.comments.authors import refresh_author_history
from service.comments.queries import any_comment
from service.comments.threads import refresh_public_state
from service.comments.validation import validate_body
from service.errors import VersionConflictError
from service.models import Comment, CommentStatus, EventAction, ModerationEvent
from service.notifications.outbox import record_status_changed

MAX_BULK_IDS = 500


@dataclass(frozen=True)
class BulkResult:
    updated: list[int]
    not_found: list[int]


def _event(comment: Comment, actor: str, action: EventAction, **fields: Any) -> ModerationEvent:
    return ModerationEvent(
        comment_id=comment.id, post_id=comment.thread.post_id, actor=actor, action=action, **fields
    )


def _check_version(comment: Comment, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != comment.version:
        raise VersionConflictError(comment.version)


def _set_status(session: Session, comment: Comment, status: CommentStatus, actor: str) -> bool:
    if comment.status is status:
        return False
    session.add(
        _event(
            comment,
            actor,
            EventAction.STATUS_CHANGED,
            from_status=comment.status,
            to_status=status,
        )
    )
    record_status_changed(session, comment, status, actor)
    comment.status = status
    return True


def update_comment(
    session: Session,
    comment_id: int,
    *,
    actor: str,
    status: CommentStatus | None = None,
    body: Any = None,
    expected_version: int | None = None,
) -> Comment:
    """Change a comment's status and/or body; raises VersionConflictError on a stale
    expected_version, InvalidFieldsError on a bad body, NotFoundError."""
    new_body = validate_body(body) if body is not None else None
    comment = any_comment(session, comment_id)
    _check_version(comment, expected_version)
    was_public = comment.status is CommentStatus.APPROVED
    changed = False
    if new_body is not None and new_body[1] != comment.body_html:
        session.add(
            _event(
                comment,
                actor,
                EventAction.BODY_EDITED,
                from_status=comment.status,
                to_status=comment.status,
            )
        )
        comment.body_source, comment.body_html = new_body
        changed = True
    status_changed = status is not None and _set_status(session, comment, status, actor)
    if (changed or status_changed) and (was_public or comment.status is CommentStatus.APPROVED):
        refresh_public_state(session, {comment.thread_id})
    if status_changed:
        refresh_author_history(session, [comment.email])
    return comment


def bulk_set_status(
    session: Session, comment_ids: Sequence[int], status: CommentStatus, *, actor: str
) -> BulkResult:
    wanted = list(dict.fromkeys(comment_ids))
    comments = session.scalars(select(Comment).where(Comment.id.in_(wanted))).all()
    found = {comment.id: comment for comment in comments}
    was_public = {comment.id for comment in comments if comment.status is CommentStatus.APPROVED}
    changed = [comment for comment in comments if _set_status(session, comment, status, actor)]
    seen = [c for c in changed if c.id in was_public or status is CommentStatus.APPROVED]
    if seen:
        refresh_public_state(session, {comment.thread_id for comment in seen})
    if changed:
        refresh_author_history(session, {comment.email for comment in changed})
    return BulkResult(
        updated=[cid for cid in wanted if cid in found],
        not_found=[cid for cid in wanted if cid not in found],
    )


def delete_comment(
    session: Session, comment_id: int, *, actor: str, expected_version: int | None = None
) -> None:
    """Delete permanently. Replies move up to the deleted comment's parent, as WordPress
    does, so a thread keeps its shape."""
    comment = any_comment(session, comment_id)
    _check_version(comment, expected_version)
    # Published replies moving up to another parent are a change readers see, too.
    seen = comment.status is CommentStatus.APPROVED or session.scalar(
        select(
            exists().where(
                Comment.parent_id == comment.id, Comment.status == CommentStatus.APPROVED
            )
        )
    )
    session.execute(
        update(Comment)
        .where(Comment.parent_id == comment.id)
        .values(parent_id=comment.parent_id)
        .execution_options(synchronize_session=False)
    )
    session.add(
        _event(
            comment,
            actor,
            EventAction.DELETED,
            from_status=comment.status,
            detail={"name": comment.name},
        )
    )
    thread_id, email = comment.thread_id, comment.email
    session.delete(comment)
    if seen:
        refresh_public_state(session, {thread_id})
    refresh_author_history(session, [email])
