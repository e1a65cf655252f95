"""Origins and redirect targets: which URLs a form submission may send the browser back to,
and how the comment's anchor or moderation receipt is added to them. Pure functions, so
every open-redirect trick is a one-line table-driven test."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_TARGET_CHARS = 2000
_DEFAULT_PORTS = {"http": 80, "https": 443}
# An ASCII host name (punycode for IDNs) — no percent escapes, no userinfo, no IPv6 brackets.
_HOST = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)
RECEIPT_PARAMS = ("unapproved", "moderation-hash")


def _has_forbidden_char(value: str) -> bool:
    """Whitespace, controls and backslashes: browsers strip or reinterpret them, so a URL
    containing one may resolve somewhere other than where urlsplit says it does."""
    return any(
        char == "\\" or char.isspace() or unicodedata.category(char)[0] in ("C", "Z")
        for char in value
    )


def _origin_key(value: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, or None if it is anything odd."""
    if not value or len(value) > MAX_TARGET_CHARS or _has_forbidden_char(value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not value[len(scheme) + 1 :].startswith("//"):
        return None
    netloc = parts.netloc.lower()
    host = netloc.rsplit(":", 1)[0] if port is not None else netloc
    if not _HOST.fullmatch(host):
        return None  # rejects "@", "%", "[", empty hosts and non-ASCII look-alikes
    if port is None and netloc.endswith(":"):
        return None
    return scheme, host, port or _DEFAULT_PORTS[scheme]


def parse_origin(value: str) -> str | None:
    """Normalize "https://Blogg.Exempel.se:443" to "https://blogg.exempel.se"; None if the
    value is not a bare origin (a path, query or fragment is refused too)."""
    key = _origin_key(value)
    parts = urlsplit(value) if key else None
    if key is None or parts is None or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return _format_origin(key)


def origin_of(url: str) -> str | None:
    """The normalized origin of an absolute http(s) URL that may have a path, or None."""
    key = _origin_key(url)
    return _format_origin(key) if key else None


def _format_origin(key: tuple[str, str, int]) -> str:
    scheme, host, port = key
    return f"{scheme}://{host}" if _DEFAULT_PORTS[scheme] == port else f"{scheme}://{host}:{port}"


def safe_redirect_target(candidate: str | None, allowed_origins: Iterable[str]) -> str | None:
    """The candidate if it is an absolute http(s) URL on an allowed origin, else None.

    Relative URLs are refused on purpose: a path like "/" would resolve against Kommentera
    rather than the blog, and "//evil" or "/\\evil" are how open redirects usually start.
    """
    if candidate is None:
        return None
    key = _origin_key(candidate)
    if key is None or _format_origin(key) not in set(allowed_origins):
        return None
    return candidate


def _merge(url: str, params: dict[str, str], fragment: str | None) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query = [(k, v) for k, v in query if k not in RECEIPT_PARAMS]
    query.extend(params.items())
    return urlunsplit(
        (
            parts.scheme,
            parts.netloc,
            parts.path or "/",
            urlencode(query),
            parts.fragment if fragment is None else fragment,
        )
    )


def with_comment_anchor(url: str, comment_id: int) -> str:
    """Where a published comment sends its author: the page, scrolled to the comment."""
    return _merge(url, {}, f"comment-{comment_id}")


def with_receipt(url: str, comment_id: int, moderation_hash: str) -> str:
    """Where a held comment sends its author: the page plus WordPress's receipt parameters,
    which let that page show the author their own comment "awaiting moderation"."""
    return _merge(url, {"unapproved": str(comment_id), "moderation-hash": moderation_hash}, None)
