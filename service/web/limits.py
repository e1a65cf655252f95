"""Per-IP request limits on every write endpoint (Flask-Limiter), with counters in memory
or in Redis so several instances share one budget; a breach answers problem+json 429.
When Redis is unreachable the limits fail open: logged once per outage, each request
counted in kommentera_rate_limit_storage_errors_total."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, has_request_context, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from service.app_state import Slot
from service.config import Settings
from service.web import metrics
from service.web.problems import problem

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A Redis that accepts connections and never answers must not hold requests: redis-py waits
# forever by default.
REDIS_TIMEOUT_SECONDS = 1


class StorageOutage:
    """Whether this app's rate-limit storage is failing: set by the first failure, cleared by
    the next write request that passes the limiter, so each outage is logged once."""

    def __init__(self) -> None:
        self.down = False


_OUTAGE: Slot[StorageOutage] = Slot("kommentera.rate_limit_outage")
_LIMITER: Slot[Limiter] = Slot("kommentera.limiter")


def _count_storage_error(record: logging.LogRecord) -> bool:
    """A filter on Flask-Limiter's logger, which logs a traceback for every request it lets
    through while its storage is down: count each, warn once per outage, drop the record."""
    error = record.exc_info[1] if record.exc_info else None
    if error is None or isinstance(error, RateLimitExceeded) or not has_request_context():
        return True
    g.rate_limit_storage_failed = True
    metrics.record_rate_limit_storage_error()
    outage = _OUTAGE.get()
    if not outage.down:
        outage.down = True
        log.warning(
            "rate-limit storage unreachable (%s): limits are off until it answers",
            type(error).__name__,
        )
    return False


def _note_recovery(response: Response) -> Response:
    """After each request: a write that the limiter checked without error ends an outage."""
    outage = _OUTAGE.get()
    if outage.down and not _reads_are_free() and "rate_limit_storage_failed" not in g:
        outage.down = False
        log.warning("rate-limit storage answers again: limits are back on")
    return response


def _storage_options(storage_uri: str) -> dict[str, str | int]:
    if storage_uri.startswith("redis"):  # redis://, rediss://, redis+unix://
        return {
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
        }
    return {}


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
        storage_options=_storage_options(settings.rate_limit_storage),
        key_prefix="kommentera",
        headers_enabled=False,
        # A Redis outage must not take comments down: the limiter then lets requests
        # through, while the database's flood rule still holds.
        swallow_errors=True,
        strategy="moving-window",
    )
    limiter.init_app(app)
    _OUTAGE.put(app, StorageOutage())
    if _count_storage_error not in limiter.logger.filters:  # one logger for every app
        limiter.logger.addFilter(_count_storage_error)
    app.after_request(_note_recovery)
    _LIMITER.put(app, limiter)

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(_error: RateLimitExceeded) -> Response:
        return problem(429, "rate_limited", headers=retry_after())


def retry_after() -> dict[str, str]:
    """The Retry-After header for the limit this request just broke (JSON or HTML page)."""
    current = _LIMITER.get().current_limit
    wait = max(1, int(current.reset_at - time.time())) if current else 1
    return {"Retry-After": str(wait)}
