"""Try rules before enforcing them: re-run the current pipeline over stored comments and
report what would change, without writing anything."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.comments.facts import gather_facts
from service.comments.rules import evaluate
from service.comments.rules_config import RulesConfig
from service.comments.validation import CommentDraft
from service.models import Comment, EventAction, ModerationEvent

BATCH = 500


@dataclass(frozen=True)
class Change:
    """A comment the current rules would judge differently than they did at submission.
    `current` is its status today, which moderators may have changed since."""

    comment_id: int
    was: str
    would_be: str
    current: str
    reasons: list[dict[str, str]]


@dataclass
class ReplayReport:
    total: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    changes: list[Change] = field(default_factory=list)


def _first_statuses(session: Session, ids: list[int]) -> dict[int, str]:
    """The status each comment got when submitted (moderators may have changed it since)."""
    rows = session.execute(
        select(ModerationEvent.comment_id, ModerationEvent.to_status).where(
            ModerationEvent.comment_id.in_(ids), ModerationEvent.action == EventAction.CREATED
        )
    )
    return {comment_id: status.value for comment_id, status in rows if status is not None}


def _draft(comment: Comment) -> CommentDraft:
    return CommentDraft(
        post_id=comment.thread.post_id,
        name=comment.name,
        email=comment.email,
        url=comment.url,
        body_source=comment.body_source,
        body_html=comment.body_html,
        parent_id=comment.parent_id,
    )


def replay(session: Session, config: RulesConfig, *, since: datetime | None) -> ReplayReport:
    """Judge each comment (oldest first) by the history before it, as if it were new now.
    Honeypot fields are not stored, so that rule cannot be replayed."""
    report = ReplayReport()
    after = 0
    while True:
        query = select(Comment).where(Comment.id > after).order_by(Comment.id).limit(BATCH)
        if since is not None:
            query = query.where(Comment.created_at >= since)
        batch = session.scalars(query).all()
        if not batch:
            return report
        first = _first_statuses(session, [c.id for c in batch])
        for comment in batch:
            facts = gather_facts(
                session,
                _draft(comment),
                config,
                now=comment.created_at,
                ip=comment.ip,
                user_agent=comment.user_agent,
                before_id=comment.id,
            )
            decision = evaluate(_draft(comment), facts, config)
            verdict = decision.status.value if decision.status else "rejected"
            report.total += 1
            report.verdicts[verdict] += 1
            report.rules.update(reason["rule"] for reason in decision.reasons)
            was = first.get(comment.id, comment.status.value)
            if verdict != was:
                report.changes.append(
                    Change(comment.id, was, verdict, comment.status.value, decision.reasons)
                )
        after = batch[-1].id
