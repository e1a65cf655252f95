"""POST /comments/form and /wp-comments-post.php: WordPress's classic form, no JavaScript."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service import db
from service.app import create_app
from service.config import Settings
from service.models import Comment, CommentStatus, Thread
from tests.builders import approve, metric_sample, settings_for, submit

BLOG = "https://blogg.exempel.se"
POST_URL = f"{BLOG}/2016/12/haninge-och-kalix/"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return settings_for(database_url, allowed_origins=(BLOG,))


def wordpress_form(**overrides: Any) -> dict[str, str]:
    form = {
        "comment_post_ID": "haninge-och-kalix",
        "author": "Åsa Öberg",
        "email": "asa.oberg@exempel.se",
        "url": "",
        "comment": "Så <strong>bra</strong> skrivet, tack!",
        "comment_parent": "0",
        "redirect_to": POST_URL,
        "submit": "Publicera kommentar",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def _comments(session: Session) -> list[Comment]:
    return list(session.scalars(select(Comment).order_by(Comment.id)))


@pytest.mark.parametrize("path", ["/comments/form", "/wp-comments-post.php"])
def test_a_valid_form_post_stores_the_comment_and_redirects_with_a_receipt(
    client: FlaskClient, session: Session, path: str
) -> None:
    response = client.post(path, data=wordpress_form(url="https://asa.exempel.se"))

    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == POST_URL
    query = parse_qs(location.query)
    (comment,) = _comments(session)
    assert query["unapproved"] == [str(comment.id)]
    assert len(query["moderation-hash"][0]) == 64
    assert comment.status is CommentStatus.PENDING
    assert (comment.name, comment.email, comment.url) == (
        "Åsa Öberg",
        "asa.oberg@exempel.se",
        "https://asa.exempel.se",
    )
    assert comment.body_html == "<p>Så <strong>bra</strong> skrivet, tack!</p>"
    assert comment.thread.post_id == "haninge-och-kalix"


def test_the_receipt_shows_the_held_comment_to_its_author_only(
    client: FlaskClient, session: Session
) -> None:
    location = client.post("/comments/form", data=wordpress_form()).headers["Location"]
    query = parse_qs(urlsplit(location).query)
    comment_id, receipt = query["unapproved"][0], query["moderation-hash"][0]

    mine = client.get(f"/api/v1/comments/{comment_id}?moderation_hash={receipt}")
    wrong = client.get(f"/api/v1/comments/{comment_id}?moderation_hash={'0' * 64}")
    non_ascii = client.get(f"/api/v1/comments/{comment_id}?moderation_hash=åäö")
    missing = client.get(f"/api/v1/comments/{comment_id}")

    assert mine.status_code == 200
    body = mine.get_json()
    assert (body["id"], body["status"], body["name"]) == (int(comment_id), "pending", "Åsa Öberg")
    assert "email" not in body
    assert "ip" not in body
    assert mine.headers["Cache-Control"] == "private, no-store"
    for refused in (wrong, non_ascii, missing):
        assert refused.status_code == 404
        assert refused.mimetype == "application/problem+json"
    assert _comments(session)[0].status is CommentStatus.PENDING


def test_a_receipt_does_not_open_another_comment(client: FlaskClient) -> None:
    first = parse_qs(
        urlsplit(client.post("/comments/form", data=wordpress_form()).headers["Location"]).query
    )
    other = submit(client)["id"]

    response = client.get(f"/api/v1/comments/{other}?moderation_hash={first['moderation-hash'][0]}")

    assert response.status_code == 404


def test_an_approved_comment_is_public_whatever_the_receipt(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    comment_id = submit(client)["id"]
    approve(client, moderator_headers, comment_id)

    response = client.get(f"/api/v1/comments/{comment_id}?moderation_hash=nonsense")

    assert response.status_code == 200
    assert "status" not in response.get_json()


def test_the_referer_is_used_when_redirect_to_is_missing(client: FlaskClient) -> None:
    response = client.post(
        "/comments/form", data=wordpress_form(redirect_to=None), headers={"Referer": POST_URL}
    )

    assert response.status_code == 303
    assert response.headers["Location"].startswith(POST_URL + "?unapproved=")


@pytest.mark.parametrize(
    "redirect_to",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "https://blogg.exempel.se@evil.example/",
        "https%3A%2F%2Fevil.example",
        "https:&#47;&#47;evil.example",
    ],
)
def test_a_foreign_redirect_target_is_never_followed(
    client: FlaskClient, session: Session, redirect_to: str
) -> None:
    response = client.post(
        "/comments/form",
        data=wordpress_form(redirect_to=redirect_to),
        headers={"Referer": "https://evil.example/"},
    )

    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "http",
        "localhost",
        "/comments/thanks",
    )
    assert len(_comments(session)) == 1


def test_the_thanks_page_says_the_comment_awaits_moderation(client: FlaskClient) -> None:
    location = client.post("/comments/form", data=wordpress_form(redirect_to="")).headers[
        "Location"
    ]

    page = client.get(location, headers={"Accept-Language": "sv"})

    assert page.status_code == 200
    assert "Din kommentar väntar på granskning." in page.get_data(as_text=True)


def test_invalid_fields_give_a_localized_422_page_that_keeps_what_was_typed(
    client: FlaskClient, session: Session
) -> None:
    typed = "Jag håller med, <em>särskilt</em> om Kalix & Haninge."
    response = client.post(
        "/wp-comments-post.php",
        data=wordpress_form(email="", url="ftp://x", comment=typed),
        headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"},
    )

    assert response.status_code == 422
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert 'role="alert"' in page
    assert "E-post: Fältet måste fyllas i." in page
    assert "Webbplats: Ange en webbadress som börjar med http:// eller https://." in page
    assert (
        "Jag håller med, &lt;em&gt;särskilt&lt;/em&gt; om Kalix &amp; Haninge.</textarea>" in page
    )
    assert 'value="Åsa Öberg"' in page
    assert f'<input type="hidden" name="redirect_to" value="{POST_URL}">' in page
    assert f'<a href="{POST_URL}">Tillbaka till inlägget</a>' in page
    assert _comments(session) == []


def test_the_lang_field_overrides_accept_language(client: FlaskClient) -> None:
    response = client.post(
        "/comments/form",
        data=wordpress_form(author="", lang="en"),
        headers={"Accept-Language": "sv"},
    )

    assert response.status_code == 422
    assert "Name: This field is required." in response.get_data(as_text=True)


def test_a_reply_names_its_parent_with_comment_parent(
    client: FlaskClient, session: Session, moderator_headers: dict[str, str]
) -> None:
    parent_id = submit(client)["id"]
    approve(client, moderator_headers, parent_id)

    response = client.post("/comments/form", data=wordpress_form(comment_parent=str(parent_id)))
    missing = client.post("/comments/form", data=wordpress_form(comment_parent="999"))

    assert response.status_code == 303
    assert _comments(session)[-1].parent_id == parent_id
    assert missing.status_code == 422
    assert session.scalar(select(func.count()).select_from(Comment)) == 2


def test_a_json_body_is_refused_with_a_415_page(client: FlaskClient, session: Session) -> None:
    response = client.post("/comments/form", json={"author": "Åsa"})

    assert response.status_code == 415
    assert response.mimetype == "text/html"
    assert "application/x-www-form-urlencoded" in response.get_data(as_text=True)
    assert _comments(session) == []


def test_a_body_over_the_limit_is_refused_with_a_413_page(
    client: FlaskClient, session: Session
) -> None:
    response = client.post(
        "/comments/form",
        data=wordpress_form(comment="å" * 600_000),
        headers={"Accept-Language": "sv", "Referer": POST_URL},
    )

    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Förfrågan är för stor." in page
    assert f'<a href="{POST_URL}">' in page
    assert _comments(session) == []


def test_the_json_api_keeps_problem_json_errors(client: FlaskClient) -> None:
    response = client.post("/api/v1/comments", data="x", content_type="text/plain")

    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"


def test_a_filled_honeypot_on_the_form_is_spam_that_looks_held_even_through_its_receipt(
    app_with_rules: Callable[..., FlaskClient], session: Session
) -> None:
    client = app_with_rules(honeypot_field="hemsida2")

    human = client.post("/comments/form", data=wordpress_form(hemsida2=""))
    bot = client.post(
        "/comments/form", data=wordpress_form(hemsida2="http://spam.example", email="b@x.se")
    )

    human_comment, bot_comment = _comments(session)
    assert (human_comment.status, bot_comment.status) == (CommentStatus.PENDING, CommentStatus.SPAM)
    assert human.status_code == bot.status_code == 303
    receipt = parse_qs(urlsplit(bot.headers["Location"]).query)
    shown = client.get(
        f"/api/v1/comments/{bot_comment.id}",
        query_string={"moderation_hash": receipt["moderation-hash"][0]},
    )
    assert shown.status_code == 200
    assert shown.get_json()["status"] == "pending"
    # Operators still see the real verdicts, and form posts count like JSON ones.
    metrics = client.get("/metrics").get_data(as_text=True)
    assert metric_sample(metrics, "kommentera_submissions_total", verdict="spam") == 1
    assert metric_sample(metrics, "kommentera_submissions_total", verdict="pending") == 1


def test_the_form_applies_the_configured_rules_like_the_json_api(
    app_with_rules: Callable[..., FlaskClient], session: Session
) -> None:
    client = app_with_rules(flood_seconds=60)

    first = client.post("/comments/form", data=wordpress_form())
    second = client.post("/comments/form", data=wordpress_form(comment="En till kommentar"))

    assert first.status_code == 303
    assert second.status_code == 429
    assert second.headers["Retry-After"]
    assert "En till kommentar" in second.get_data(as_text=True)  # nothing typed is lost
    assert len(_comments(session)) == 1


def test_a_rate_limited_form_post_gets_a_429_page_with_retry_after_and_the_text_kept(
    app_with_rules: Callable[..., FlaskClient], session: Session
) -> None:
    client = app_with_rules(rate_limit="1/minute")

    first = client.post("/comments/form", data=wordpress_form())
    second = client.post("/comments/form", data=wordpress_form(comment="Andra försöket"))

    assert first.status_code == 303
    assert second.status_code == 429
    assert second.mimetype == "text/html"
    assert int(second.headers["Retry-After"]) >= 1
    assert "Andra försöket" in second.get_data(as_text=True)
    assert len(_comments(session)) == 1


@pytest.fixture
def app_with_rules(database_url: str) -> Iterator[Callable[..., FlaskClient]]:
    apps: list[Flask] = []

    def make(**rules: Any) -> FlaskClient:
        apps.append(create_app(settings_for(database_url, allowed_origins=(BLOG,), **rules)))
        return apps[-1].test_client()

    yield make
    for app in apps:
        db.database(app).engine.dispose()


@pytest.mark.parametrize(
    ("language", "received", "no_need"),
    [
        ("en", "Your comment was already received", "there is no need to send it again"),
        ("sv", "Din kommentar har redan tagits emot", "du behöver inte skicka den igen"),
    ],
)
def test_a_duplicate_form_post_says_it_was_received_and_not_to_send_it_again(
    client: FlaskClient, session: Session, language: str, received: str, no_need: str
) -> None:
    client.post("/comments/form", data=wordpress_form(lang=language))

    again = client.post("/comments/form", data=wordpress_form(lang=language))

    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert received in page
    assert no_need in page
    assert "send it again." not in page
    assert "skicka det igen" not in page
    assert "<textarea" not in page  # no form inviting a second failure
    assert f'href="{POST_URL}"' in page
    assert len(_comments(session)) == 1


@pytest.mark.parametrize(
    ("language", "advice"),
    [
        ("en", "wait {} seconds, then send the form below again."),
        ("sv", "vänta {} sekunder och skicka sedan formuläret nedan igen."),
    ],
)
def test_a_flooded_form_post_gives_the_wait_time_from_retry_after(
    app_with_rules: Callable[..., FlaskClient], language: str, advice: str
) -> None:
    client = app_with_rules(flood_seconds=60)
    client.post("/comments/form", data=wordpress_form(lang=language))

    second = client.post("/comments/form", data=wordpress_form(comment="Till", lang=language))

    assert second.status_code == 429
    wait = int(second.headers["Retry-After"])
    assert 1 < wait <= 60
    assert advice.format(wait) in second.get_data(as_text=True)


def test_a_closed_post_says_sending_again_will_not_help(
    app_with_rules: Callable[..., FlaskClient], session: Session
) -> None:
    client = app_with_rules()
    client.post("/comments/form", data=wordpress_form())
    session.execute(update(Thread).values(closed=True))
    session.commit()

    closed = client.post("/comments/form", data=wordpress_form(comment="Sent"))

    assert closed.status_code == 403
    page = closed.get_data(as_text=True)
    assert "so sending it again will not help" in page
    assert "<textarea" not in page
