"""Request ids and the request log: each request gets an id (a well-formed incoming
X-Request-ID is kept), returned in X-Request-ID and written in one JSON log line with
method, route, status and duration. The client appears only as an anonymised network."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from service.logs import anonymize_ip

log = logging.getLogger("kommentera.request")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def route() -> str:
    """The matched URL rule, not the raw path, so routes stay a short fixed list."""
    return request.url_rule.rule if request.url_rule is not None else "<unmatched>"


def _start() -> None:
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    log.info(
        "request",
        extra={
            "request_id": g.get("request_id", ""),
            "method": request.method,
            "route": route(),
            "status": response.status_code,
            "duration_ms": duration_ms,
            "client_network": anonymize_ip(request.remote_addr),
        },
    )
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
