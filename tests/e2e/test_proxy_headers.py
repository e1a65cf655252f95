"""X-Forwarded-For through a real `kommentera serve` with two gunicorn workers: a proxy
Kommentera was not told about is warned of at most once per worker and counted across
workers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.server import Server, start_server

pytestmark = pytest.mark.e2e
WORKERS = 2
FORWARDED_CLIENT = "198.51.100.7"


@pytest.fixture
def untrusting(tmp_path: Path) -> Iterator[Server]:
    """KOMMENTERA_TRUSTED_PROXIES left at its default, 0."""
    server = start_server(tmp_path, workers=WORKERS)
    yield server
    server.stop()


def _warnings(server: Server, logger: str) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in server.log_lines()]
    return [e for e in entries if e.get("logger") == logger and e["level"] == "WARNING"]


def test_forwarded_requests_without_trusted_proxies_warn_once_per_worker_and_are_counted(
    untrusting: Server,
) -> None:
    for _ in range(20):  # a new connection each, so both workers answer some
        requests.get(
            f"{untrusting.base_url}/healthz",
            headers={"X-Forwarded-For": FORWARDED_CLIENT},
            timeout=10,
        )
    metrics = requests.get(f"{untrusting.base_url}/metrics", timeout=10).text
    assert untrusting.stop() == 0

    assert "kommentera_untrusted_forwarded_for_total 20.0" in metrics.splitlines()
    warnings = _warnings(untrusting, "service.web.proxies")
    assert 1 <= len(warnings) <= WORKERS
    assert all("KOMMENTERA_TRUSTED_PROXIES" in str(w["message"]) for w in warnings)
    assert FORWARDED_CLIENT not in untrusting.log()
