"""Real HTTP through `kommentera serve` (gunicorn, several workers): the README's round
trip, and concurrent writers on SQLite without "database is locked"."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.conftest import POSTGRES_SKIP, POSTGRES_URL
from tests.support.server import Server, running_server

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'var' / 'kommentera.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip(POSTGRES_SKIP)
        request.getfixturevalue("postgres_engine")
        url = POSTGRES_URL
    with running_server(url, workers=3) as server:
        yield server


def test_submit_review_approve_and_read_publicly_over_http(server: Server) -> None:
    token = server.cli("tokens", "create", f"e2e-{server.base_url[-5:]}").strip()
    auth = {"Authorization": f"Bearer {token}"}
    post_id = f"e2e-{token[-8:]}"

    submitted = requests.post(
        f"{server.base_url}/api/v1/comments",
        json={
            "post_id": post_id,
            "name": "Åke",
            "email": "ake@exempel.se",
            "body": "Bra skrivet, <strong>tack</strong>!",
        },
        timeout=10,
    )
    assert submitted.status_code == 202
    comment_id = submitted.json()["id"]
    assert submitted.headers["Location"].endswith(f"/api/v1/comments/{comment_id}")

    queue = requests.get(
        f"{server.base_url}/api/v1/moderation/comments",
        params={"post_id": post_id},
        headers=auth,
        timeout=10,
    ).json()
    assert [c["email"] for c in queue["comments"]] == ["ake@exempel.se"]

    approved = requests.patch(
        f"{server.base_url}/api/v1/moderation/comments/{comment_id}",
        json={"status": "approved"},
        headers=auth,
        timeout=10,
    )
    assert approved.status_code == 200

    public = requests.get(
        f"{server.base_url}/api/v1/comments", params={"post_id": post_id}, timeout=10
    )
    assert public.json()["comments"][0]["body"] == "<p>Bra skrivet, <strong>tack</strong>!</p>"
    assert "ake@exempel.se" not in public.text


def test_concurrent_submissions_across_workers_are_all_stored(server: Server) -> None:
    post_id = f"samtidigt-{server.base_url[-5:]}"

    def post(n: int) -> int:
        return requests.post(
            f"{server.base_url}/api/v1/comments",
            json={
                "post_id": post_id,
                "name": f"Person {n}",
                "email": f"p{n}@exempel.se",
                "body": f"Kommentar nummer {n}",
            },
            timeout=30,
        ).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(post, range(120)))

    assert statuses == [202] * 120
    token = server.cli("tokens", "create", f"count-{server.base_url[-5:]}").strip()
    stored = requests.get(
        f"{server.base_url}/api/v1/moderation/comments",
        params={"post_id": post_id, "limit": 200},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()["comments"]
    assert sorted(c["body_source"] for c in stored) == sorted(
        f"Kommentar nummer {n}" for n in range(120)
    )
