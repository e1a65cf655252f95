"""Moderator API tokens: created once and shown once, stored only as a SHA-256 hash,
checked in constant time, revocable and rotatable by name."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import KommenteraError
from service.models import Moderator, Role, utcnow

TOKEN_PREFIX = "kmt_"  # noqa: S105 - a public marker that makes leaked tokens greppable
MAX_NAME_CHARS = 100


class TokenNameError(KommenteraError):
    """The token name is taken, unknown or malformed."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, name: str, role: Role = Role.MODERATOR) -> str:
    """Store a new moderator and return the token (the only time it exists in clear)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS or not name.isprintable():
        raise TokenNameError(f"a token name is 1–{MAX_NAME_CHARS} printable characters")
    existing = session.scalar(select(Moderator).where(Moderator.name == name))
    if existing is not None:
        # A name stays one moderator in the audit log, so a revoked name is not reused.
        state = "revoked" if existing.revoked_at else "active"
        raise TokenNameError(
            f"a token named {name!r} exists already ({state}): "
            f"`kommentera tokens rotate {name}` gives it a new token"
        )
    token = _new_token()
    session.add(Moderator(name=name, role=role, token_hash=_hash(token)))
    session.flush()
    return token


def rotate_token(session: Session, name: str) -> str:
    """Give the named moderator a new token, same name and role; the old token (or a
    revoked one) stops working at once. Returns the new token, shown only this once."""
    moderator = session.scalar(select(Moderator).where(Moderator.name == name))
    if moderator is None:
        raise TokenNameError(f"no token named {name!r}: `kommentera tokens create {name}`")
    token = _new_token()
    moderator.token_hash = _hash(token)
    moderator.created_at = utcnow()
    moderator.revoked_at = None
    session.flush()
    return token


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def list_moderators(session: Session) -> Sequence[Moderator]:
    return session.scalars(select(Moderator).order_by(Moderator.name)).all()


def revoke_token(session: Session, name: str) -> None:
    moderator = session.scalar(
        select(Moderator).where(Moderator.name == name, Moderator.revoked_at.is_(None))
    )
    if moderator is None:
        raise TokenNameError(f"no active token named {name!r}")
    moderator.revoked_at = utcnow()


def authenticate(session: Session, token: str) -> Moderator | None:
    """The active moderator holding this token, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    presented = _hash(token)
    moderator = session.scalar(select(Moderator).where(Moderator.token_hash == presented))
    # The lookup is by hash, which leaks nothing useful; compare again in constant time
    # so no code path compares secrets with ==.
    if moderator is None or not hmac.compare_digest(moderator.token_hash, presented):
        return None
    if moderator.revoked_at is not None:
        return None
    return moderator
