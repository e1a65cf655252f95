"""Delivers one event as a signed JSON POST. The signature header is
`Kommentera-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` so a receiver
can check both who sent it and that it is fresh (docs/notifications.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

SIGNATURE_HEADER = "Kommentera-Signature"


class DeliveryError(Exception):
    """The receiver did not accept the event; the message says why (no payload data)."""


class ReceiverUnreachableError(DeliveryError):
    """No answer at all: refused, reset or timed out (as opposed to an answer that is not 2xx)."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET elsewhere; report it as a failure instead.
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post_event(url: str, secret: str, payload: dict[str, Any], timeout: float) -> None:
    """POST the payload; raise DeliveryError unless the receiver answers 2xx."""
    body = encode(payload)
    request = urllib.request.Request(  # noqa: S310 - the URL is validated as http(s) in config
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Kommentera-Webhook/1",
            "Kommentera-Event": str(payload.get("type", "")),
            "Kommentera-Delivery": str(payload.get("id", "")),
            SIGNATURE_HEADER: sign(secret, body, int(time.time())),
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"receiver answered {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise ReceiverUnreachableError(f"receiver unreachable: {type(error).__name__}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"receiver answered {status}")
