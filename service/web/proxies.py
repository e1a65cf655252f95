"""The client's address behind reverse proxies.

With KOMMENTERA_TRUSTED_PROXIES hops, werkzeug's ProxyFix reads it from X-Forwarded-For,
and only a valid IP address is used: anything else (a header a misconfigured proxy passed
through from the client) falls back to the socket's peer, logged once per worker. With no
trusted proxy, X-Forwarded-For on a request means a proxy Kommentera was not told about,
which makes every commenter one address to the spam rules and rate limits: that is warned
once per worker and counted in a metric."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from service.app_state import Slot
from service.config import Settings
from service.web import metrics

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)


def client_address(value: str | None) -> str | None:
    """The normalized IP address in value (an IPv4-mapped IPv6 address as IPv4, so one
    client is one key for the rules and limits), or None; a scoped IPv6 address is refused
    (its zone names an interface of the proxy, not the client)."""
    try:
        address = ipaddress.ip_address(value or "")
    except ValueError:
        return None
    if address.version == 6:
        if address.scope_id:
            return None
        address = address.ipv4_mapped or address
    return str(address)


class ValidForwardedAddress:
    """WSGI middleware run inside ProxyFix: keeps the forwarded address only if it is an
    IP address (normalized), else restores the peer's."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.warned = False

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        peer = environ["werkzeug.proxy_fix.orig"]
        forwarded = environ.get("REMOTE_ADDR")
        address = client_address(forwarded)
        if address is None:
            address = peer["REMOTE_ADDR"]
            if forwarded != address:
                self._warn_once(len(forwarded or ""))
        environ["REMOTE_ADDR"] = address
        return self.app(environ, start_response)

    def _warn_once(self, length: int) -> None:
        if self.warned:
            return
        self.warned = True
        # Neither the value nor the rest of the header is logged: it is the client's
        # text, and may hold other addresses.
        log.warning(
            "X-Forwarded-For named no valid IP address; the proxy's own address is used "
            "(check that the proxy sets the header; logged once per worker)",
            extra={"forwarded_for_chars": length},
        )


class _UntrustedForwarding:
    warned = False


_UNTRUSTED_FORWARDING: Slot[_UntrustedForwarding] = Slot("kommentera.proxies")


def _notice_untrusted_forwarding() -> None:
    if "X-Forwarded-For" not in request.headers:
        return
    metrics.record_untrusted_forwarded_for()
    state = _UNTRUSTED_FORWARDING.get()
    if not state.warned:
        state.warned = True
        log.warning(
            "requests carry X-Forwarded-For but KOMMENTERA_TRUSTED_PROXIES is 0: every "
            "commenter behind the proxy shares its address for spam rules and rate limits "
            "(logged once per worker; see docs/deploy.md)"
        )


def init_app(app: Flask, settings: Settings) -> None:
    if settings.trusted_proxies:
        # Flask's documented way to add WSGI middleware; mypy sees a method replaced.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            ValidForwardedAddress(app.wsgi_app),
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
        )
    else:
        _UNTRUSTED_FORWARDING.put(app, _UntrustedForwarding())
        app.before_request(_notice_untrusted_forwarding)
