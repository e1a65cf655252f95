"""Redirect targets after a form post: only allowed origins, never an open redirect."""

from __future__ import annotations

import pytest

from service.origins import (
    parse_origin,
    safe_redirect_target,
    with_comment_anchor,
    with_receipt,
)

ALLOWED = ["https://blogg.exempel.se", "http://127.0.0.1:8000"]


@pytest.mark.parametrize(
    "target",
    [
        "https://blogg.exempel.se/2016/12/haninge-och-kalix/",
        "https://blogg.exempel.se",
        "https://BLOGG.exempel.se/sida?p=1#svar",
        "https://blogg.exempel.se:443/inlagg/",
        "https://blogg.exempel.se/%C3%A5r/",
        "http://127.0.0.1:8000/demo/",
    ],
)
def test_a_url_on_an_allowed_origin_is_a_redirect_target(target: str) -> None:
    assert safe_redirect_target(target, ALLOWED) == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "https://blogg.exempel.se.evil.example/",
        "https://evilblogg.exempel.se/",
        "http://blogg.exempel.se/",  # wrong scheme
        "https://blogg.exempel.se:8443/",  # wrong port
        "http://127.0.0.1:8001/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/demo/",  # relative: would resolve against Kommentera, not the blog
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.domain)//https://blogg.exempel.se/",
        "data:text/html,<script>alert(1)</script>",
        "https:evil.example",
        "https:/evil.example",
        "https:\\\\evil.example",
        "https://blogg.exempel.se@evil.example/",
        "https://user:pass@blogg.exempel.se/",
        "https://evil.example#@blogg.exempel.se/",
        "https://evil.example?@blogg.exempel.se/",
        "https://evil.example\\@blogg.exempel.se/",
        "https://blogg.exempel.se%2F@evil.example/",
        "https://blogg%2eexempel%2ese/",
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fevil.example",
        "https:&#47;&#47;evil.example",
        "&#x2F;&#x2F;evil.example",
        "https://blogg.exempel.se\t.evil.example/",
        " https://blogg.exempel.se/",
        "https://blogg.exempel.se/\nLocation: https://evil.example/",
        "https://blogg.exempel.se/\r\n",
        "https://blogg.exempel.se/\x00",
        "https://blogg.exempel.se/\u200b",
        "https://blogg.exempel.se\u3002evil.example/",  # ideographic full stop
        "https://bløgg.exempel.se/",
        "https://[::1]/",
        "https://blogg.exempel.se:/",
        "https://blogg.exempel.se:99999/",
        "ftp://blogg.exempel.se/",
        "",
        None,
        "https://blogg.exempel.se/" + "a" * 3000,
    ],
)
def test_anything_else_is_refused_as_a_redirect_target(target: str | None) -> None:
    assert safe_redirect_target(target, ALLOWED) is None


def test_nothing_is_a_redirect_target_when_no_origin_is_allowed() -> None:
    assert safe_redirect_target("https://blogg.exempel.se/", []) is None


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        ("https://blogg.exempel.se", "https://blogg.exempel.se"),
        ("https://Blogg.Exempel.SE/", "https://blogg.exempel.se"),
        ("HTTPS://blogg.exempel.se:443", "https://blogg.exempel.se"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("https://blogg.exempel.se/inlagg", None),
        ("https://blogg.exempel.se?x=1", None),
        ("blogg.exempel.se", None),
        ("*", None),
        ("https://*.exempel.se", None),
    ],
)
def test_origins_are_normalized_or_refused(raw: str, origin: str | None) -> None:
    assert parse_origin(raw) == origin


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://b.se/inlagg/", "https://b.se/inlagg/?unapproved=7&moderation-hash=abc"),
        ("https://b.se", "https://b.se/?unapproved=7&moderation-hash=abc"),
        ("https://b.se/?p=12", "https://b.se/?p=12&unapproved=7&moderation-hash=abc"),
        (
            "https://b.se/?p=12#respond",
            "https://b.se/?p=12&unapproved=7&moderation-hash=abc#respond",
        ),
        (
            "https://b.se/?unapproved=3&moderation-hash=old&s=%C3%A5",
            "https://b.se/?s=%C3%A5&unapproved=7&moderation-hash=abc",
        ),
    ],
)
def test_a_held_comment_adds_its_receipt_to_the_query_string(url: str, expected: str) -> None:
    assert with_receipt(url, 7, "abc") == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://b.se/inlagg/", "https://b.se/inlagg/#comment-7"),
        ("https://b.se/?p=12#respond", "https://b.se/?p=12#comment-7"),
        ("https://b.se/?p=1&unapproved=3&moderation-hash=x", "https://b.se/?p=1#comment-7"),
    ],
)
def test_a_published_comment_replaces_the_fragment_with_its_anchor(url: str, expected: str) -> None:
    assert with_comment_anchor(url, 7) == expected
