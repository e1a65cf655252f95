"""The privacy boundary: what each audience sees of a comment. The public shape lists
exactly the public fields; e-mail, IP and user agent only ever leave via moderator_*."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from service.comments.queries import PublicRow
from service.models import Comment, CommentStatus, ModerationEvent, NewComment


def _public(
    id_: int,
    parent_id: int | None,
    name: str,
    url: str | None,
    body_html: str,
    created_at: datetime,
) -> dict[str, Any]:
    return {
        "id": id_,
        "parent_id": parent_id,
        "name": name,
        "url": url,
        "body": body_html,
        "created_at": created_at.isoformat(),
    }


def public_comment(comment: Comment | NewComment | Row[Any]) -> dict[str, Any]:
    return _public(
        comment.id,
        comment.parent_id,
        comment.name,
        comment.url,
        comment.body_html,
        comment.created_at,
    )


def public_comments(rows: Iterable[PublicRow]) -> list[dict[str, Any]]:
    """Rows of queries.PUBLIC_COLUMNS, unpacked by position: looking their fields up by
    name cost two thirds of building a 200-comment page."""
    return [_public(*row) for row in rows]


def submitted_comment(comment: Comment | NewComment) -> dict[str, Any]:
    """What the commenter gets back: the public fields plus where it stands. Spam and trash
    answer "pending", exactly like a held comment, so a spammer never learns it was caught."""
    shown = "approved" if comment.status is CommentStatus.APPROVED else "pending"
    return {**public_comment(comment), "post_id": comment.post_id, "status": shown}


def moderator_comment(
    comment: Comment | Row[Any], history: dict[str, int] | None = None
) -> dict[str, Any]:
    """comment: a Comment, or a moderation-queue row (queries.MODERATOR_COLUMNS, which carries
    its thread's post_id). history: the author's (same e-mail) approved and spam counts,
    when loaded."""
    return {
        **public_comment(comment),
        "post_id": comment.post_id,
        "status": comment.status,
        "email": comment.email,
        "ip": comment.ip,
        "user_agent": comment.user_agent,
        "body_source": comment.body_source,
        "reasons": comment.reasons,
        "version": comment.version,
        "updated_at": comment.updated_at.isoformat(),
        "author_history": history or {"approved": 0, "spam": 0},
    }


def audit_event(event: ModerationEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "comment_id": event.comment_id,
        "post_id": event.post_id,
        "actor": event.actor,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "detail": event.detail,
        "created_at": event.created_at.isoformat(),
    }
