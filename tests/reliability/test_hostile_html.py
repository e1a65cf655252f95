"""Hostile HTML: hundreds of XSS payloads are submitted, approved and served publicly, then
rendered in headless Chromium with dialogs, network and navigation instrumented. Nothing
may execute. The same detector on the raw payloads must see executions, so it can fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from tests.builders import comment_payload
from tests.reliability.browser import Detector
from tests.reliability.xss_payloads import payloads
from tests.support.browser import chromium

pytestmark = pytest.mark.reliability
POST_ID = "/2016/12/fientlig-html/"


@pytest.fixture(scope="module")
def detector() -> Iterator[Detector]:
    with chromium() as browser:
        found = Detector(browser)
        yield found
        found.close()


def _public_bodies(client: FlaskClient) -> list[str]:
    bodies, cursor = [], ""
    for _ in range(10):  # bounded: 10 pages of 200 hold every payload
        response = client.get(f"/api/v1/comments?post_id={POST_ID}&limit=200&cursor={cursor}")
        assert response.status_code == 200
        page = response.get_json()
        bodies += [comment["body"] for comment in page["comments"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    return bodies


def test_the_detector_sees_the_raw_payloads_execute(detector: Detector) -> None:
    executing = []
    for payload in payloads():
        detector.render([payload])
        if detector.executions():
            executing.append(payload)

    assert len(executing) > 0
    assert len(executing) >= 50, executing


def test_hostile_payloads_published_through_the_api_never_execute_in_chromium(
    client: FlaskClient, moderator_headers: dict[str, str], detector: Detector
) -> None:
    accepted = []
    for number, payload in enumerate(payloads()):
        # Leading prose keeps payloads that sanitize to nothing from being refused as empty.
        body = f"Kommentar {number}: {payload}"
        response = client.post("/api/v1/comments", json=comment_payload(post_id=POST_ID, body=body))
        assert response.status_code in (202, 422), response.get_json()
        if response.status_code == 202:
            accepted.append(response.get_json()["id"])
    approved = client.post(
        "/api/v1/moderation/comments/bulk",
        json={"ids": accepted, "status": "approved"},
        headers=moderator_headers,
    )
    assert approved.status_code == 200
    assert approved.get_json()["not_found"] == []

    bodies = _public_bodies(client)
    assert len(bodies) == len(accepted) >= 300

    assert detector.render(bodies) == []
    assert detector.render(bodies, via_inner_html=True) == []
