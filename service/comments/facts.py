"""Gathering what the moderation rules need from the database (thread state, reply depth,
duplicates, the author's last comment and history), and the lock that makes check-then-insert
safe across workers and instances."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.orm import Session

from service.comments.rules import Facts
from service.comments.rules_config import RulesConfig
from service.comments.threads import find_thread
from service.comments.validation import CommentDraft
from service.models import Comment, CommentStatus, EventAction, ModerationEvent, Thread

# How many of an e-mail's or IP's newest comments the learned spam signal looks at.
SIGNAL_HISTORY = 200


def lock_submitter(session: Session, email: str, ip: str | None) -> None:
    """Serialize submissions from the same e-mail or IP until the transaction ends.

    SQLite writers already run one at a time (BEGIN IMMEDIATE); PostgreSQL runs READ
    COMMITTED, where two workers could both see "no duplicate" and both insert. Email
    first, then IP, always: a fixed order cannot deadlock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = [f"kommentera:email:{email.lower()}"] + ([f"kommentera:ip:{ip}"] if ip else [])
    for key in keys:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def _earlier(before_id: int | None) -> list[ColumnElement[bool]]:
    """Replay judges a stored comment only by what existed before it."""
    return [Comment.id < before_id] if before_id is not None else []


def _depth(session: Session, parent_id: int | None, limit: int) -> int:
    """The new comment's level, walked no further than the limit needs (0: not at all)."""
    depth, current = 1, parent_id if limit else None
    while current is not None and depth <= limit:
        depth += 1
        current = session.scalar(select(Comment.parent_id).where(Comment.id == current))
    return depth


def _duplicate(session: Session, draft: CommentDraft, before_id: int | None) -> bool:
    query = (
        select(Comment.id)
        .join(Thread)
        .where(
            Thread.post_id == draft.post_id,
            Comment.parent_id.is_(None)
            if draft.parent_id is None
            else Comment.parent_id == draft.parent_id,
            Comment.email == draft.email,
            Comment.name == draft.name,
            Comment.body_html == draft.body_html,
            Comment.status != CommentStatus.TRASH,
            *_earlier(before_id),
        )
        .limit(1)
    )
    return session.scalar(query) is not None


def _last_comment_at(
    session: Session, email: str, ip: str | None, before_id: int | None
) -> datetime | None:
    """When the newest comment from this e-mail or IP was written. Ids grow with time, so
    the newest is the highest id: one probe of (email, id) and one of (ip, id)."""
    latest = []
    for condition in (Comment.email == email, Comment.ip == ip if ip else None):
        if condition is not None:
            latest.append(
                session.scalar(
                    select(Comment.created_at)
                    .where(condition, *_earlier(before_id))
                    .order_by(Comment.id.desc())
                    .limit(1)
                )
            )
    found = [moment for moment in latest if moment is not None]
    return max(found) if found else None


def _spam_signal(session: Session, condition: ColumnElement[bool], before_id: int | None) -> bool:
    """A moderator's latest spam-or-approve verdict on this e-mail's (or IP's) recent
    comments was spam. Only moderators teach: the rules' own spam verdicts never feed back.
    Looking at the newest SIGNAL_HISTORY comments keeps the cost bounded for an address
    that many people share (a school's or an office's NAT)."""
    recent = (
        select(Comment.id)
        .where(condition, *_earlier(before_id))
        .order_by(Comment.id.desc())
        .limit(SIGNAL_HISTORY)
        .subquery()
    )
    latest = session.scalar(
        select(ModerationEvent.to_status)
        .join(recent, recent.c.id == ModerationEvent.comment_id)
        .where(
            ModerationEvent.action == EventAction.STATUS_CHANGED,
            ModerationEvent.to_status.in_([CommentStatus.SPAM, CommentStatus.APPROVED]),
        )
        .order_by(ModerationEvent.id.desc())
        .limit(1)
    )
    return latest is CommentStatus.SPAM


def _known_author(session: Session, draft: CommentDraft, before_id: int | None) -> bool:
    query = select(Comment.id).where(
        Comment.email == draft.email,
        Comment.name == draft.name,
        Comment.status == CommentStatus.APPROVED,
        *_earlier(before_id),
    )
    return session.scalar(query.limit(1)) is not None


def gather_facts(
    session: Session,
    draft: CommentDraft,
    config: RulesConfig,
    *,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
    honeypot: str = "",
    before_id: int | None = None,
) -> Facts:
    """Everything the pipeline needs; before_id limits history to older comments."""
    thread = find_thread(session, draft.post_id)
    signals = [("email", Comment.email == draft.email)] + ([("ip", Comment.ip == ip)] if ip else [])
    return Facts(
        now=now,
        ip=ip,
        user_agent=user_agent,
        honeypot=honeypot,
        thread_closed=bool(thread and thread.closed),
        thread_created_at=thread.created_at if thread else None,
        depth=_depth(session, draft.parent_id, config.max_depth),
        duplicate=_duplicate(session, draft, before_id),
        last_comment_at=(
            _last_comment_at(session, draft.email, ip, before_id) if config.flood_seconds else None
        ),
        known_author=config.auto_approve_known_authors and _known_author(session, draft, before_id),
        spam_signals=tuple(
            name for name, condition in signals if _spam_signal(session, condition, before_id)
        ),
    )
