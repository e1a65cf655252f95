"""Flood and duplicate checks hold under concurrency: a real multi-worker server, on SQLite
and on PostgreSQL, stores exactly one of 20 identical parallel submissions."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select

from service.models import Comment
from tests.builders import comment_payload

pytestmark = pytest.mark.e2e
KOMMENTERA = Path(sys.executable).with_name("kommentera")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "KOMMENTERA_DATABASE_URL": database_url,
        "KOMMENTERA_FLOOD_SECONDS": "15",
        "KOMMENTERA_RATE_LIMIT": "0",  # let every request reach the database checks
    }
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [str(KOMMENTERA), "serve", "--port", str(port), "--workers", "4"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/api/v1/openapi.json", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None:
                    pytest.fail((tmp_path / "server.log").read_text())
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


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
