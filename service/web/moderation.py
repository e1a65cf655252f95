"""Moderation JSON API (Bearer token): the review queue, one comment, status changes and
edits guarded by If-Match, bulk changes, permanent deletion and the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from service.comments.queries import any_comment, audit_events, author_history, moderation_queue
from service.comments.review import MAX_BULK_IDS, bulk_set_status, delete_comment, update_comment
from service.comments.validation import parse_digits
from service.db import request_session
from service.errors import FieldError, InvalidFieldsError
from service.models import Comment, CommentStatus
from service.web import serializers
from service.web.auth import current_moderator, require_admin, require_moderator
from service.web.params import (
    MAX_ID,
    choice_param,
    cursor_param,
    encode_cursor,
    id_param,
    json_object,
    limit_param,
)

bp = Blueprint("moderation", __name__, url_prefix="/api/v1/moderation")
bp.before_request(require_moderator)


@bp.after_request
def _never_cache(response: Response) -> Response:
    # These responses carry e-mail addresses and IPs: no shared or browser cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


def _etag(comment: Comment) -> str:
    return f"v{comment.version}"


def _expected_version() -> int | None:
    """The version named by If-Match; a tag that can never match gives -1 (412)."""
    if not request.if_match or request.if_match.star_tag:
        return None
    for tag in request.if_match.as_set(include_weak=True):
        if tag and tag.startswith("v"):  # W/"" parses as None
            version = parse_digits(tag[1:])
            if version is not None:
                return version
    return -1


def _status_field(raw: dict[str, Any]) -> CommentStatus | None:
    value = raw.get("status")
    if value is None:
        return None
    try:
        return CommentStatus(value)
    except ValueError:
        raise InvalidFieldsError([FieldError("status", "invalid_choice")]) from None


def _with_etag(comment: Comment) -> Response:
    history = author_history(request_session(), [comment.email])[comment.email]
    response = jsonify(serializers.moderator_comment(comment, history))
    response.set_etag(_etag(comment))
    return response


@bp.get("/comments")
def queue() -> Response:
    session = request_session()
    page = moderation_queue(
        session,
        status=choice_param("status", CommentStatus, CommentStatus.PENDING),
        post_id=request.args.get("post_id") or None,
        limit=limit_param(),
        after=cursor_param(),
    )
    history = author_history(session, [c.email for c in page.items])
    return jsonify(
        {
            "comments": [serializers.moderator_comment(c, history[c.email]) for c in page.items],
            "next_cursor": encode_cursor(page.next_after),
        }
    )


@bp.get("/comments/<int:comment_id>")
def get_comment(comment_id: int) -> Response:
    return _with_etag(any_comment(request_session(), comment_id))


@bp.patch("/comments/<int:comment_id>")
def patch_comment(comment_id: int) -> Response:
    raw = json_object()
    status = _status_field(raw)
    if status is None and "body" not in raw:
        raise InvalidFieldsError([FieldError("status", "required")])
    session = request_session()
    comment = update_comment(
        session,
        comment_id,
        actor=current_moderator().name,
        status=status,
        body=raw.get("body"),
        expected_version=_expected_version(),
    )
    session.commit()
    return _with_etag(comment)


def _bulk_ids(raw: dict[str, Any]) -> list[int]:
    ids = raw.get("ids")
    if not isinstance(ids, list) or not ids:
        raise InvalidFieldsError([FieldError("ids", "required")])
    if len(ids) > MAX_BULK_IDS:
        raise InvalidFieldsError([FieldError("ids", "too_long", {"max_items": MAX_BULK_IDS})])
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids):
        raise InvalidFieldsError([FieldError("ids", "invalid_type", {"expected": "integer"})])
    return ids


@bp.post("/comments/bulk")
def bulk() -> Response:
    raw = json_object()
    ids, status = _bulk_ids(raw), _status_field(raw)
    if status is None:
        raise InvalidFieldsError([FieldError("status", "required")])
    session = request_session()
    result = bulk_set_status(session, ids, status, actor=current_moderator().name)
    session.commit()
    return jsonify({"status": status, "updated": result.updated, "not_found": result.not_found})


@bp.delete("/comments/<int:comment_id>")
def delete(comment_id: int) -> tuple[str, int]:
    require_admin()
    session = request_session()
    delete_comment(
        session, comment_id, actor=current_moderator().name, expected_version=_expected_version()
    )
    session.commit()
    return "", 204


@bp.get("/events")
def events() -> Response:
    page = audit_events(
        request_session(),
        comment_id=id_param("comment_id"),
        limit=limit_param(),
        after=cursor_param(),
    )
    return jsonify(
        {
            "events": [serializers.audit_event(e) for e in page.items],
            "next_cursor": encode_cursor(page.next_after),
        }
    )
