"""Public reads: approved comments only, keyset pages, ETag/304, single comments, counts."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.db import database
from tests.builders import approve, approve_in_racing_transactions, submit, submit_approved


def test_only_approved_comments_are_listed_oldest_first(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    first = submit_approved(client, moderator_headers, body="första")
    submit(client, body="väntar")
    second = submit_approved(client, moderator_headers, body="andra")

    response = client.get("/api/v1/comments", query_string={"post_id": "haninge-och-kalix"})

    assert response.status_code == 200
    page = response.get_json()
    assert page["post_id"] == "haninge-och-kalix"
    assert page["total"] == 2
    assert [c["id"] for c in page["comments"]] == [first, second]
    assert page["next_cursor"] is None
    assert set(page["comments"][0]) == {"id", "parent_id", "name", "url", "body", "created_at"}
    assert datetime.fromisoformat(page["comments"][0]["created_at"]).utcoffset() is not None


def test_an_unknown_post_has_an_empty_list(client: FlaskClient) -> None:
    response = client.get("/api/v1/comments?post_id=finns-inte")

    assert response.status_code == 200
    assert response.get_json() == {
        "post_id": "finns-inte",
        "total": 0,
        "comments": [],
        "next_cursor": None,
    }


def test_pages_follow_the_cursor_without_gaps_or_repeats(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    ids = [submit_approved(client, moderator_headers, body=f"nr {n}") for n in range(7)]

    seen, cursor = [], None
    while True:
        query = {"post_id": "haninge-och-kalix", "limit": 3}
        if cursor:
            query["cursor"] = cursor
        page = client.get("/api/v1/comments", query_string=query).get_json()
        seen += [c["id"] for c in page["comments"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ids


def test_bad_query_parameters_get_400_problems(client: FlaskClient) -> None:
    for query, field in [
        ("", "post_id"),
        ("post_id=p&limit=0", "limit"),
        ("post_id=p&limit=201", "limit"),
        ("post_id=p&limit=tio", "limit"),
        ("post_id=p&cursor=!!!", "cursor"),
        ("post_id=p&cursor=aWQ6eA", "cursor"),  # "id:x"
        ("post_id=" + "x" * 201, "post_id"),
    ]:
        response = client.get(f"/api/v1/comments?{query}")
        assert response.status_code == 400, query
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["errors"][0]["field"] == field


def test_an_unchanged_thread_answers_304_and_a_change_invalidates_the_etag(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    submit_approved(client, moderator_headers)
    first = client.get("/api/v1/comments?post_id=haninge-och-kalix")
    etag = first.headers["ETag"]

    unchanged = client.get(
        "/api/v1/comments?post_id=haninge-och-kalix", headers={"If-None-Match": etag}
    )
    assert unchanged.status_code == 304
    assert unchanged.data == b""

    pending_id = submit(client, body="ny")["id"]
    still_unchanged = client.get(
        "/api/v1/comments?post_id=haninge-och-kalix", headers={"If-None-Match": etag}
    )
    assert still_unchanged.status_code == 304  # a pending comment changes nothing public

    approve(client, moderator_headers, pending_id)
    changed = client.get(
        "/api/v1/comments?post_id=haninge-och-kalix", headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.get_json()["total"] == 2


def test_one_approved_comment_can_be_read_and_others_are_404(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    approved_id = submit_approved(client, moderator_headers)
    pending_id = submit(client, body="inte godkänd")["id"]

    ok = client.get(f"/api/v1/comments/{approved_id}")
    assert ok.status_code == 200
    assert ok.get_json()["post_id"] == "haninge-och-kalix"
    assert "email" not in ok.get_json()
    for missing in (pending_id, 999_999):
        response = client.get(f"/api/v1/comments/{missing}")
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


def test_a_listed_comment_reads_as_the_comment_itself(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    parent = submit_approved(client, moderator_headers)
    reply = submit_approved(
        client, moderator_headers, parent_id=parent, url="https://exempel.se/", body="<b>ja</b>"
    )

    listed = client.get("/api/v1/comments?post_id=haninge-och-kalix").get_json()["comments"]

    for comment_id, entry in zip([parent, reply], listed, strict=True):
        alone = client.get(f"/api/v1/comments/{comment_id}").get_json()
        assert {**entry, "post_id": "haninge-och-kalix"} == alone
    assert listed[1]["parent_id"] == parent
    assert listed[1]["url"] == "https://exempel.se/"


def test_public_reads_give_their_connection_back(
    app: Flask, client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    submit_approved(client, moderator_headers)
    pool = database(app).engine.pool

    for path in ("/api/v1/comments?post_id=haninge-och-kalix", "/api/v1/comments/count?post_id=a"):
        assert client.get(path).status_code == 200
        assert pool.checkedout() == 0  # type: ignore[attr-defined]


def test_counts_include_only_approved_comments_and_unknown_posts_are_zero(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    submit_approved(client, moderator_headers, post_id="a")
    submit_approved(client, moderator_headers, post_id="a", body="två")
    submit(client, post_id="a", body="väntar")
    spam_id = submit_approved(client, moderator_headers, post_id="b")
    client.patch(
        f"/api/v1/moderation/comments/{spam_id}", json={"status": "spam"}, headers=moderator_headers
    )

    response = client.get("/api/v1/comments/count?post_id=a&post_id=b&post_id=c")

    assert response.get_json() == {"counts": {"a": 2, "b": 0, "c": 0}}


def test_counts_need_at_least_one_and_at_most_100_post_ids(client: FlaskClient) -> None:
    assert client.get("/api/v1/comments/count").status_code == 400
    many = "&".join(f"post_id=p{n}" for n in range(101))
    assert client.get(f"/api/v1/comments/count?{many}").status_code == 400
    hundred = "&".join(f"post_id=p{n}" for n in range(100))
    assert client.get(f"/api/v1/comments/count?{hundred}").status_code == 200


def test_two_moderators_approving_in_one_thread_at_once_both_count(
    app: Flask, client: FlaskClient, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time; PostgreSQL's READ COMMITTED does not")
    ids = [submit(client, post_id="samtidigt", email=f"a{n}@exempel.se")["id"] for n in range(2)]
    # The second transaction waits for the thread's row.
    approve_in_racing_transactions(app, *ids)

    listed = client.get("/api/v1/comments", query_string={"post_id": "samtidigt"}).get_json()
    counts = client.get("/api/v1/comments/count", query_string={"post_id": "samtidigt"})
    assert [c["id"] for c in listed["comments"]] == ids
    assert listed["total"] == counts.get_json()["counts"]["samtidigt"] == 2
