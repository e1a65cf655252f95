"""Submitting a comment: validate, sanitize, decide its first status and store it together
with its audit event, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from service.comments.facts import gather_facts, lock_submitter
from service.comments.rules import decide
from service.comments.rules_config import RulesConfig
from service.comments.threads import get_or_create_thread, refresh_public_state
from service.comments.validation import clean_user_agent, validate_comment
from service.models import Comment, CommentStatus, EventAction, ModerationEvent, Thread, utcnow
from service.notifications.outbox import record_comment_created

SUBMISSION_ACTOR = "submission"


@dataclass(frozen=True)
class ClientInfo:
    """Who sent the request, as seen by the HTTP layer; stored for moderators only."""

    ip: str | None
    user_agent: str | None


def _approved_parent_exists(session: Session) -> Any:
    def exists(post_id: str, parent_id: int) -> bool:
        found = session.scalar(
            select(Comment.id)
            .join(Thread)
            .where(
                Comment.id == parent_id,
                Thread.post_id == post_id,
                Comment.status == CommentStatus.APPROVED,
            )
        )
        return found is not None

    return exists


def _honeypot(raw: Mapping[str, Any], config: RulesConfig) -> str:
    if not config.honeypot_field:
        return ""
    value = raw.get(config.honeypot_field)
    return str(value).strip() if value not in (None, False) else ""


def submit_comment(
    session: Session,
    raw: Mapping[str, Any],
    client: ClientInfo,
    rules: RulesConfig,
) -> Comment:
    """Validate, run the moderation rules and store a new comment. Raises InvalidFieldsError
    with every field error, or the rejecting rule's error (closed, duplicate, flood)."""
    draft = validate_comment(raw, parent_exists=_approved_parent_exists(session))
    user_agent = clean_user_agent(client.user_agent)
    lock_submitter(session, draft.email, client.ip)
    facts = gather_facts(
        session,
        draft,
        rules,
        now=utcnow(),
        ip=client.ip,
        user_agent=user_agent,
        honeypot=_honeypot(raw, rules),
    )
    decision = decide(draft, facts, rules)
    status, reasons = decision.status, decision.reasons
    assert status is not None  # decide() raised for a rejection

    thread = get_or_create_thread(session, draft.post_id)
    comment = Comment(
        thread=thread,
        parent_id=draft.parent_id,
        status=status,
        name=draft.name,
        email=draft.email,
        url=draft.url,
        body_source=draft.body_source,
        body_html=draft.body_html,
        ip=client.ip,
        user_agent=user_agent,
        reasons=reasons,
    )
    session.add(comment)
    session.flush()
    # Core inserts for the audit and outbox rows: nothing reads them back in this request.
    session.execute(
        insert(ModerationEvent).values(
            comment_id=comment.id,
            post_id=thread.post_id,
            actor=SUBMISSION_ACTOR,
            action=EventAction.CREATED,
            to_status=status,
            detail={"reasons": reasons},
        )
    )
    record_comment_created(session, comment)
    if status is CommentStatus.APPROVED:
        refresh_public_state(session, {thread.id})
    return comment
