"""The moderation rules through the API, on SQLite and PostgreSQL: status codes, stored
statuses and reasons, thread closing, rate limits and the queue's reasons and history."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service import db
from service.app import create_app
from service.comments.sanitize import sanitize_body
from service.config import Settings
from service.models import Comment, CommentStatus, ModerationEvent, Thread, utcnow
from tests.builders import approve, comment_payload, submit, submit_approved

Configure = Callable[..., FlaskClient]


@pytest.fixture
def configure(database_url: str) -> Iterator[Configure]:
    """A client whose app runs with the given rule settings (flood and limits off unless
    the test names them)."""
    apps = []

    def build(**overrides: Any) -> FlaskClient:
        values = {"database_url": database_url, "flood_seconds": 0, "rate_limit": "0"}
        app = create_app(Settings(**{**values, **overrides}))
        apps.append(app)
        return app.test_client()

    yield build
    for app in apps:
        db.database(app).engine.dispose()


def _stored(session: Session) -> list[Comment]:
    session.rollback()  # end the read snapshot so the app's commits are visible
    return list(session.scalars(select(Comment).order_by(Comment.id)))


def _rules(comment: Comment) -> list[str]:
    return [reason["rule"] for reason in comment.reasons]


def _post(client: FlaskClient, ip: str = "127.0.0.1", **overrides: Any) -> Any:
    return client.post(
        "/api/v1/comments",
        json=comment_payload(**overrides),
        environ_base={"REMOTE_ADDR": ip},
    )


def _close(client: FlaskClient, headers: dict[str, str], closed: bool, post_id: str) -> Any:
    return client.patch(
        "/api/v1/moderation/threads", json={"post_id": post_id, "closed": closed}, headers=headers
    )


def test_a_moderator_closes_and_reopens_a_thread(
    client: FlaskClient, session: Session, moderator_headers: dict[str, str]
) -> None:
    response = _close(client, moderator_headers, True, "haninge-och-kalix")
    assert response.status_code == 200
    assert response.get_json() == {
        "post_id": "haninge-och-kalix",
        "closed": True,
        "closes_at": None,
    }

    rejected = client.post("/api/v1/comments", json=comment_payload())
    assert rejected.status_code == 403
    assert rejected.get_json()["code"] == "comments_closed"
    assert _stored(session) == []

    assert _close(client, moderator_headers, False, "haninge-och-kalix").status_code == 200
    assert client.post("/api/v1/comments", json=comment_payload()).status_code == 202
    assert len(_stored(session)) == 1
    assert session.scalars(select(Thread.closed)).one() is False


def test_closing_a_thread_needs_a_token_and_a_boolean(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    anonymous = client.patch("/api/v1/moderation/threads", json={"post_id": "p", "closed": True})
    assert anonymous.status_code == 401
    bad = client.patch(
        "/api/v1/moderation/threads", json={"closed": "yes"}, headers=moderator_headers
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"post_id", "closed"}


def test_threads_close_by_age_only_when_configured(
    configure: Configure, session: Session, moderator_headers: dict[str, str]
) -> None:
    submit(configure())
    session.execute(update(Thread).values(created_at=utcnow() - timedelta(days=400)))
    session.commit()

    assert _post(configure(), body="Default: never closes").status_code == 202
    response = _post(configure(close_after_days=30), body="Closed by age")
    assert response.status_code == 403
    assert response.get_json()["code"] == "comments_closed"
    assert len(_stored(session)) == 2
    state = _close(configure(close_after_days=30), moderator_headers, False, "haninge-och-kalix")
    assert state.get_json()["closed"] is True  # reopening does not undo closing by age
    assert state.get_json()["closes_at"] is not None


def test_a_duplicate_is_409_even_with_markup_tricks_but_not_after_trash(
    client: FlaskClient, session: Session, moderator_headers: dict[str, str]
) -> None:
    first = submit(client, body="Bra skrivet!")

    again = client.post("/api/v1/comments", json=comment_payload(body="Bra <span>skrivet!</span>"))
    assert again.status_code == 409
    assert again.get_json()["code"] == "duplicate"
    assert len(_stored(session)) == 1
    other_post = client.post(
        "/api/v1/comments", json=comment_payload(post_id="annan", body="Bra skrivet!")
    )
    assert other_post.status_code == 202

    client.patch(
        f"/api/v1/moderation/comments/{first['id']}",
        json={"status": "trash"},
        headers=moderator_headers,
    )
    assert (
        client.post("/api/v1/comments", json=comment_payload(body="Bra skrivet!")).status_code
        == 202
    )


def test_flood_by_ip_or_email_is_429_with_retry_after_by_default(
    configure: Configure, session: Session
) -> None:
    client = configure(flood_seconds=Settings().flood_seconds)
    assert _post(client, body="Första").status_code == 202

    same_ip = _post(client, email="annan@exempel.se", body="Andra")
    same_email = _post(client, ip="192.0.2.50", body="Tredje")

    for response in (same_ip, same_email):
        assert response.status_code == 429
        assert response.get_json()["code"] == "flood"
        assert 1 <= int(response.headers["Retry-After"]) <= 15
    assert _post(client, ip="192.0.2.51", email="ny@exempel.se").status_code == 202
    assert len(_stored(session)) == 2


class _CallCounter:
    """Counts calls of one function by watching frames (sys.setprofile): nothing replaced."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.code, self.calls = function.__code__, 0

    def __enter__(self) -> _CallCounter:
        sys.setprofile(self._watch)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)

    def _watch(self, frame: Any, event: str, arg: object) -> None:
        if event == "call" and frame.f_code is self.code:
            self.calls += 1


def test_a_flood_and_an_oversized_body_are_refused_before_the_sanitizer_runs(
    configure: Configure, session: Session
) -> None:
    client = configure(flood_seconds=Settings().flood_seconds)
    with _CallCounter(sanitize_body) as sanitizer:
        assert _post(client, body="Första").status_code == 202
        assert sanitizer.calls == 1
        flood = _post(client, body="<b>x\n\n" * 500)  # main spent seconds on 10 times this
        oversized = _post(client, email="ny@exempel.se", ip="192.0.2.9", body="<b>" * 30_000)
        assert sanitizer.calls == 1
    assert flood.status_code == 429
    assert flood.get_json()["code"] == "flood"
    assert oversized.status_code == 422
    assert oversized.get_json()["errors"][0]["code"] == "too_long"
    assert len(_stored(session)) == 1


def test_the_rate_limit_covers_every_write_endpoint_but_not_reads(
    configure: Configure, moderator_headers: dict[str, str]
) -> None:
    client = configure(rate_limit="2/minute")
    assert _post(client, body="Ett").status_code == 202
    assert (
        client.patch(
            "/api/v1/moderation/threads",
            json={"post_id": "p", "closed": False},
            headers=moderator_headers,
        ).status_code
        == 200
    )

    for response in (
        _post(client, body="Tre"),
        client.patch(
            "/api/v1/moderation/comments/1", json={"status": "approved"}, headers=moderator_headers
        ),
    ):
        assert response.status_code == 429
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == "rate_limited"
        assert int(response.headers["Retry-After"]) >= 1
    assert client.get("/api/v1/comments?post_id=p").status_code == 200
    assert _post(client, ip="192.0.2.60", body="Annan IP").status_code == 202


def test_the_default_rate_limit_allows_twenty_writes_a_minute(
    configure: Configure, session: Session
) -> None:
    client = configure(rate_limit=Settings().rate_limit)

    statuses = [_post(client, body=f"Kommentar {n}").status_code for n in range(21)]

    assert statuses == [202] * 20 + [429]
    assert len(_stored(session)) == 20


@pytest.mark.usefixtures("database_url")
def test_two_instances_share_one_rate_limit_budget_in_redis(configure: Configure) -> None:
    storage = "redis://127.0.0.1:6379/0"
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    one = configure(rate_limit="2/minute", rate_limit_storage=storage)
    two = configure(rate_limit="2/minute", rate_limit_storage=storage)

    assert _post(one, ip=ip, body="Ett").status_code == 202
    assert _post(two, ip=ip, body="Två").status_code == 202
    assert _post(one, ip=ip, body="Tre").status_code == 429
    assert _post(two, ip=ip, body="Fyra").status_code == 429


def test_client_ips_come_from_the_socket_unless_proxies_are_trusted(
    configure: Configure, session: Session
) -> None:
    headers = {"X-Forwarded-For": "198.51.100.7"}
    configure().post("/api/v1/comments", json=comment_payload(body="a"), headers=headers)
    configure(trusted_proxies=1).post(
        "/api/v1/comments", json=comment_payload(body="b"), headers=headers
    )

    assert [c.ip for c in _stored(session)] == ["127.0.0.1", "198.51.100.7"]


def test_a_filled_honeypot_is_stored_as_spam_but_answers_like_pending(
    configure: Configure, session: Session
) -> None:
    client = configure(honeypot_field="website")
    normal = _post(client, body="Mänsklig", website="")
    caught = _post(client, body="Robot", website="http://spam.example")

    assert caught.status_code == normal.status_code == 202
    body = caught.get_json()
    assert body.keys() == normal.get_json().keys()
    assert body["status"] == "pending"
    assert caught.headers["Location"] == f"/api/v1/comments/{body['id']}"
    assert set(caught.headers.keys()) == set(normal.headers.keys())
    human, robot = _stored(session)
    assert (human.status, robot.status) == (CommentStatus.PENDING, CommentStatus.SPAM)
    assert _rules(robot) == ["honeypot"]
    assert _post(configure(), body="Unset: ignored", website="x").status_code == 202
    assert _stored(session)[-1].status is CommentStatus.PENDING


def test_disallowed_words_mean_spam_or_trash_wherever_they_appear(
    configure: Configure, session: Session
) -> None:
    spam = configure(disallowed_words=("casino", "192.0.2.66"))
    _post(spam, body="Bästa CASINOT")
    _post(spam, ip="192.0.2.66", body="Från fel IP")
    spam.post(
        "/api/v1/comments", json=comment_payload(body="UA"), headers={"User-Agent": "casino-bot"}
    )
    _post(configure(disallowed_words=("casino",), disallowed_action="trash"), body="casino igen")

    stored = _stored(session)
    assert [c.status for c in stored] == [CommentStatus.SPAM] * 3 + [CommentStatus.TRASH]
    assert [c.reasons[0]["detail"] for c in stored[:3]] == [
        "'casino' in body",
        "'192.0.2.66' in ip",
        "'casino' in user_agent",
    ]


def test_moderation_words_hold_with_the_word_and_field_as_reason(
    configure: Configure, session: Session
) -> None:
    response = _post(configure(moderation_words=("pengar",)), name="Pengar-Pelle")

    assert response.status_code == 202
    (comment,) = _stored(session)
    assert comment.status is CommentStatus.PENDING
    assert comment.reasons == [{"rule": "moderation_words", "detail": "'pengar' in name"}]
    event = session.scalars(select(ModerationEvent)).one()
    assert event.detail == {"reasons": comment.reasons}


def test_two_links_hold_by_default_counting_bare_urls(
    configure: Configure, session: Session
) -> None:
    _post(configure(), body="Se https://a.example och www.b.example")
    _post(configure(), body="Bara https://a.example")
    _post(configure(max_links=0), body="Av: https://a.example https://b.example")

    assert [_rules(c) for c in _stored(session)] == [["links"], ["review"], ["review"]]
    assert _stored(session)[0].reasons[0]["detail"] == "2 links (limit 2)"


def test_blocked_emails_and_ips_are_spam(configure: Configure, session: Session) -> None:
    client = configure(blocked_emails=("@spam.example",), blocked_ips=("203.0.113.0/24",))
    assert _post(client, email="x@spam.example").status_code == 202
    assert _post(client, ip="203.0.113.44", body="b").status_code == 202
    _post(client, ip="192.0.2.1", email="ok@exempel.se", body="c")

    assert [c.status for c in _stored(session)] == [
        CommentStatus.SPAM,
        CommentStatus.SPAM,
        CommentStatus.PENDING,
    ]
    assert [_rules(c) for c in _stored(session)[:2]] == [["blocked_email"], ["blocked_ip"]]


def test_replies_deeper_than_five_levels_are_rejected_by_default(
    client: FlaskClient, session: Session, moderator_headers: dict[str, str]
) -> None:
    parent = None
    for level in range(5):
        parent = submit_approved(client, moderator_headers, parent_id=parent, body=f"Nivå {level}")

    response = client.post("/api/v1/comments", json=comment_payload(parent_id=parent, body="6"))

    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "parent_id"
    assert response.get_json()["errors"][0]["code"] == "too_deep"
    assert len(_stored(session)) == 5


@pytest.mark.parametrize(
    ("language", "limit_sentence"),
    [
        ("en", "Replies can be nested at most 1 level deep."),
        ("sv", "Svar kan läggas högst 1 nivå djupt."),
    ],
)
def test_the_depth_message_counts_reply_levels_not_levels_with_the_top_comment(
    configure: Configure, moderator_headers: dict[str, str], language: str, limit_sentence: str
) -> None:
    client = configure(max_depth=2)  # a top-level comment and one level of replies
    top = submit_approved(client, moderator_headers, body="Överst")
    reply = submit_approved(client, moderator_headers, parent_id=top, body="Svar")

    response = client.post(
        "/api/v1/comments",
        json=comment_payload(parent_id=reply, body="Svar på svar"),
        headers={"Accept-Language": language},
    )

    assert response.status_code == 422
    message = response.get_json()["errors"][0]["message"]
    assert message.endswith(limit_sentence)
    assert "2" not in message


def test_with_max_depth_one_the_message_says_replies_are_not_accepted(
    configure: Configure, moderator_headers: dict[str, str]
) -> None:
    client = configure(max_depth=1)
    top = submit_approved(client, moderator_headers, body="Överst")

    response = client.post("/api/v1/comments", json=comment_payload(parent_id=top, body="Svar"))

    assert response.status_code == 422
    assert response.get_json()["errors"][0]["message"].endswith("Replies are not accepted here.")


def test_known_authors_are_approved_at_once_only_when_switched_on(
    configure: Configure, session: Session, moderator_headers: dict[str, str]
) -> None:
    first = submit(configure())
    approve(configure(), moderator_headers, first["id"])

    assert _post(configure(), body="Default: reviewed").status_code == 202
    response = _post(configure(auto_approve_known_authors=True), body="Välkommen tillbaka")
    assert response.status_code == 201
    assert response.get_json()["status"] == "approved"
    held = _post(
        configure(auto_approve_known_authors=True, moderation_words=("pengar",)), body="pengar"
    )
    assert held.status_code == 202
    assert session.scalars(select(Thread.approved_count)).one() == 2
    assert _rules(_stored(session)[2]) == ["known_author"]


def test_a_moderators_spam_verdict_teaches_and_approval_clears(
    client: FlaskClient, session: Session, moderator_headers: dict[str, str]
) -> None:
    first = submit(client, body="Köp nu")
    client.patch(
        f"/api/v1/moderation/comments/{first['id']}",
        json={"status": "spam"},
        headers=moderator_headers,
    )

    assert _post(client, ip="192.0.2.9", body="Igen").get_json()["status"] == "pending"
    learned = _stored(session)[-1]
    assert learned.status is CommentStatus.SPAM
    assert learned.reasons == [
        {"rule": "learned_spam", "detail": "e-mail marked spam by a moderator"}
    ]

    approve(client, moderator_headers, learned.id)
    _post(client, ip="192.0.2.10", body="Tredje")
    assert _stored(session)[-1].status is CommentStatus.PENDING


def test_the_queue_shows_reasons_and_author_history(
    configure: Configure, session: Session, moderator_headers: dict[str, str]
) -> None:
    client = configure(moderation_words=("pengar",))
    submit_approved(client, moderator_headers, body="Ett")
    spam = submit(client, body="Två")
    client.patch(
        f"/api/v1/moderation/comments/{spam['id']}",
        json={"status": "spam"},
        headers=moderator_headers,
    )
    _post(client, ip="192.0.2.5", email="ny@exempel.se", body="pengar här")

    response = client.get("/api/v1/moderation/comments", headers=moderator_headers)

    (item,) = response.get_json()["comments"]
    assert item["reasons"] == [{"rule": "moderation_words", "detail": "'pengar' in body"}]
    assert item["author_history"] == {"approved": 0, "spam": 0}
    single = client.get(f"/api/v1/moderation/comments/{spam['id']}", headers=moderator_headers)
    assert single.get_json()["author_history"] == {"approved": 1, "spam": 1}
    assert single.get_json()["status"] == "spam"


def test_a_closed_thread_wins_over_a_duplicate(
    client: FlaskClient, session: Session, moderator_headers: dict[str, str]
) -> None:
    submit(client)
    _close(client, moderator_headers, True, "haninge-och-kalix")

    response = client.post("/api/v1/comments", json=comment_payload())

    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(Comment)) == 1
