"""The stored data: threads, comments, authors' counts, moderators (API tokens) and the
moderation audit log.

Timestamps are timezone-aware UTC on every backend; statuses are enums stored as strings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns aware datetimes (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model maps one Table (DeclarativeBase types it as any FromClause), which the
    # Core statements of the fast paths insert into and delete from.
    __table__: ClassVar[Table]


class CommentStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SPAM = "spam"
    TRASH = "trash"


class Role(enum.StrEnum):
    MODERATOR = "moderator"
    ADMIN = "admin"


class EventAction(enum.StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    BODY_EDITED = "body_edited"
    DELETED = "deleted"


def _enum(enum_class: type[enum.Enum], name: str) -> Enum:
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Thread(Base):
    """One blog post's comment thread, created by its first comment.

    approved_count and public_version are derived from the comments and refreshed in the
    same transaction as every change, so counts and ETags cost one indexed row read.
    """

    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[str] = mapped_column(String(200), unique=True)
    closed: Mapped[bool] = mapped_column(default=False)
    approved_count: Mapped[int] = mapped_column(default=0)
    public_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        # Public thread pages and the per-post queue: keyset over id within a thread.
        Index("ix_comments_thread_status_id", "thread_id", "status", "id"),
        # The moderation queue across all posts.
        Index("ix_comments_status_id", "status", "id"),
        # An author's or address's newest comments first (flood, learned spam signals),
        # without reading every comment they ever wrote.
        Index("ix_comments_email_id", "email", "id"),
        Index("ix_comments_ip_id", "ip", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus, "comment_status"), default=CommentStatus.PENDING
    )
    name: Mapped[str] = mapped_column(String(245))
    email: Mapped[str] = mapped_column(String(254))
    url: Mapped[str | None] = mapped_column(String(200))
    # What the commenter typed (control characters removed), kept for moderators and for
    # re-running rules; body_html is the sanitized, display-ready form served publicly.
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(254))
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    thread: Mapped[Thread] = relationship(lazy="joined", innerjoin=True)

    # Optimistic concurrency: every UPDATE checks and bumps version, so a moderator's
    # change based on a stale read fails instead of silently overwriting another's.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def post_id(self) -> str:
        return self.thread.post_id


class Author(Base):
    """Approved and spam comment counts per author e-mail (exactly as stored on the
    comments), shown to moderators as author_history.

    Derived from the comments and recounted in the same transaction as every change to an
    author's comments (service/comments/authors.py), so the queue reads them by primary key
    instead of counting everything the page's authors ever wrote.
    """

    __tablename__ = "authors"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    approved_count: Mapped[int] = mapped_column(default=0)
    spam_count: Mapped[int] = mapped_column(default=0)


@dataclass(frozen=True)
class NewComment:
    """The row a submission just inserted, as plain values: nothing in that request changes
    it again, so it is inserted with core SQL and never becomes an ORM object."""

    id: int
    thread_id: int
    post_id: str
    parent_id: int | None
    status: CommentStatus
    name: str
    email: str
    url: str | None
    body_html: str
    ip: str | None
    user_agent: str | None
    reasons: list[dict[str, str]]
    created_at: datetime


class Moderator(Base):
    """An API token holder. Only a SHA-256 hash of the token is stored."""

    __tablename__ = "moderators"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "moderator_role"), default=Role.MODERATOR)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ModerationEvent(Base):
    """Audit log row. comment_id is deliberately not a foreign key: the log outlives
    permanently deleted comments."""

    __tablename__ = "moderation_events"
    __table_args__ = (Index("ix_moderation_events_comment_id_id", "comment_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int]
    post_id: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[EventAction] = mapped_column(_enum(EventAction, "event_action"))
    from_status: Mapped[CommentStatus | None] = mapped_column(
        _enum(CommentStatus, "event_from_status")
    )
    to_status: Mapped[CommentStatus | None] = mapped_column(_enum(CommentStatus, "event_to_status"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServerSecret(Base):
    """Secrets generated once per installation (by migration 0002), shared by every worker
    and instance, e.g. the key that signs moderation receipts."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxEvent(Base):
    """A notification to deliver (webhook, moderator e-mail), written in the same
    transaction as the change it reports, so no change is lost or announced twice."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        # The worker's "due" query: undelivered, not failed, next_attempt_at <= now.
        Index("ix_outbox_events_due", "delivered_at", "failed_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Channels (webhook, email) already done, so a retry never repeats a delivered one.
    channels_done: Mapped[list[str]] = mapped_column(JSON, default=list)
