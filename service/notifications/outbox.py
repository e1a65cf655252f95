"""Writes comment events to the outbox table in the caller's transaction, so an event
exists exactly when its change committed. Private fields sit apart in the payload so
delivery can leave them out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from service.models import Comment, CommentStatus, NewComment, OutboxEvent, utcnow

COMMENT_CREATED = "comment.created"
COMMENT_STATUS_CHANGED = "comment.status_changed"
PRIVATE_KEY = "private"
# A core insert built once: the row is never read back in the request that writes it.
_INSERT = insert(OutboxEvent.__table__)
_EVENTS = OutboxEvent.__table__.c


def _comment(comment: Comment | NewComment, status: CommentStatus) -> dict[str, Any]:
    return {
        "id": comment.id,
        "post_id": comment.post_id,
        "parent_id": comment.parent_id,
        "status": str(status),
        "name": comment.name,
        "url": comment.url,
        "body": comment.body_html,
        "created_at": comment.created_at.isoformat() if comment.created_at else None,
    }


def _private(comment: Comment | NewComment) -> dict[str, Any]:
    return {"email": comment.email, "ip": comment.ip, "user_agent": comment.user_agent}


def _record(
    session: Session,
    event_type: str,
    comment: Comment | NewComment,
    status: CommentStatus,
    **extra: Any,
) -> None:
    payload = {
        "id": uuid.uuid4().hex,  # receivers de-duplicate retries by this id
        "type": event_type,
        "occurred_at": utcnow().isoformat(),
        "comment": _comment(comment, status),
        **extra,
        PRIVATE_KEY: _private(comment),
    }
    session.connection().execute(_INSERT, {"event_type": event_type, "payload": payload})


def record_comment_created(session: Session, comment: NewComment) -> None:
    """Queue `comment.created` with the verdict (first status and its reasons)."""
    _record(
        session,
        COMMENT_CREATED,
        comment,
        comment.status,
        verdict={"status": str(comment.status), "reasons": list(comment.reasons or [])},
    )


def record_status_changed(
    session: Session, comment: Comment, to_status: CommentStatus, actor: str
) -> None:
    """Queue `comment.status_changed`; call before the comment's status is changed."""
    _record(
        session,
        COMMENT_STATUS_CHANGED,
        comment,
        to_status,
        from_status=str(comment.status),
        to_status=str(to_status),
        actor=actor,
    )


def public_payload(payload: dict[str, Any], *, include_private: bool) -> dict[str, Any]:
    """The payload as delivered: without e-mail, IP and user agent unless asked for."""
    if include_private:
        return payload
    return {key: value for key, value in payload.items() if key != PRIVATE_KEY}


def purge_finished(session: Session, finished_before: datetime) -> int:
    """Delete events delivered or failed before the cutoff, with the private data they
    carry; returns how many went. Events still to be delivered are kept whatever their age."""
    connection = session.connection()
    # Two deletes rather than one OR, so each seeks ix_outbox_events_due by its prefix.
    delivered = connection.execute(
        delete(OutboxEvent.__table__).where(_EVENTS.delivered_at < finished_before)
    )
    failed = connection.execute(
        delete(OutboxEvent.__table__).where(
            _EVENTS.delivered_at.is_(None), _EVENTS.failed_at < finished_before
        )
    )
    return delivered.rowcount + failed.rowcount
