"""Property: whatever is submitted and approved, no public response ever carries an e-mail."""

from __future__ import annotations

import json

from email_validator import validate_email
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import approve

local_parts = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzåäö0123456789.+_-"), min_size=3, max_size=20
).filter(lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s)
domains = st.sampled_from(["exempel.se", "bücher.de", "test.example.org", "kommun.se"])
emails = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80)
submissions = st.lists(
    st.fixed_dictionaries(
        {"email": emails, "name": texts, "body": texts, "approve": st.booleans()}
    ),
    min_size=1,
    max_size=6,
)


def _public_bytes(client: FlaskClient, post_id: str, ids: list[int]) -> list[bytes]:
    responses = [
        client.get("/api/v1/comments", query_string={"post_id": post_id}),
        client.get("/api/v1/comments/count", query_string={"post_id": post_id}),
        *[client.get(f"/api/v1/comments/{i}") for i in ids],
    ]
    return [r.get_data() + str(r.headers).encode() for r in responses]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=submissions, post_number=st.integers(min_value=0, max_value=10**9))
def test_no_submitted_email_ever_appears_in_a_public_response(
    client: FlaskClient, moderator_headers: dict[str, str], batch: list[dict], post_number: int
) -> None:
    post_id = f"egenskap-{post_number}"
    submitted_emails, responses, ids = [], [], []
    for entry in batch:
        payload = {
            "post_id": post_id,
            "name": entry["name"],
            "email": entry["email"],
            "body": entry["body"],
        }
        response = client.post("/api/v1/comments", json=payload)
        responses.append(response.get_data() + str(response.headers).encode())
        if response.status_code != 202:
            continue
        submitted_emails.append(entry["email"])
        comment_id = response.get_json()["id"]
        ids.append(comment_id)
        if entry["approve"]:
            approve(client, moderator_headers, comment_id)

    haystacks = responses + _public_bytes(client, post_id, ids)
    for email in submitted_emails:
        normalized = validate_email(email, check_deliverability=False).normalized
        forms = {email, normalized, json.dumps(email)[1:-1], json.dumps(normalized)[1:-1]}
        for haystack in haystacks:
            for form in forms:
                assert form.encode() not in haystack, form
