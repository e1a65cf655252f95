"""The queue's author_history is read from the authors table, which every change to an
author's comments recounts: after a mix of submissions (held, approved by the rules, spam by
the rules), moderators' status changes, bulk changes and permanent deletes it still equals a
count of the comments themselves, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import db
from service.comments.review import update_comment
from service.config import Settings
from service.models import Author, Comment, CommentStatus
from tests.builders import (
    approve_in_racing_transactions,
    settings_for,
    submit,
    submit_approved,
)

QUEUE = "/api/v1/moderation/comments"
BLOCKED = "spammare@exempel.se"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return settings_for(database_url, blocked_emails=(BLOCKED,), auto_approve_known_authors=True)


def _recount(session: Session) -> dict[str, dict[str, int]]:
    """Every stored e-mail's approved and spam comments, counted from the comments."""
    session.rollback()  # end the read snapshot so the app's commits are visible
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"approved": 0, "spam": 0})
    rows = session.execute(
        select(Comment.email, Comment.status, func.count()).group_by(Comment.email, Comment.status)
    )
    for email, status, count in rows:
        if status in (CommentStatus.APPROVED, CommentStatus.SPAM):
            counts[email][status.value] = count
        else:
            counts[email]  # an author with only held or trashed comments counts zero
    return dict(counts)


def _queue_histories(client: FlaskClient, headers: dict[str, str]) -> dict[str, dict[str, int]]:
    """author_history of every item in every status's queue, by e-mail."""
    histories = {}
    for status in CommentStatus:
        page = client.get(QUEUE, query_string={"status": status, "limit": 200}, headers=headers)
        for item in page.get_json()["comments"]:
            histories[item["email"]] = item["author_history"]
    return histories


def _patch(client: FlaskClient, headers: dict[str, str], comment_id: int, status: str) -> None:
    response = client.patch(f"{QUEUE}/{comment_id}", json={"status": status}, headers=headers)
    assert response.status_code == 200, response.get_json()


def _bulk(client: FlaskClient, headers: dict[str, str], ids: list[int], status: str) -> None:
    response = client.post(f"{QUEUE}/bulk", json={"ids": ids, "status": status}, headers=headers)
    assert response.status_code == 200, response.get_json()


def _delete(client: FlaskClient, headers: dict[str, str], comment_id: int) -> None:
    assert client.delete(f"{QUEUE}/{comment_id}", headers=headers).status_code == 204


def test_author_history_equals_a_recount_after_every_kind_of_change(
    client: FlaskClient, admin_headers: dict[str, str], session: Session
) -> None:
    headers = admin_headers  # an admin may also delete
    asa = "asa.oberg@exempel.se"
    submit_approved(client, headers, email=asa, body="Först")
    known = submit(client, email=asa, body="Igen")  # approved by the known_author rule
    assert known["status"] == "approved"
    submit(client, email=asa.upper(), body="Versaler")  # another e-mail, as stored
    blocked = [submit(client, email=BLOCKED, body=f"Köp {n}")["id"] for n in range(2)]
    bo = [submit(client, email="bo@exempel.se", name="Bo", body=f"Bo {n}")["id"] for n in range(4)]
    cecilia = [
        submit(client, email="cecilia@exempel.se", name="Cecilia", body=f"C {n}")["id"]
        for n in range(3)
    ]
    dora = submit_approved(client, headers, email="dora@exempel.se", name="Dora", body="Hej")

    _patch(client, headers, bo[0], "spam")
    _patch(client, headers, bo[1], "approved")
    _patch(client, headers, bo[1], "trash")
    _patch(client, headers, bo[0], "pending")
    _bulk(client, headers, [*cecilia, bo[2]], "approved")
    _bulk(client, headers, [cecilia[0], blocked[0], bo[3]], "spam")
    _bulk(client, headers, [cecilia[1]], "trash")
    # Learned from the moderator's spam verdict on bo's comment: stored as spam.
    submit(client, email="bo@exempel.se", name="Bo", body="Bo igen")
    _delete(client, headers, known["id"])
    _delete(client, headers, blocked[1])
    _delete(client, headers, dora)

    expected = _recount(session)
    assert expected["bo@exempel.se"] == {"approved": 1, "spam": 2}
    assert expected[BLOCKED] == {"approved": 0, "spam": 1}
    assert _queue_histories(client, headers) == expected
    stored = {
        author.email: {"approved": author.approved_count, "spam": author.spam_count}
        for author in session.scalars(select(Author))
    }
    # Dora's only comment is gone: her row stays, at zero; held-only authors have none.
    none = {"approved": 0, "spam": 0}
    assert stored == {email: expected.get(email, none) for email in stored}
    assert stored["dora@exempel.se"] == none
    assert {e for e, counts in expected.items() if any(counts.values())} <= set(stored)


def test_a_held_submission_writes_no_author_row(
    client: FlaskClient, moderator_headers: dict[str, str], session: Session
) -> None:
    comment_id = submit(client, email="ny@exempel.se")["id"]

    single = client.get(f"{QUEUE}/{comment_id}", headers=moderator_headers).get_json()

    assert single["author_history"] == {"approved": 0, "spam": 0}
    assert session.scalars(select(Author)).all() == []


def test_two_moderators_changing_one_authors_comments_at_once_both_count(
    app: Flask, client: FlaskClient, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time; PostgreSQL's READ COMMITTED does not")
    # On different posts: the second transaction must not wait for the thread's row first.
    ids = [submit(client, post_id=f"inlagg-{n}")["id"] for n in range(3)]
    writers = db.database(app).writers
    with writers.begin() as session:  # the author's row exists before the race
        update_comment(session, ids[2], actor="setup", status=CommentStatus.SPAM)

    # The second transaction waits for the author's row.
    approve_in_racing_transactions(app, ids[0], ids[1])

    with db.database(app).sessions() as session:
        author = session.get_one(Author, "asa.oberg@exempel.se")
    assert (author.approved_count, author.spam_count) == (2, 1)
