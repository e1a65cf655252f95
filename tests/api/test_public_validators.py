"""Public validators (the thread page's ETag) depend on public state only: nothing a
moderator does to comments no reader can see, nor the existence of such comments, shows in
them; every change a reader can see does."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.builders import approve, submit, submit_approved

POST = "haninge-och-kalix"
QUEUE = "/api/v1/moderation/comments"


def _etag(client: FlaskClient, post_id: str = POST) -> str:
    response = client.get("/api/v1/comments", query_string={"post_id": post_id})
    assert response.status_code == 200
    return response.headers["ETag"]


def _set_status(client: FlaskClient, headers: dict[str, str], comment_id: int, status: str) -> None:
    response = client.patch(f"{QUEUE}/{comment_id}", json={"status": status}, headers=headers)
    assert response.status_code == 200, response.get_json()


def test_a_post_whose_comments_are_all_pending_looks_like_an_unknown_post(
    client: FlaskClient,
) -> None:
    submit(client, post_id="bara-vantande")

    assert _etag(client, "bara-vantande") == _etag(client, "finns-inte")


def test_moderating_unpublished_comments_leaves_the_etag_alone(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    submit_approved(client, admin_headers, body="synlig")
    before = _etag(client)
    pending = submit(client, body="väntar")["id"]
    other = submit(client, body="också väntande")["id"]

    _set_status(client, admin_headers, pending, "spam")
    _set_status(client, admin_headers, pending, "trash")
    edited = client.patch(f"{QUEUE}/{other}", json={"body": "ändrad"}, headers=admin_headers)
    assert edited.status_code == 200
    bulk = client.post(
        f"{QUEUE}/bulk", json={"ids": [pending, other], "status": "spam"}, headers=admin_headers
    )
    assert bulk.status_code == 200
    assert client.delete(f"{QUEUE}/{other}", headers=admin_headers).status_code == 204

    assert _etag(client) == before
    unchanged = client.get(
        "/api/v1/comments", query_string={"post_id": POST}, headers={"If-None-Match": before}
    )
    assert unchanged.status_code == 304


def test_every_change_a_reader_can_see_changes_the_etag(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    seen = {_etag(client)}

    parent = submit_approved(client, admin_headers, body="förälder")
    seen.add(_etag(client))
    reply = submit_approved(client, admin_headers, body="svar", parent_id=parent)
    seen.add(_etag(client))
    client.patch(f"{QUEUE}/{reply}", json={"body": "ändrat svar"}, headers=admin_headers)
    seen.add(_etag(client))
    _set_status(client, admin_headers, parent, "pending")  # unpublished: the reply stays
    seen.add(_etag(client))
    # Deleting the now unpublished parent moves the published reply up: readers see that.
    assert client.delete(f"{QUEUE}/{parent}", headers=admin_headers).status_code == 204
    seen.add(_etag(client))
    pending = submit(client, body="sent godkänd")["id"]
    approve(client, admin_headers, pending)
    seen.add(_etag(client))
    _set_status(client, admin_headers, reply, "spam")
    seen.add(_etag(client))

    assert len(seen) == 8
