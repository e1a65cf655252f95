"""Per-IP request limits on every write endpoint (Flask-Limiter), with counters in memory
or in Redis so several instances share one budget; a breach answers problem+json 429."""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from service.config import Settings
from service.web.problems import problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _reads_are_free() -> bool:
    return request.method in SAFE_METHODS


def init_app(app: Flask, settings: Settings) -> None:
    if settings.rate_limit == "0":
        return
    limiter = Limiter(
        # request.remote_addr: the socket peer, or the client ProxyFix found behind
        # KOMMENTERA_TRUSTED_PROXIES hops.
        key_func=get_remote_address,
        # Application limits are one budget across all endpoints, not one per route.
        application_limits=[settings.rate_limit],
        application_limits_exempt_when=_reads_are_free,
        storage_uri=settings.rate_limit_storage,
        key_prefix="kommentera",
        headers_enabled=False,
        # A Redis outage must not take comments down: the limiter then lets requests
        # through (and logs), while the database's flood rule still holds.
        swallow_errors=True,
        strategy="moving-window",
    )
    limiter.init_app(app)
    app.extensions["kommentera.limiter"] = limiter

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(_error: RateLimitExceeded) -> Response:
        return problem(429, "rate_limited", headers=retry_after())


def retry_after() -> dict[str, str]:
    """The Retry-After header for the limit this request just broke (JSON or HTML page)."""
    limiter: Limiter = current_app.extensions["kommentera.limiter"]
    current = limiter.current_limit
    wait = max(1, int(current.reset_at - time.time())) if current else 1
    return {"Retry-After": str(wait)}
