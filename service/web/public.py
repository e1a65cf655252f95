"""Public JSON API: submit a comment, read a post's approved comments, counts."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from service import app_state
from service.comments.queries import (
    MAX_COUNT_POSTS,
    approved_counts,
    public_comment,
    public_thread_page,
)
from service.comments.submission import ClientInfo, submit_comment
from service.comments.threads import public_state
from service.comments.validation import validate_post_id
from service.db import request_connection, request_session
from service.errors import FieldError, InvalidFieldsError
from service.models import CommentStatus
from service.web import metrics, receipts, serializers
from service.web.params import (
    cursor_param,
    encode_cursor,
    json_object,
    limit_param,
    required_query,
)
from service.web.problems import ProblemError

bp = Blueprint("public", __name__, url_prefix="/api/v1")


def client_info() -> ClientInfo:
    return ClientInfo(ip=request.remote_addr, user_agent=request.user_agent.string)


@bp.post("/comments")
def create_comment() -> tuple[Response, int, dict[str, str]]:
    session = request_session()
    comment = submit_comment(session, json_object(), client_info(), app_state.rules())
    session.commit()
    metrics.record_verdict(comment.status)
    status = 201 if comment.status is CommentStatus.APPROVED else 202
    location = url_for("public.get_comment", comment_id=comment.id)
    return jsonify(serializers.submitted_comment(comment)), status, {"Location": location}


def _query_post_id() -> str:
    try:
        return validate_post_id(required_query("post_id"))
    except InvalidFieldsError as error:
        raise ProblemError(400, "invalid_query", error.errors) from None


@bp.get("/comments")
def list_comments() -> Response:
    post_id = _query_post_id()
    limit, after = limit_param(), cursor_param()
    connection = request_connection()
    thread = public_state(connection, post_id)
    # The ETag is built from the thread's public version alone, so an unchanged thread
    # answers 304 after one indexed row read, before any comment is loaded. Not from the
    # thread's id: a thread exists from its first comment, published or not, and an ETag
    # must not tell a post with only held comments from one nobody commented on.
    version = thread.public_version if thread else 0
    etag = f"{version}.{limit}.{after or 0}"
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        page = (
            public_thread_page(connection, thread.id, limit=limit, after=after) if thread else None
        )
        response = jsonify(
            {
                "post_id": post_id,
                "total": thread.approved_count if thread else 0,
                "comments": serializers.public_comments(page.items) if page else [],
                "next_cursor": encode_cursor(page.next_after) if page else None,
            }
        )
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/comments/<int:comment_id>")
def get_comment(comment_id: int) -> Response:
    session = request_session()
    receipt = request.args.get("moderation_hash")
    held = receipts.signer().held_comment(session, comment_id, receipt) if receipt else None
    if held is not None:
        # Only the author holds the receipt; no shared cache may keep their pending comment.
        response = jsonify(serializers.submitted_comment(held))
        response.headers["Cache-Control"] = "private, no-store"
        return response
    comment = public_comment(session, comment_id)
    return jsonify({**serializers.public_comment(comment), "post_id": comment.thread.post_id})


@bp.get("/comments/count")
def count_comments() -> Response:
    post_ids = list(dict.fromkeys(request.args.getlist("post_id")))
    if not post_ids:
        raise ProblemError(400, "invalid_query", [FieldError("post_id", "required")])
    if len(post_ids) > MAX_COUNT_POSTS:
        raise ProblemError(
            400,
            "invalid_query",
            [FieldError("post_id", "too_long", {"max_items": MAX_COUNT_POSTS})],
        )
    return jsonify({"counts": approved_counts(request_connection(), post_ids)})
