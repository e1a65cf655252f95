"""Submitting a comment: validate, sanitize, decide its first status and store it together
with its audit event (and, when it counts, its author's history), in the caller's
transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from service.comments.authors import COUNTED_STATUSES, refresh_author_history
from service.comments.facts import gather_facts, lock_submitter, newest_comment_at
from service.comments.rules import decide, flood_wait
from service.comments.rules_config import RulesConfig
from service.comments.threads import refresh_public_state, thread_id_for
from service.comments.validation import CommentDraft, check_comment, clean_user_agent
from service.errors import FloodError
from service.models import (
    Comment,
    CommentStatus,
    EventAction,
    ModerationEvent,
    NewComment,
    Thread,
    utcnow,
)
from service.notifications.outbox import record_comment_created

SUBMISSION_ACTOR = "submission"
# Core inserts built once: the comment, its audit event and its outbox row are never read
# back in the request, and the ORM unit of work cost more than the rest of the insert.
_INSERT_COMMENT = insert(Comment.__table__).returning(Comment.__table__.c.id)
_INSERT_EVENT = insert(ModerationEvent.__table__)


@dataclass(frozen=True)
class ClientInfo:
    """Who sent the request, as seen by the HTTP layer; stored for moderators only."""

    ip: str | None
    user_agent: str | None


_APPROVED_PARENT = (
    select(Comment.id)
    .join(Thread)
    .where(
        Comment.id == bindparam("parent_id"),
        Thread.post_id == bindparam("post_id"),
        Comment.status == CommentStatus.APPROVED,
    )
)


def _approved_parent_exists(session: Session) -> Any:
    def exists(post_id: str, parent_id: int) -> bool:
        found = session.connection().execute(
            _APPROVED_PARENT, {"parent_id": parent_id, "post_id": post_id}
        )
        return found.first() is not None

    return exists


def _honeypot(raw: Mapping[str, Any], config: RulesConfig) -> str:
    if not config.honeypot_field:
        return ""
    value = raw.get(config.honeypot_field)
    return str(value).strip() if value not in (None, False) else ""


def _store(
    session: Session,
    draft: CommentDraft,
    status: CommentStatus,
    reasons: list[dict[str, str]],
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> NewComment:
    """Insert the comment and its `created` audit event; the thread is made if it is new."""
    connection = session.connection()
    thread_id = thread_id_for(session, draft.post_id)
    row = {
        "thread_id": thread_id,
        "parent_id": draft.parent_id,
        "status": status,
        "name": draft.name,
        "email": draft.email,
        "url": draft.url,
        "body_source": draft.body_source,
        "body_html": draft.body_html,
        "ip": ip,
        "user_agent": user_agent,
        "reasons": reasons,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    comment_id: int = connection.execute(_INSERT_COMMENT, row).scalar_one()
    connection.execute(
        _INSERT_EVENT,
        {
            "comment_id": comment_id,
            "post_id": draft.post_id,
            "actor": SUBMISSION_ACTOR,
            "action": EventAction.CREATED,
            "from_status": None,
            "to_status": status,
            "detail": {"reasons": reasons},
            "created_at": now,
        },
    )
    return NewComment(
        id=comment_id,
        thread_id=thread_id,
        post_id=draft.post_id,
        parent_id=draft.parent_id,
        status=status,
        name=draft.name,
        email=draft.email,
        url=draft.url,
        body_html=draft.body_html,
        ip=ip,
        user_agent=user_agent,
        reasons=reasons,
        created_at=now,
    )


def submit_comment(
    session: Session,
    raw: Mapping[str, Any],
    client: ClientInfo,
    rules: RulesConfig,
) -> NewComment:
    """Validate, run the moderation rules and store a new comment. Raises InvalidFieldsError
    with every field error, or the rejecting rule's error (closed, duplicate, flood).

    The cheap refusals come before the sanitizer, the one step whose cost grows with the
    body: sizes and formats (the rate limit and request size came before this call), then
    the flood wait, which a flood of hostile bodies would otherwise pay for in full.
    """
    checked = check_comment(raw, parent_exists=_approved_parent_exists(session))
    user_agent = clean_user_agent(client.user_agent)
    lock_submitter(session, checked.email, client.ip)
    now = utcnow()
    if rules.flood_seconds:
        last = newest_comment_at(session, checked.email, client.ip)
        if retry_after := flood_wait(last, now, rules):
            raise FloodError(retry_after)
    draft = checked.sanitized()
    facts = gather_facts(
        session,
        draft,
        rules,
        now=now,
        ip=client.ip,
        user_agent=user_agent,
        honeypot=_honeypot(raw, rules),
    )
    decision = decide(draft, facts, rules)
    status, reasons = decision.status, decision.reasons
    assert status is not None  # decide() raised for a rejection

    comment = _store(session, draft, status, reasons, client.ip, user_agent, now)
    record_comment_created(session, comment)
    if status is CommentStatus.APPROVED:
        refresh_public_state(session, {comment.thread_id})
    # Pending, the usual first status, changes no author's history: it pays nothing here.
    if status in COUNTED_STATUSES:
        refresh_author_history(session, [draft.email])
    return comment
