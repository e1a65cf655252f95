"""Response headers that hold for every response of a kind, set in one place so a page or
route added later gets them too: a strict Content-Security-Policy on every HTML page, no
referrer and no caching wherever the URL carries a moderation receipt, nosniff everywhere,
and CORS for the JSON API with Vary: Origin."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

from service.config import Settings

CORS_RESOURCES = "/api/v1/"
# Headers a cross-origin script may read from JSON API responses.
CORS_EXPOSED_HEADERS = ("Location", "ETag", "Retry-After", "X-Request-ID")
# The receipt a held comment's author gets: in the form redirect (WordPress's name) and in
# the JSON API. Whoever holds it sees the pending comment, with its author's name.
RECEIPT_PARAMS = ("moderation-hash", "moderation_hash")


def content_security_policy(settings: Settings) -> str:
    """The pages run no script and load only their own stylesheet. Forms post to
    Kommentera, which then redirects to an allowed blog origin; Chromium checks
    form-action on that redirect too, so the allowed origins are listed."""
    frame_ancestors = settings.frame_ancestors or ("'self'", *settings.allowed_origins)
    return "; ".join(
        (
            "default-src 'none'",
            "style-src 'self'",
            "base-uri 'none'",
            "form-action " + " ".join(("'self'", *settings.allowed_origins)),
            "frame-ancestors " + " ".join(frame_ancestors),
        )
    )


def init_app(app: Flask, settings: Settings) -> None:
    policy = content_security_policy(settings)
    cors = bool(settings.allowed_origins)  # no origins configured: no cross-origin access
    if cors:
        CORS(
            app,
            resources={f"{CORS_RESOURCES}*": {"origins": list(settings.allowed_origins)}},
            expose_headers=list(CORS_EXPOSED_HEADERS),
            max_age=600,
            # Answer only requests that name an allowed Origin, not every request.
            always_send=False,
        )

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        if response.mimetype == "text/html":
            headers["Content-Security-Policy"] = policy
        if any(name in request.args for name in RECEIPT_PARAMS):
            headers["Referrer-Policy"] = "no-referrer"
            headers["Cache-Control"] = "private, no-store"
        # The CORS headers depend on the Origin sent (flask-cors adds Vary only when
        # several origins are configured): a shared cache must not mix the answers.
        if cors and request.path.startswith(CORS_RESOURCES):
            response.vary.add("Origin")
        return response
