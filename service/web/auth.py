"""Bearer-token authentication for the moderation API, and the admin role's extra rights."""

from __future__ import annotations

from flask import g, request

from service.db import request_session
from service.models import Moderator, Role
from service.moderators import authenticate
from service.web.problems import ProblemError


def require_moderator() -> None:
    """before_request hook: 401 with WWW-Authenticate unless a valid token is presented."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    moderator = None
    if scheme.lower() == "bearer" and token.strip():
        moderator = authenticate(request_session(), token.strip())
    if moderator is None:
        challenge = 'Bearer realm="kommentera"'
        if token:
            challenge += ', error="invalid_token"'
        raise ProblemError(401, "unauthorized", headers={"WWW-Authenticate": challenge})
    g.moderator = moderator


def current_moderator() -> Moderator:
    moderator: Moderator = g.moderator  # set by require_moderator, which guards every route
    return moderator


def require_admin() -> None:
    """403 forbidden unless the authenticated token has the admin role: what cannot be
    undone (permanent deletion) is for admins; moderators can still trash."""
    if current_moderator().role is not Role.ADMIN:
        raise ProblemError(403, "forbidden")
