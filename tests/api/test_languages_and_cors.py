"""Languages (Accept-Language, ?lang=, the default) for API problems, and CORS for the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import db
from service.app import create_app
from service.config import Settings
from service.errors import ConfigError
from tests.builders import settings_for

BLOG = "https://blogg.exempel.se"
ClientFactory = Callable[..., FlaskClient]


@pytest.fixture
def client_with(database_url: str) -> Iterator[ClientFactory]:
    """A test client for an app built with extra settings (its engine disposed after)."""
    apps: list[Flask] = []

    def make(**settings: Any) -> FlaskClient:
        apps.append(create_app(settings_for(database_url, **settings)))
        return apps[-1].test_client()

    yield make
    for app in apps:
        db.database(app).engine.dispose()


def _invalid_comment(client: FlaskClient, **kwargs) -> dict:
    response = client.post("/api/v1/comments", json={"post_id": "p"}, **kwargs)
    assert response.status_code == 422
    return response.get_json()


def test_problem_details_come_in_swedish_when_the_browser_asks_for_it(client: FlaskClient) -> None:
    problem = _invalid_comment(client, headers={"Accept-Language": "sv-SE,sv;q=0.9"})

    assert problem["title"] == "Några fält är inte korrekt ifyllda."
    messages = {error["field"]: error["message"] for error in problem["errors"]}
    assert messages["email"] == "Fältet måste fyllas i."


def test_problem_details_are_english_by_default(client: FlaskClient) -> None:
    problem = _invalid_comment(client)

    assert problem["title"] == "Some fields are not valid."


def test_the_lang_query_parameter_overrides_accept_language(client: FlaskClient) -> None:
    response = client.get("/api/v1/comments?lang=sv", headers={"Accept-Language": "en"})

    assert response.status_code == 400
    assert response.get_json()["errors"][0]["message"] == "Fältet måste fyllas i."


def test_limits_are_explained_in_swedish(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/comments",
        json={"post_id": "p", "name": "Å" * 200, "email": "a@exempel.se", "body": "Hej"},
        headers={"Accept-Language": "sv"},
    )

    (error,) = response.get_json()["errors"]
    assert error["message"] == (
        "Texten i fältet är för lång. Högst 245 byte (bokstäver som å, ä och ö räknas som två)."
    )


def test_the_default_language_applies_when_the_browser_names_none_we_have(
    client_with: ClientFactory,
) -> None:
    client = client_with(default_language="sv")

    unnamed = _invalid_comment(client)
    german = _invalid_comment(client, headers={"Accept-Language": "de-DE"})
    english = _invalid_comment(client, headers={"Accept-Language": "en"})

    assert unnamed["title"] == german["title"] == "Några fält är inte korrekt ifyllda."
    assert english["title"] == "Some fields are not valid."


def test_the_demo_page_is_in_swedish_for_a_swedish_browser(client: FlaskClient) -> None:
    page = client.get("/demo/", headers={"Accept-Language": "sv"}).get_data(as_text=True)

    assert '<html lang="sv">' in page
    assert "E-postadressen publiceras inte." in page
    assert "Obligatoriska fält är märkta *" in page
    assert '<label for="author">Namn <span aria-hidden="true">*</span></label>' in page
    assert "Följande HTML-taggar och attribut är tillåtna:" in page
    assert "&lt;strong&gt;" in page
    assert "<h1>Haninge och Kalix</h1>" in page


def test_language_settings_are_validated() -> None:
    assert Settings.from_env({"KOMMENTERA_DEFAULT_LANGUAGE": "sv"}).default_language == "sv"
    with pytest.raises(ConfigError, match="KOMMENTERA_DEFAULT_LANGUAGE"):
        Settings.from_env({"KOMMENTERA_DEFAULT_LANGUAGE": "de"})


def test_allowed_origins_are_parsed_strictly() -> None:
    settings = Settings.from_env(
        {"KOMMENTERA_ALLOWED_ORIGINS": " https://Blogg.Exempel.se , http://localhost:8000,"}
    )
    assert settings.allowed_origins == ("https://blogg.exempel.se", "http://localhost:8000")
    for bad in ("*", "https://blogg.exempel.se/path", "blogg.exempel.se", "javascript:x"):
        with pytest.raises(ConfigError, match="KOMMENTERA_ALLOWED_ORIGINS"):
            Settings.from_env({"KOMMENTERA_ALLOWED_ORIGINS": bad})


def _preflight(client: FlaskClient, origin: str):
    return client.options(
        "/api/v1/comments",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )


def test_cors_preflight_is_answered_for_an_allowed_origin(client_with: ClientFactory) -> None:
    client = client_with(allowed_origins=(BLOG,))

    response = _preflight(client, BLOG)

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == BLOG
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


def test_cors_refuses_other_origins_and_exposes_our_headers(client_with: ClientFactory) -> None:
    client = client_with(allowed_origins=(BLOG,))

    refused = _preflight(client, "https://evil.example")
    created = client.post(
        "/api/v1/comments",
        json={"post_id": "p", "name": "Åsa", "email": "a@exempel.se", "body": "Hej"},
        headers={"Origin": BLOG},
    )

    assert "Access-Control-Allow-Origin" not in refused.headers
    assert created.status_code == 202
    assert created.headers["Access-Control-Allow-Origin"] == BLOG
    exposed = {
        h.strip().lower() for h in created.headers["Access-Control-Expose-Headers"].split(",")
    }
    assert exposed == {"location", "etag", "retry-after", "x-request-id"}


def test_cors_is_off_for_the_form_and_when_no_origin_is_configured(
    client: FlaskClient, client_with: ClientFactory
) -> None:
    configured = client_with(allowed_origins=(BLOG,))

    assert "Access-Control-Allow-Origin" not in _preflight(client, BLOG).headers
    form_preflight = configured.options(
        "/comments/form", headers={"Origin": BLOG, "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in form_preflight.headers
