"""The moderation rule pipeline: small pure functions `(draft, facts, config) -> Verdict | None`
run in a fixed order to one decision (reject, spam/trash, hold or approve) with the reasons
why. Every fact that needs the database is gathered by the caller (see facts.py)."""

from __future__ import annotations

import enum
import ipaddress
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from service.comments.rules_config import RulesConfig
from service.comments.sanitize import count_links, visible_text
from service.comments.validation import CommentDraft
from service.errors import (
    CommentsClosedError,
    DuplicateCommentError,
    FieldError,
    FloodError,
    InvalidFieldsError,
    KommenteraError,
)
from service.models import CommentStatus


class Action(enum.StrEnum):
    REJECT = "reject"
    SPAM = "spam"
    TRASH = "trash"
    HOLD = "hold"
    APPROVE = "approve"


@dataclass(frozen=True)
class Verdict:
    action: Action
    rule: str
    detail: str
    error: KommenteraError | None = None  # what a REJECT raises

    @property
    def reason(self) -> dict[str, str]:
        return {"rule": self.rule, "detail": self.detail}


@dataclass(frozen=True)
class Facts:
    """What the rules may know beyond the draft: the request and the stored history."""

    now: datetime
    ip: str | None = None
    user_agent: str | None = None
    honeypot: str = ""
    thread_closed: bool = False
    thread_created_at: datetime | None = None
    depth: int = 1  # 1 = a top-level comment, 2 = a reply to it, ...
    duplicate: bool = False
    last_comment_at: datetime | None = None  # latest comment from the same IP or e-mail
    known_author: bool = False  # same name and e-mail has an approved comment
    spam_signals: tuple[str, ...] = ()  # "email" and/or "ip" marked spam by a moderator


# --- the rules, in pipeline order -------------------------------------------------------

Rule = Callable[[CommentDraft, Facts, RulesConfig], Verdict | None]


def closed_thread(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    if facts.thread_closed:
        return Verdict(Action.REJECT, "closed", "closed by a moderator", CommentsClosedError())
    if config.close_after_days and facts.thread_created_at is not None:
        closes_at = facts.thread_created_at + timedelta(days=config.close_after_days)
        if facts.now >= closes_at:
            detail = f"closed {config.close_after_days} days after its first comment"
            return Verdict(Action.REJECT, "closed", detail, CommentsClosedError())
    return None


def reply_depth(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    if config.max_depth and facts.depth > config.max_depth:
        error = InvalidFieldsError(
            [FieldError("parent_id", "too_deep", {"max_depth": config.max_depth})]
        )
        return Verdict(Action.REJECT, "depth", f"reply level {facts.depth}", error)
    return None


def duplicate(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    if facts.duplicate:
        return Verdict(
            Action.REJECT, "duplicate", "same comment already exists", DuplicateCommentError()
        )
    return None


def flood_wait(last_comment_at: datetime | None, now: datetime, config: RulesConfig) -> int:
    """Seconds until the same e-mail or IP may comment again (0: now)."""
    if not config.flood_seconds or last_comment_at is None:
        return 0
    wait = config.flood_seconds - (now - last_comment_at).total_seconds()
    return max(1, math.ceil(wait)) if wait > 0 else 0


def flood(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    retry_after = flood_wait(facts.last_comment_at, facts.now, config)
    if not retry_after:
        return None
    return Verdict(Action.REJECT, "flood", f"retry after {retry_after}s", FloodError(retry_after))


def honeypot(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    if config.honeypot_field and facts.honeypot:
        return Verdict(Action.SPAM, "honeypot", f"hidden field {config.honeypot_field} filled")
    return None


def blocked_email(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    email = draft.email.lower()
    for entry in config.blocked_emails:
        if email == entry or (entry.startswith("@") and email.endswith(entry)):
            return Verdict(Action.SPAM, "blocked_email", f"matches {entry}")
    return None


def blocked_ip(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    if not config.blocked_ips or not facts.ip:
        return None
    try:
        address = ipaddress.ip_address(facts.ip)
    except ValueError:
        return None
    for network in config.blocked_ips:
        if address.version == network.version and address in network:
            return Verdict(Action.SPAM, "blocked_ip", f"in {network}")
    return None


def _fields(draft: CommentDraft, facts: Facts) -> Iterator[tuple[str, str]]:
    """The texts WordPress searches for its word lists, named for the reason."""
    yield "name", draft.name
    yield "email", draft.email
    yield "url", draft.url or ""
    # Both what was typed (catches words in link targets) and what a reader sees (catches
    # words split by markup, like vi<b></b>agra).
    yield "body", draft.body_source
    yield "body", visible_text(draft.body_html)
    yield "ip", facts.ip or ""
    yield "user_agent", facts.user_agent or ""


def _find_word(draft: CommentDraft, facts: Facts, words: tuple[str, ...]) -> str | None:
    if not words:
        return None
    for name, text in _fields(draft, facts):
        lowered = text.lower()
        for word in words:
            if word in lowered:
                return f"{word!r} in {name}"
    return None


def disallowed_words(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    found = _find_word(draft, facts, config.disallowed_words)
    if found is None:
        return None
    return Verdict(Action(config.disallowed_action), "disallowed_words", found)


def learned_spam(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    if not facts.spam_signals:
        return None
    detail = " and ".join(f"{s} marked spam by a moderator" for s in facts.spam_signals)
    return Verdict(Action.SPAM, "learned_spam", detail.replace("email", "e-mail"))


def moderation_words(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    found = _find_word(draft, facts, config.moderation_words)
    return Verdict(Action.HOLD, "moderation_words", found) if found else None


def too_many_links(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    links = count_links(draft.body_html) if config.max_links else 0
    if config.max_links and links >= config.max_links:
        return Verdict(Action.HOLD, "links", f"{links} links (limit {config.max_links})")
    return None


def known_author(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Verdict | None:
    if config.auto_approve_known_authors and facts.known_author:
        return Verdict(Action.APPROVE, "known_author", "author has an approved comment")
    return None


PIPELINE: tuple[Rule, ...] = (
    closed_thread,
    reply_depth,
    duplicate,
    flood,
    honeypot,
    blocked_email,
    blocked_ip,
    disallowed_words,
    learned_spam,
    moderation_words,
    too_many_links,
    known_author,
)
REVIEW_REASON = {"rule": "review", "detail": "every comment is reviewed before publishing"}
_STATUS = {
    Action.SPAM: CommentStatus.SPAM,
    Action.TRASH: CommentStatus.TRASH,
    Action.HOLD: CommentStatus.PENDING,
    Action.APPROVE: CommentStatus.APPROVED,
}


@dataclass(frozen=True)
class Decision:
    action: Action | None  # None: no rule spoke, the comment waits for review
    reasons: list[dict[str, str]]
    error: KommenteraError | None = None

    @property
    def status(self) -> CommentStatus | None:
        """The stored status; None for a rejection."""
        if self.action is Action.REJECT:
            return None
        return _STATUS[self.action] if self.action else CommentStatus.PENDING


def evaluate(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Decision:
    """Run every rule in order; the first rejection stops the pipeline, otherwise the most
    severe verdict wins (spam/trash over hold over approve) with all its reasons."""
    verdicts: list[Verdict] = []
    for rule in PIPELINE:
        verdict = rule(draft, facts, config)
        if verdict is None:
            continue
        if verdict.action is Action.REJECT:
            return Decision(Action.REJECT, [verdict.reason], verdict.error)
        verdicts.append(verdict)
    for severity in ((Action.SPAM, Action.TRASH), (Action.HOLD,), (Action.APPROVE,)):
        chosen = [v for v in verdicts if v.action in severity]
        if chosen:
            return Decision(chosen[0].action, [v.reason for v in chosen])
    return Decision(None, [REVIEW_REASON])


def decide(draft: CommentDraft, facts: Facts, config: RulesConfig) -> Decision:
    """evaluate(), raising the rejecting rule's domain error."""
    decision = evaluate(draft, facts, config)
    if decision.error is not None:
        raise decision.error
    return decision
