"""The code is held to service/web/openapi.yaml: every route is documented, and a bounded
schemathesis run (SQLite and PostgreSQL) finds no 5xx and no response the document does
not describe."""

from __future__ import annotations

import re

import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.web.openapi import spec
from tests.builders import comment_payload, submit

EXAMPLES_PER_OPERATION = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _documented(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_every_api_and_operations_route_is_in_the_document(app: Flask) -> None:
    documented = spec()["paths"]
    for rule in app.url_map.iter_rules():
        if (
            rule.rule.startswith("/api/")
            or rule.endpoint.startswith("ops.")
            or rule.rule in ("/metrics",)
        ):
            path = _documented(rule.rule)
            assert path in documented, f"{rule.rule} is not in openapi.yaml"
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in documented[path], f"{method} {rule.rule} undocumented"


def test_the_api_answers_as_its_openapi_document_says(
    app: Flask, moderator_headers: dict[str, str]
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=moderator_headers, checks=CHECKS)

        check()


def test_ids_too_large_for_the_database_are_not_found_not_server_errors(
    client: FlaskClient, moderator_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    huge = 2**63
    assert client.get(f"/api/v1/comments/{huge}").status_code == 404
    assert (
        client.delete(f"/api/v1/moderation/comments/{huge}", headers=admin_headers).status_code
        == 404
    )
    response = client.post("/api/v1/comments", json=comment_payload(parent_id=huge))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["code"] == "parent_not_found"
    response = client.post(
        "/api/v1/moderation/comments/bulk",
        json={"ids": [huge], "status": "spam"},
        headers=moderator_headers,
    )
    assert response.status_code == 422
    events = client.get(
        "/api/v1/moderation/events", query_string={"comment_id": huge}, headers=moderator_headers
    )
    assert events.status_code == 400


def test_an_empty_weak_if_match_tag_is_a_412_not_a_server_error(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    comment_id = submit(client)["id"]
    response = client.patch(
        f"/api/v1/moderation/comments/{comment_id}",
        json={"status": "spam"},
        headers={**moderator_headers, "If-Match": 'W/""'},
    )
    assert response.status_code == 412


def test_a_post_id_with_a_nul_character_matches_nothing_instead_of_failing(
    client: FlaskClient, moderator_headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/comments/count", query_string={"post_id": ["a\x00b", "c"]})
    assert response.status_code == 200
    assert response.get_json() == {"counts": {"a\x00b": 0, "c": 0}}
    queue = client.get(
        "/api/v1/moderation/comments", query_string={"post_id": "a\x00"}, headers=moderator_headers
    )
    assert queue.status_code == 200
    assert queue.get_json()["comments"] == []
