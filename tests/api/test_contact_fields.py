"""E-mail and website as commenters really type them: an address whose local part is over
RFC 5321's 64 octets is refused, and a website typed without a scheme is stored with
http:// as WordPress does, while anything that is not an http(s) address stays refused."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.models import Comment
from tests.builders import comment_payload, submit

FORM = {
    "comment_post_ID": "haninge-och-kalix",
    "author": "Åsa Öberg",
    "email": "asa.oberg@exempel.se",
    "comment": "Tack för ett bra inlägg!",
}


def _errors(response) -> dict[str, str]:
    return {error["field"]: error["code"] for error in response.get_json()["errors"]}


@pytest.mark.parametrize(
    "email",
    [
        "a" * 65 + "@exempel.se",
        "å" * 33 + "@exempel.se",  # 33 characters, 66 octets in UTF-8
        "Å" * 40 + "@exempel.se",
    ],
)
def test_a_local_part_over_64_octets_is_an_invalid_email(client: FlaskClient, email: str) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(email=email))

    assert response.status_code == 422
    assert _errors(response) == {"email": "invalid_email"}


def test_a_local_part_of_exactly_64_octets_is_accepted(
    client: FlaskClient, session: Session
) -> None:
    email = "a" * 62 + "å@exempel.se"  # "å" is two octets
    assert len(email.split("@")[0].encode()) == 64

    comment_id = submit(client, email=email)["id"]

    assert session.get(Comment, comment_id).email == email


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("exempel.se", "http://exempel.se"),
        ("www.exempel.se/sida", "http://www.exempel.se/sida"),
        (
            "blogg.exempel.se/2016/12/ny-post/?a=1#svar",
            "http://blogg.exempel.se/2016/12/ny-post/?a=1#svar",
        ),
        ("räksmörgås.se", "http://räksmörgås.se"),
        ("https://exempel.se/sida", "https://exempel.se/sida"),
        ("HTTP://Exempel.se", "HTTP://Exempel.se"),
    ],
)
def test_a_website_without_a_scheme_is_stored_with_http(
    client: FlaskClient, session: Session, typed: str, stored: str
) -> None:
    comment_id = submit(client, url=typed)["id"]

    assert session.get(Comment, comment_id).url == stored


def test_a_website_typed_into_the_html_form_without_a_scheme_is_accepted(
    client: FlaskClient, session: Session
) -> None:
    response = client.post("/comments/form", data={**FORM, "url": "www.exempel.se/sida"})

    assert response.status_code == 303
    stored = session.query(Comment).one()
    assert stored.url == "http://www.exempel.se/sida"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "javascript&colon;alert(1)",
        "javascript&#58;alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "exempel.se:8080/sida",
        "//exempel.se",
        "/sida",
        "?a=1",
        "#svar",
        "nej",
        "exempel .se",
        "<exempel.se>",
        "a@exempel.se",
    ],
)
def test_what_is_not_a_web_address_stays_refused(client: FlaskClient, url: str) -> None:
    response = client.post("/api/v1/comments", json=comment_payload(url=url))

    assert response.status_code == 422
    assert _errors(response) == {"url": "invalid_url"}


def test_the_added_scheme_counts_towards_the_length_limit(client: FlaskClient) -> None:
    typed = "exempel.se/" + "a" * 186  # 197 bytes typed, 204 once http:// is added
    response = client.post("/api/v1/comments", json=comment_payload(url=typed))

    assert response.status_code == 422
    assert _errors(response) == {"url": "too_long"}
