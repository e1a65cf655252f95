"""KOMMENTERA_PUBLIC_URL, when set, is Kommentera's own origin and the base of its absolute
links: a forged Host header can then neither open a redirect nor move a link."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import db
from service.app import create_app
from service.config import Settings
from service.errors import ConfigError
from tests.builders import settings_for

PUBLIC_URL = "https://kommentarer.exempel.se"
FORGED_HOST = "http://attacker.example"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return settings_for(database_url, public_url=PUBLIC_URL)


@pytest.fixture
def unset_app(database_url: str) -> Iterator[Flask]:
    app = create_app(settings_for(database_url))
    yield app
    db.database(app).engine.dispose()


def _form(**overrides: str) -> dict[str, str]:
    return {
        "comment_post_ID": "vinter",
        "author": "Åsa",
        "email": "asa@exempel.se",
        "comment": "Hej!",
        **overrides,
    }


def test_a_forged_host_is_no_allowed_redirect_target_when_the_public_url_is_set(
    client: FlaskClient,
) -> None:
    response = client.post(
        "/comments/form",
        data=_form(redirect_to=f"{FORGED_HOST}/phish"),
        headers={"Referer": f"{FORGED_HOST}/phish"},
        base_url=FORGED_HOST,
    )

    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{PUBLIC_URL}/comments/thanks"
    )


def test_the_public_urls_own_origin_is_an_allowed_redirect_target(client: FlaskClient) -> None:
    response = client.post(
        "/comments/form", data=_form(redirect_to=f"{PUBLIC_URL}/demo/"), base_url=FORGED_HOST
    )

    assert response.headers["Location"].startswith(f"{PUBLIC_URL}/demo/?unapproved=")


def test_the_demo_page_returns_commenters_to_the_public_url_whatever_the_host(
    client: FlaskClient,
) -> None:
    page = client.get("/demo/", base_url=FORGED_HOST).get_data(as_text=True)

    assert f'value="{PUBLIC_URL}/demo/"' in page
    assert "attacker.example" not in page


def test_without_a_public_url_the_request_host_is_the_own_origin(unset_app: Flask) -> None:
    response = unset_app.test_client().post(
        "/comments/form", data=_form(), base_url="http://kommentarer.local"
    )

    assert response.headers["Location"].startswith("http://kommentarer.local/comments/thanks?")


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("https://kommentarer.exempel.se/", "https://kommentarer.exempel.se"),
        ("https://exempel.se/kommentarer/", "https://exempel.se/kommentarer"),
    ],
)
def test_the_public_url_is_kept_without_its_trailing_slash(raw: str, stored: str) -> None:
    assert Settings.from_env({"KOMMENTERA_PUBLIC_URL": raw}).public_url == stored


@pytest.mark.parametrize(
    "raw", ["kommentarer.exempel.se", "ftp://exempel.se", "https://a@exempel.se", "https://x/?a=1"]
)
def test_a_public_url_that_is_not_a_plain_http_url_stops_the_service(raw: str) -> None:
    with pytest.raises(ConfigError, match="KOMMENTERA_PUBLIC_URL"):
        Settings.from_env({"KOMMENTERA_PUBLIC_URL": raw})
