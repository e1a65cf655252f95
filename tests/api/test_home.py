"""The front page: what this is, and links to the demo, the API contract and health."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_the_front_page_says_what_this_is_and_links_to_the_demo_the_api_and_health(
    client: FlaskClient,
) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "comment moderation service" in page
    for target in ("/demo/", "/api/v1/openapi.json", "/healthz"):
        assert f'href="{target}"' in page
        assert client.get(target).status_code == 200
    assert "<script" not in page
    assert " style=" not in page


def test_the_front_page_speaks_swedish_when_asked(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "sv"}).get_data(as_text=True)

    assert '<html lang="sv">' in page
    assert "Demon" in page
