"""Moderation JSON API for threads: close or reopen a post's comments."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from service import app_state
from service.comments.threads import closes_at, set_closed
from service.comments.validation import validate_post_id
from service.db import request_session
from service.errors import FieldError, InvalidFieldsError
from service.models import Thread, utcnow
from service.web.auth import require_moderator
from service.web.params import json_object

bp = Blueprint("threads", __name__, url_prefix="/api/v1/moderation")
bp.before_request(require_moderator)


def _thread_state(thread: Thread) -> dict[str, object]:
    days = app_state.settings().close_after_days
    when = closes_at(thread, days)
    return {
        "post_id": thread.post_id,
        "closed": thread.closed or (when is not None and utcnow() >= when),
        "closes_at": when.isoformat() if when else None,
    }


@bp.patch("/threads")
def patch_thread() -> Response:
    raw = json_object()
    closed = raw.get("closed")
    errors = (
        []
        if isinstance(closed, bool)
        else [FieldError("closed", "invalid_type", {"expected": "boolean"})]
    )
    try:
        post_id = validate_post_id(raw.get("post_id"))
    except InvalidFieldsError as error:
        raise InvalidFieldsError(error.errors + errors) from None
    if not isinstance(closed, bool):
        raise InvalidFieldsError(errors)
    session = request_session()
    thread = set_closed(session, post_id, closed)
    session.commit()
    response = jsonify(_thread_state(thread))
    response.headers["Cache-Control"] = "no-store"
    return response
