"""Health, readiness, metrics and request ids through the test client."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from flask.testing import FlaskClient

from service import db
from service.app import create_app
from service.config import Settings
from tests.builders import approve, metric_sample, settings_for, submit


def test_healthz_answers_ok_without_touching_the_database(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "never-created.db"
    client = create_app(Settings(database_url=f"sqlite:///{missing}")).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ready_when_the_schema_is_at_the_latest_migration(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_readyz_is_503_with_the_reason_when_the_database_is_not_migrated(tmp_path: Path) -> None:
    client = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["code"] == "schema_outdated"


def test_metrics_count_requests_by_route_submissions_by_verdict_and_queue_depth(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    first = submit(client, post_id="a")["id"]
    submit(client, post_id="b")
    client.post("/api/v1/comments", json={"post_id": "a"})  # invalid: 422
    approve(client, moderator_headers, first)
    client.get("/api/v1/comments/999")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    text = response.get_data(as_text=True)
    requests_total = "kommentera_http_requests_total"
    route = "/api/v1/comments"
    assert metric_sample(text, requests_total, method="POST", route=route, status="202") == 2
    assert metric_sample(text, requests_total, method="POST", route=route, status="422") == 1
    # The route is the URL rule, never the raw path, so ids do not multiply series.
    rule = "/api/v1/comments/<int:comment_id>"
    assert metric_sample(text, requests_total, method="GET", route=rule, status="404") == 1
    assert "/api/v1/comments/999" not in text
    assert (
        metric_sample(
            text, "kommentera_http_request_duration_seconds_count", method="POST", route=route
        )
        == 3
    )
    assert metric_sample(text, "kommentera_submissions_total", verdict="pending") == 2
    assert metric_sample(text, "kommentera_submissions_total", verdict="rejected") == 1
    assert metric_sample(text, "kommentera_comments", status="pending") == 1
    assert metric_sample(text, "kommentera_comments", status="approved") == 1


def test_a_well_formed_request_id_is_returned_and_a_missing_one_is_generated(
    client: FlaskClient,
) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with <spaces>"})
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["X-Request-ID"])


def test_made_up_methods_and_random_paths_do_not_grow_the_metrics(client: FlaskClient) -> None:
    submit(client)
    client.get("/api/v1/comments", query_string={"post_id": "haninge-och-kalix"})
    client.get("/nowhere")
    client.open("/nowhere", method="MADEUP")
    client.open("/api/v1/comments", method="MADEUP")
    client.get("/metrics")
    before = len(client.get("/metrics").data)

    for number in range(150):
        client.open("/api/v1/comments", method=f"METHOD{number}")
        client.open(f"/random/{uuid.uuid4().hex}/{number}", method=f"PATH{number}")
        client.get(f"/{uuid.uuid4().hex}")
    text = client.get("/metrics").get_data(as_text=True)

    # Series are a fixed list: all the traffic above landed in series that existed before.
    assert len(text) < before * 1.1
    assert "METHOD" not in text
    assert "PATH" not in text
    requests_total = "kommentera_http_requests_total"
    assert metric_sample(text, requests_total, method="other", route="<unmatched>", status="405")
    assert metric_sample(text, requests_total, method="GET", route="<unmatched>", status="404")


def test_with_a_metrics_port_the_app_has_no_public_metrics(database_url: str) -> None:
    app = create_app(settings_for(database_url, metrics_port=9464))
    try:
        response = app.test_client().get("/metrics")
    finally:
        db.database(app).engine.dispose()

    assert response.status_code == 404
