"""Moderation receipts: the HMAC a held comment's author gets in the redirect, which lets
them (and only them) see their own comment while it awaits moderation."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.comments.queries import find_comment
from service.models import Comment, CommentStatus, NewComment, ServerSecret

RECEIPT_KEY_NAME = "receipt_key"


def _stored_key(sessions: sessionmaker[Session]) -> str:
    """The installation's key (created by migration 0002); recreated if someone deleted it."""
    with sessions() as session:
        value = session.scalar(
            select(ServerSecret.value).where(ServerSecret.name == RECEIPT_KEY_NAME)
        )
    if value is not None:
        return value
    with sessions() as session:
        session.add(ServerSecret(name=RECEIPT_KEY_NAME, value=secrets.token_hex(32)))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another worker created it first; use theirs
        return session.scalars(
            select(ServerSecret.value).where(ServerSecret.name == RECEIPT_KEY_NAME)
        ).one()


class ReceiptSigner:
    """Signs and checks receipts. The key is KOMMENTERA_SECRET_KEY when set, else the one
    stored in the database, read once per process on first use."""

    def __init__(self, configured_key: str | None, sessions: sessionmaker[Session]) -> None:
        self._key = configured_key.encode() if configured_key else None
        self._sessions = sessions
        self._lock = threading.Lock()

    def load(self) -> bytes:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = _stored_key(self._sessions).encode()
        return self._key

    def sign(self, comment: Comment | NewComment) -> str:
        # The e-mail is part of the message so a receipt cannot be replayed on a comment
        # that reused the id after a permanent delete (ids restart on a restored backup).
        message = f"{comment.id}\n{comment.email}".encode()
        return hmac.new(self.load(), message, hashlib.sha256).hexdigest()

    def verifies(self, comment: Comment, given: str | None) -> bool:
        # Compared as bytes: compare_digest refuses non-ASCII str, and a receipt is user input.
        return bool(given) and hmac.compare_digest(
            self.sign(comment).encode(), str(given).encode("utf-8", "replace")
        )

    def held_comment(self, session: Session, comment_id: int, given: str | None) -> Comment | None:
        """The unpublished comment its author may see with this receipt, else None. Spam and
        trash count as held too, so the receipt never tells a spammer it was caught."""
        comment = find_comment(session, comment_id)
        if comment is None or comment.status is CommentStatus.APPROVED:
            return None
        return comment if self.verifies(comment, given) else None
