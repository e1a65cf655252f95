"""Headers every response of a kind carries: a strict Content-Security-Policy (no inline
script or style) and nosniff on every HTML page, frame-ancestors as configured, no referrer
and no caching wherever the URL carries a moderation receipt, and Vary: Origin on CORS
resources."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import db
from service.app import create_app
from service.config import Settings
from service.errors import ConfigError
from service.web.demo import DEMO_POST_ID
from tests.builders import settings_for

BLOG = "https://blogg.exempel.se"
ClientFactory = Callable[..., FlaskClient]
FORM = {
    "comment_post_ID": DEMO_POST_ID,
    "author": "Åsa Öberg",
    "email": "asa.oberg@exempel.se",
    "comment": "Tack för ett bra inlägg!",
}


@pytest.fixture
def client_with(database_url: str) -> Iterator[ClientFactory]:
    apps: list[Flask] = []

    def make(**settings: Any) -> FlaskClient:
        apps.append(create_app(settings_for(database_url, **settings)))
        return apps[-1].test_client()

    yield make
    for app in apps:
        db.database(app).engine.dispose()


def _policy(response) -> dict[str, str]:
    directives = (d.strip() for d in response.headers["Content-Security-Policy"].split(";"))
    return {name: value for name, _, value in (d.partition(" ") for d in directives if d)}


def _html_pages(client: FlaskClient) -> dict[str, Any]:
    held = client.post("/comments/form", data=FORM)
    assert held.status_code == 303
    receipt = urlsplit(held.headers["Location"])
    return {
        "demo": client.get("/demo/"),
        "demo with receipt": client.get(f"{receipt.path}?{receipt.query}"),
        "thanks": client.get("/comments/thanks?unapproved=1&moderation-hash=x"),
        "form error": client.post("/comments/form", data={**FORM, "email": "inte-en-adress"}),
        "form 415": client.post("/wp-comments-post.php", data="x", content_type="text/plain"),
    }


def test_every_html_page_has_a_strict_policy_and_nosniff(client: FlaskClient) -> None:
    for name, response in _html_pages(client).items():
        assert response.mimetype == "text/html", name
        policy = _policy(response)
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"], name
        assert "unsafe-eval" not in response.headers["Content-Security-Policy"], name
        assert policy["default-src"] == "'none'", name
        assert policy["style-src"] == "'self'", name
        assert policy["frame-ancestors"] == "'self'", name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        page = response.get_data(as_text=True)
        for inline in ("<style", "style=", "<script"):
            assert inline not in page, name


def test_the_stylesheet_the_pages_link_is_served_by_kommentera(client: FlaskClient) -> None:
    page = client.get("/demo/").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/kommentera.css">' in page

    with client.get("/static/kommentera.css") as css:
        assert css.status_code == 200
        assert css.mimetype == "text/css"
        assert css.headers["X-Content-Type-Options"] == "nosniff"
        assert ".comment-list" in css.get_data(as_text=True)


def test_json_answers_are_nosniff_without_a_page_policy(client: FlaskClient) -> None:
    response = client.get("/api/v1/comments", query_string={"post_id": "p"})

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers


def test_pages_carrying_a_moderation_receipt_send_no_referrer_and_are_not_cached(
    client: FlaskClient,
) -> None:
    pages = _html_pages(client)
    for name in ("demo with receipt", "thanks"):
        assert pages[name].headers["Referrer-Policy"] == "no-referrer", name
        assert pages[name].headers["Cache-Control"] == "private, no-store", name
    assert "Referrer-Policy" not in pages["demo"].headers

    api = client.get("/api/v1/comments/1", query_string={"moderation_hash": "x"})
    assert api.headers["Referrer-Policy"] == "no-referrer"
    assert api.headers["Cache-Control"] == "private, no-store"


def test_the_blogs_allowed_origins_may_frame_the_pages_by_default(
    client_with: ClientFactory,
) -> None:
    client = client_with(allowed_origins=(BLOG,))

    policy = _policy(client.get("/demo/"))

    assert policy["frame-ancestors"] == f"'self' {BLOG}"
    # The form redirects back to the blog; Chromium checks form-action on that redirect.
    assert policy["form-action"] == f"'self' {BLOG}"


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("none", "'none'"),
        ("NONE", "'none'"),
        ("https://annan.exempel.se, https://tredje.exempel.se", None),
    ],
)
def test_frame_ancestors_is_configurable(
    client_with: ClientFactory, configured: str, expected: str | None
) -> None:
    settings = Settings.from_env({"KOMMENTERA_FRAME_ANCESTORS": configured})
    client = client_with(allowed_origins=(BLOG,), frame_ancestors=settings.frame_ancestors)

    policy = _policy(client.get("/demo/"))

    assert policy["frame-ancestors"] == (
        expected or "'self' https://annan.exempel.se https://tredje.exempel.se"
    )


def test_a_frame_ancestor_that_is_not_an_origin_stops_the_start() -> None:
    with pytest.raises(ConfigError, match="KOMMENTERA_FRAME_ANCESTORS"):
        Settings.from_env({"KOMMENTERA_FRAME_ANCESTORS": "https://blogg.exempel.se/sida"})


def test_cors_answers_vary_by_origin(client_with: ClientFactory) -> None:
    client = client_with(allowed_origins=(BLOG,))
    query = {"post_id": "p"}

    allowed = client.get("/api/v1/comments", query_string=query, headers={"Origin": BLOG})
    other = client.get(
        "/api/v1/comments", query_string=query, headers={"Origin": "https://evil.example"}
    )
    plain = client.get("/api/v1/comments", query_string=query)

    assert allowed.headers["Access-Control-Allow-Origin"] == BLOG
    for response in (allowed, other, plain):
        assert "Origin" in response.headers.get("Vary", "")
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Origin" not in plain.headers
