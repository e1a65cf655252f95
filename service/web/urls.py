"""Kommentera's own address: KOMMENTERA_PUBLIC_URL when the operator set it, else the
request's Host header. The redirect allowlist's own origin and every absolute link the
service writes come from here, so a forged Host cannot choose them once the URL is set."""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from service import app_state
from service.origins import origin_of, parse_origin


def _public_url() -> str:
    return app_state.settings().public_url


def own_origin() -> str | None:
    public_url = _public_url()
    return origin_of(public_url) if public_url else parse_origin(request.host_url)


def external_url(endpoint: str, **values: Any) -> str:
    public_url = _public_url()
    if public_url:
        return public_url + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
