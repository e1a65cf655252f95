"""The classic HTML comment form: WordPress's own form posts here (no JavaScript), the
same domain function as the JSON API stores the comment, and the browser is sent back with
303 See Other, or shown an accessible error page that keeps everything typed."""

from __future__ import annotations

from typing import Any

import flask_babel
from flask import Blueprint, Response, g, redirect, render_template, request
from flask_limiter import RateLimitExceeded
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as Redirect

from service import app_state
from service.comments.submission import submit_comment
from service.config import LANGUAGES
from service.db import request_session
from service.errors import FieldError, InvalidFieldsError, KommenteraError
from service.models import CommentStatus
from service.origins import safe_redirect_target, with_comment_anchor, with_receipt
from service.web import limits, metrics, receipts
from service.web.messages import RESENDABLE, field_label, field_message, form_advice, title
from service.web.problems import REJECTIONS, ProblemError, rejection
from service.web.public import client_info
from service.web.urls import external_url, own_origin

bp = Blueprint("form", __name__, template_folder="templates")

# WordPress's field names → the names the domain validates.
FORM_FIELDS = {
    "comment_post_ID": "post_id",
    "author": "name",
    "email": "email",
    "url": "url",
    "comment": "body",
    "comment_parent": "parent_id",
}
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_HTTP_CODES = {
    400: "bad_request",
    413: "too_large",
    415: "unsupported_form_media_type",
    429: "rate_limited",
    500: "internal_error",
}


def allowed_origins() -> list[str]:
    """KOMMENTERA_ALLOWED_ORIGINS plus Kommentera's own origin (the demo page lives there)."""
    own = own_origin()
    return [*app_state.settings().allowed_origins, *([own] if own else [])]


def return_target() -> str | None:
    """Where to send the commenter back: redirect_to, else the Referer, if allowed."""
    origins = allowed_origins()
    form = request.form if request.mimetype in FORM_MEDIA_TYPES else MultiDict()
    return safe_redirect_target(form.get("redirect_to"), origins) or safe_redirect_target(
        request.referrer, origins
    )


def _read_form() -> MultiDict[str, str]:
    if request.mimetype not in FORM_MEDIA_TYPES:
        raise ProblemError(415, "unsupported_form_media_type")
    form = request.form  # raises 413 past MAX_CONTENT_LENGTH
    if form.get("lang") in LANGUAGES:
        g.form_language = form["lang"]
        flask_babel.refresh()
    return form


def _domain_fields(form: MultiDict[str, str]) -> dict[str, Any]:
    # Unmapped fields pass through too: the honeypot field is one of them.
    raw = {**form.to_dict(), **{field: form.get(name) for name, field in FORM_FIELDS.items()}}
    if raw["parent_id"] == "0":  # WordPress sends 0 for "not a reply"
        raw["parent_id"] = None
    return raw


@bp.app_context_processor
def _page_language() -> dict[str, str]:
    return {"page_language": str(flask_babel.get_locale() or "en")}


@bp.post("/wp-comments-post.php")
@bp.post("/comments/form")  # innermost, so url_for("form.submit") names this one
def submit() -> Redirect:
    signer = receipts.signer()
    signer.load()  # before the request takes SQLite's write lock (the key may need a write)
    form = _read_form()
    session = request_session()
    comment = submit_comment(session, _domain_fields(form), client_info(), app_state.rules())
    session.commit()
    metrics.record_verdict(comment.status)
    target = return_target() or external_url("form.thanks")
    if comment.status is CommentStatus.APPROVED:
        location = with_comment_anchor(target, comment.id)
    else:
        location = with_receipt(target, comment.id, signer.sign(comment))
    return redirect(location, 303)


@bp.get("/comments/thanks")
def thanks() -> str:
    """Where a commenter lands when their blog's address is not an allowed origin."""
    return render_template("thanks.html", held="unapproved" in request.args)


def _error_page(
    status: int,
    code: str,
    errors: list[FieldError],
    keep_input: bool,
    headers: dict[str, str] | None = None,
) -> Response:
    """What happened (the title), what to do (the advice) and, when sending again can work,
    the form re-filled with everything typed."""
    headers = headers or {}
    typed = {}
    if keep_input and code in RESENDABLE and request.mimetype in FORM_MEDIA_TYPES:
        typed = {name: request.form.get(name, "") for name in (*FORM_FIELDS, "redirect_to")}
    wait = headers.get("Retry-After")
    body = render_template(
        "form_error.html",
        title=title(code),
        already_received=code == "duplicate",
        advice=form_advice(code, int(wait) if wait else None),
        errors=[(field_label(e.field), field_message(e.code, e.params)) for e in errors],
        typed=typed,
        # After a 413 or 415 the form cannot be read again; only the Referer is left.
        back=return_target()
        if keep_input
        else safe_redirect_target(request.referrer, allowed_origins()),
    )
    return Response(body, status=status, mimetype="text/html", headers=headers)


@bp.errorhandler(InvalidFieldsError)
def _invalid(error: InvalidFieldsError) -> Response:
    return _error_page(422, "invalid_fields", error.errors, keep_input=True)


def _rejected(error: KommenteraError) -> Response:
    status, code, headers = rejection(error)
    return _error_page(status, code, [], keep_input=True, headers=headers)


for _rejection in REJECTIONS:
    bp.register_error_handler(_rejection, _rejected)


@bp.errorhandler(ProblemError)
def _problem(error: ProblemError) -> Response:
    return _error_page(error.status, error.code, error.errors, keep_input=False)


# RateLimitExceeded is named too: Flask prefers the app's handler for its status code (429)
# over this blueprint's generic one, and a form deserves a page, not JSON.
@bp.errorhandler(RateLimitExceeded)
@bp.errorhandler(HTTPException)
def _http(error: HTTPException) -> Response:
    status = error.code or 400
    # A body past the size limit cannot be read back, so there is nothing to re-fill.
    return _error_page(
        status,
        _HTTP_CODES.get(status, "bad_request"),
        [],
        keep_input=status != 413,
        headers=limits.retry_after() if isinstance(error, RateLimitExceeded) else None,
    )
