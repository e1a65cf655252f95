"""The review API: queue, edits under If-Match, bulk, delete, audit log and tokens."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import db
from service.models import Comment, CommentStatus, EventAction, ModerationEvent, Thread
from service.moderators import create_token, revoke_token
from tests.builders import submit, submit_approved

QUEUE = "/api/v1/moderation/comments"


def test_the_queue_lists_pending_comments_oldest_first_with_private_fields(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    first = submit(client, email="first@exempel.se")["id"]
    second = submit(client, body="andra", post_id="annan")["id"]

    response = client.get(QUEUE, headers=moderator_headers)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    items = response.get_json()["comments"]
    assert [c["id"] for c in items] == [first, second]
    assert items[0]["email"] == "first@exempel.se"
    assert items[0]["ip"] == "127.0.0.1"
    assert items[0]["status"] == "pending"
    assert items[0]["version"] == 1
    assert items[0]["reasons"] == [
        {"rule": "review", "detail": "every comment is reviewed before publishing"}
    ]


def test_the_queue_filters_by_status_and_post_and_pages_by_cursor(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    ids = [submit(client, body=f"nr {n}")["id"] for n in range(3)]
    submit(client, post_id="annan")
    approved = submit_approved(client, moderator_headers, body="ok")

    page = client.get(
        QUEUE, query_string={"post_id": "haninge-och-kalix", "limit": 2}, headers=moderator_headers
    ).get_json()
    rest = client.get(
        QUEUE,
        query_string={"post_id": "haninge-och-kalix", "cursor": page["next_cursor"]},
        headers=moderator_headers,
    ).get_json()
    approved_page = client.get(
        QUEUE, query_string={"status": "approved"}, headers=moderator_headers
    )

    assert [c["id"] for c in page["comments"] + rest["comments"]] == ids
    assert rest["next_cursor"] is None
    assert [c["id"] for c in approved_page.get_json()["comments"]] == [approved]
    bad = client.get(QUEUE, query_string={"status": "deleted"}, headers=moderator_headers)
    assert bad.status_code == 400


def test_a_queue_item_is_exactly_the_single_comment_view(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    # The queue reads plain rows and the single view a loaded Comment: both must give the
    # same fields in the same order, down to the edited body, url, parent and history.
    parent = submit_approved(client, moderator_headers, email="asa@exempel.se", body="Först")
    reply = submit(
        client,
        email="asa@exempel.se",
        url="https://exempel.se/asa",
        parent_id=parent,
        body="Svar <b>fet</b>",
    )["id"]
    edited = client.patch(
        f"{QUEUE}/{reply}", json={"body": "Svar, *ändrat*"}, headers=moderator_headers
    )
    assert edited.status_code == 200

    (item,) = client.get(QUEUE, headers=moderator_headers).get_json()["comments"]
    single = client.get(f"{QUEUE}/{reply}", headers=moderator_headers).get_json()

    assert list(item.items()) == list(single.items())
    assert item["post_id"] == "haninge-och-kalix"
    assert item["parent_id"] == parent
    assert item["version"] == 2
    assert item["author_history"] == {"approved": 1, "spam": 0}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer kmt_not-a-real-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "kmt_missing-scheme"},
    ],
)
def test_missing_or_unknown_tokens_get_401_with_a_bearer_challenge(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    for method, path in [
        ("GET", QUEUE),
        ("GET", f"{QUEUE}/1"),
        ("PATCH", f"{QUEUE}/1"),
        ("DELETE", f"{QUEUE}/1"),
        ("POST", f"{QUEUE}/bulk"),
        ("GET", "/api/v1/moderation/events"),
    ]:
        response = client.open(path, method=method, headers=headers, json={})
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.mimetype == "application/problem+json"


def test_a_revoked_token_is_refused(app: Flask, client: FlaskClient) -> None:
    with db.database(app).writers.begin() as session:
        token = create_token(session, "tillfällig")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(QUEUE, headers=headers).status_code == 200

    with db.database(app).writers.begin() as session:
        revoke_token(session, "tillfällig")

    assert client.get(QUEUE, headers=headers).status_code == 401


def test_approving_publishes_at_once_and_writes_an_audit_event(
    client: FlaskClient, moderator_headers: dict[str, str], session: Session
) -> None:
    comment_id = submit(client)["id"]

    response = client.patch(
        f"{QUEUE}/{comment_id}", json={"status": "approved"}, headers=moderator_headers
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "approved"
    assert response.headers["ETag"] == '"v2"'
    public = client.get("/api/v1/comments?post_id=haninge-och-kalix").get_json()
    assert [c["id"] for c in public["comments"]] == [comment_id]
    event = session.scalars(
        select(ModerationEvent).where(ModerationEvent.action == EventAction.STATUS_CHANGED)
    ).one()
    assert (event.actor, event.from_status, event.to_status) == (
        "moderator-1",
        CommentStatus.PENDING,
        CommentStatus.APPROVED,
    )


@pytest.mark.parametrize("status", ["spam", "trash", "pending"])
def test_unpublished_statuses_never_appear_publicly_or_count(
    client: FlaskClient, moderator_headers: dict[str, str], status: str
) -> None:
    comment_id = submit_approved(client, moderator_headers)

    client.patch(f"{QUEUE}/{comment_id}", json={"status": status}, headers=moderator_headers)

    public = client.get("/api/v1/comments?post_id=haninge-och-kalix").get_json()
    assert public["comments"] == []
    assert public["total"] == 0
    assert client.get(f"/api/v1/comments/{comment_id}").status_code == 404
    counts = client.get("/api/v1/comments/count?post_id=haninge-och-kalix").get_json()
    assert counts == {"counts": {"haninge-och-kalix": 0}}


def test_editing_the_body_re_sanitizes_it(
    client: FlaskClient, moderator_headers: dict[str, str], session: Session
) -> None:
    comment_id = submit(client)["id"]

    response = client.patch(
        f"{QUEUE}/{comment_id}",
        json={"body": '<em>rättad</em><img src=x onerror="alert(1)">'},
        headers=moderator_headers,
    )

    assert response.status_code == 200
    assert response.get_json()["body"] == "<p><em>rättad</em></p>"
    stored = session.get(Comment, comment_id)
    assert stored.body_html == "<p><em>rättad</em></p>"
    assert stored.status is CommentStatus.PENDING
    events = session.scalars(select(ModerationEvent.action)).all()
    assert EventAction.BODY_EDITED in events


def test_an_edit_to_an_empty_body_is_refused_and_changes_nothing(
    client: FlaskClient, moderator_headers: dict[str, str], session: Session
) -> None:
    comment_id = submit(client)["id"]

    response = client.patch(
        f"{QUEUE}/{comment_id}", json={"body": "<script>x</script>"}, headers=moderator_headers
    )

    assert response.status_code == 422
    assert response.get_json()["errors"][0] == {
        "field": "body",
        "code": "empty",
        "message": response.get_json()["errors"][0]["message"],
    }
    assert session.get(Comment, comment_id).body_html == "<p>Tack för ett bra inlägg!</p>"


def test_a_stale_if_match_gets_412_and_does_not_overwrite(
    client: FlaskClient, moderator_headers: dict[str, str], session: Session
) -> None:
    comment_id = submit(client)["id"]
    etag = client.get(f"{QUEUE}/{comment_id}", headers=moderator_headers).headers["ETag"]
    first = client.patch(
        f"{QUEUE}/{comment_id}",
        json={"status": "approved"},
        headers={**moderator_headers, "If-Match": etag},
    )

    second = client.patch(
        f"{QUEUE}/{comment_id}",
        json={"status": "trash"},
        headers={**moderator_headers, "If-Match": etag},
    )

    assert first.status_code == 200
    assert second.status_code == 412
    assert second.get_json()["current_version"] == 2
    assert session.get(Comment, comment_id).status is CommentStatus.APPROVED


def test_if_match_with_the_current_etag_or_star_succeeds(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    comment_id = submit(client)["id"]

    star = client.patch(
        f"{QUEUE}/{comment_id}",
        json={"status": "spam"},
        headers={**moderator_headers, "If-Match": "*"},
    )
    current = client.patch(
        f"{QUEUE}/{comment_id}",
        json={"status": "trash"},
        headers={**moderator_headers, "If-Match": star.headers["ETag"]},
    )
    garbage = client.patch(
        f"{QUEUE}/{comment_id}",
        json={"status": "pending"},
        headers={**moderator_headers, "If-Match": '"nonsense"'},
    )

    assert (star.status_code, current.status_code, garbage.status_code) == (200, 200, 412)


def test_patch_needs_a_valid_status_or_a_body(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    comment_id = submit(client)["id"]
    for payload, code in [({}, "required"), ({"status": "published"}, "invalid_choice")]:
        response = client.patch(f"{QUEUE}/{comment_id}", json=payload, headers=moderator_headers)
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["code"] == code
    missing = client.patch(f"{QUEUE}/999999", json={"status": "spam"}, headers=moderator_headers)
    assert missing.status_code == 404


def test_bulk_changes_every_found_comment_and_reports_the_missing(
    client: FlaskClient, moderator_headers: dict[str, str], session: Session
) -> None:
    ids = [submit(client, body=f"nr {n}")["id"] for n in range(3)]

    response = client.post(
        f"{QUEUE}/bulk",
        json={"ids": [*ids, 999_999], "status": "approved"},
        headers=moderator_headers,
    )

    assert response.status_code == 200
    assert response.get_json() == {"status": "approved", "updated": ids, "not_found": [999_999]}
    assert all(session.get(Comment, i).status is CommentStatus.APPROVED for i in ids)
    assert session.scalars(select(Thread)).one().approved_count == 3


@pytest.mark.parametrize(
    "payload",
    [{"ids": [], "status": "spam"}, {"ids": ["1"], "status": "spam"}, {"ids": [1], "status": "x"}],
)
def test_bulk_rejects_bad_input(
    client: FlaskClient, moderator_headers: dict[str, str], payload: dict
) -> None:
    response = client.post(f"{QUEUE}/bulk", json=payload, headers=moderator_headers)
    assert response.status_code == 422


def test_delete_is_permanent_keeps_the_audit_trail_and_reparents_replies(
    client: FlaskClient, admin_headers: dict[str, str], session: Session
) -> None:
    parent = submit_approved(client, admin_headers, body="förälder")
    reply = submit_approved(client, admin_headers, body="svar", parent_id=parent)

    response = client.delete(f"{QUEUE}/{parent}", headers=admin_headers)

    assert response.status_code == 204
    assert session.get(Comment, parent) is None
    assert session.get(Comment, reply).parent_id is None
    assert client.get(f"{QUEUE}/{parent}", headers=admin_headers).status_code == 404
    assert client.delete(f"{QUEUE}/{parent}", headers=admin_headers).status_code == 404
    events = client.get(
        f"/api/v1/moderation/events?comment_id={parent}", headers=admin_headers
    ).get_json()["events"]
    assert [e["action"] for e in events] == ["created", "status_changed", "deleted"]
    assert events[-1]["actor"] == "admin-1"
    assert client.get("/api/v1/comments/count?post_id=haninge-och-kalix").get_json() == {
        "counts": {"haninge-och-kalix": 1}
    }


def test_a_moderator_may_not_delete_permanently_403_forbidden(
    client: FlaskClient, moderator_headers: dict[str, str], session: Session
) -> None:
    comment_id = submit_approved(client, moderator_headers)

    response = client.delete(f"{QUEUE}/{comment_id}", headers=moderator_headers)

    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "forbidden"
    assert session.get(Comment, comment_id) is not None
    events = client.get(
        "/api/v1/moderation/events",
        query_string={"comment_id": comment_id},
        headers=moderator_headers,
    ).get_json()["events"]
    assert "deleted" not in [e["action"] for e in events]
    # Everything else stays open to moderators: they can still take the comment down.
    trashed = client.patch(
        f"{QUEUE}/{comment_id}", json={"status": "trash"}, headers=moderator_headers
    )
    assert trashed.status_code == 200


def test_the_audit_log_records_who_what_from_to_and_when(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    comment_id = submit(client)["id"]
    client.patch(f"{QUEUE}/{comment_id}", json={"status": "spam"}, headers=moderator_headers)
    client.patch(f"{QUEUE}/{comment_id}", json={"status": "approved"}, headers=moderator_headers)

    events = client.get("/api/v1/moderation/events", headers=moderator_headers).get_json()

    assert [
        (e["actor"], e["action"], e["from_status"], e["to_status"]) for e in events["events"]
    ] == [
        ("submission", "created", None, "pending"),
        ("moderator-1", "status_changed", "pending", "spam"),
        ("moderator-1", "status_changed", "spam", "approved"),
    ]
    assert all(e["created_at"].endswith("+00:00") for e in events["events"])
