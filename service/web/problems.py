"""The one error contract: every error leaves as application/problem+json
(RFC 9457) with status, title, code and a list of field errors."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from service.errors import (
    CommentsClosedError,
    DuplicateCommentError,
    FieldError,
    FloodError,
    InvalidFieldsError,
    KommenteraError,
    NotFoundError,
    VersionConflictError,
)
from service.web.messages import field_message, title

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = 5
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


# Rule verdicts that refuse a submission: the status and code each one answers with.
REJECTIONS: dict[type[KommenteraError], tuple[int, str]] = {
    CommentsClosedError: (403, "comments_closed"),
    DuplicateCommentError: (409, "duplicate"),
    FloodError: (429, "flood"),
}


def rejection(error: KommenteraError) -> tuple[int, str, dict[str, str]]:
    status, code = REJECTIONS[type(error)]
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, FloodError) else {}
    return status, code, headers


class ProblemError(Exception):
    """An HTTP-level problem raised by the web layer (bad JSON, bad query, no token)."""

    def __init__(
        self,
        status: int,
        code: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.errors = errors or []
        self.headers = headers or {}


def problem(
    status: int,
    code: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = {
        "type": "about:blank",
        "title": title(code),
        "status": status,
        "code": code,
        "errors": [
            {"field": e.field, "code": e.code, "message": field_message(e.code, e.params)}
            for e in errors or []
        ],
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MEDIA_TYPE
    response.headers.update(headers or {})
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(ProblemError)
    def _problem(error: ProblemError) -> Response:
        return problem(error.status, error.code, error.errors, error.headers)

    @app.errorhandler(InvalidFieldsError)
    def _invalid(error: InvalidFieldsError) -> Response:
        return problem(422, "invalid_fields", error.errors)

    @app.errorhandler(NotFoundError)
    def _not_found(_error: NotFoundError) -> Response:
        return problem(404, "not_found")

    @app.errorhandler(VersionConflictError)
    def _conflict(error: VersionConflictError) -> Response:
        return problem(412, "version_conflict", current_version=error.current_version)

    for error_class in REJECTIONS:

        @app.errorhandler(error_class)
        def _rejected(error: KommenteraError) -> Response:
            status, code, headers = rejection(error)
            return problem(status, code, headers=headers)

    @app.errorhandler(StaleDataError)
    def _stale(_error: StaleDataError) -> Response:
        # Another moderator's change committed between our read and our write.
        return problem(412, "version_conflict")

    @app.errorhandler(OperationalError)
    def _database_down(error: DBAPIError) -> Response:
        log.error("database unavailable: %s", type(error.orig).__name__)
        return problem(
            503, "service_unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    @app.errorhandler(PoolTimeoutError)
    def _no_free_connection(_error: PoolTimeoutError) -> Response:
        log.error("database busy: no free pooled connection")
        return problem(
            503, "service_unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        response = problem(status, _HTTP_CODES.get(status, "bad_request"))
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return _database_down(error)
        log.exception("unhandled error (request %s)", g.get("request_id", "-"))
        return problem(500, "internal_error")
