"""Flood and duplicate checks hold under concurrency: a real multi-worker server, on SQLite
and on PostgreSQL, stores exactly one of 20 identical parallel submissions."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select

from service.models import Comment
from tests.builders import comment_payload
from tests.support.server import running_server

pytestmark = pytest.mark.e2e
KOMMENTERA = Path(sys.executable).with_name("kommentera")


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    rules = {
        "KOMMENTERA_FLOOD_SECONDS": "15",
        "KOMMENTERA_RATE_LIMIT": "0",  # let every request reach the database checks
    }
    with running_server(database_url, workers=4, extra_env=rules) as server:
        yield server.base_url


def test_twenty_parallel_identical_submissions_store_exactly_one_comment(
    server: str, database_url: str
) -> None:
    payload = comment_payload(body="Samma kommentar, tjugo gånger samtidigt")

    def post(_: int) -> int:
        return requests.post(f"{server}/api/v1/comments", json=payload, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(post, range(20)))

    assert statuses.count(202) == 1, statuses
    assert set(statuses) <= {202, 409, 429}, statuses
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(Comment))
    engine.dispose()
    assert stored == 1
