"""Concurrent submission and moderation against several workers on SQLite and two instances
on one PostgreSQL: no 5xx, nothing lost or doubled, and an audit log that replays to every
comment's final state."""

from __future__ import annotations

import random
import shutil
import threading
import time

import pytest
import requests
from sqlalchemy import text

from service.models import Base
from tests.conftest import POSTGRES_SKIP, POSTGRES_URL
from tests.reliability.checks import assert_nothing_lost_or_doubled, replay_mismatches
from tests.reliability.conftest import create_token

pytestmark = pytest.mark.reliability
MODERATION_ROUNDS = 60
CHOICES = ("approved", "spam", "trash", "approved", "pending")


def _moderate(bases: list[str], token: str, seed: int, answers: list[int], stop) -> None:
    """Bounded loop: read the queue, then change a few comments' statuses (some twice)."""
    rng = random.Random(seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    seen: list[int] = []
    for round_no in range(MODERATION_ROUNDS):
        if stop.is_set():
            return
        base = bases[round_no % len(bases)]
        queue = session.get(f"{base}/api/v1/moderation/comments?limit=20", timeout=30)
        answers.append(queue.status_code)
        if queue.status_code == 200:
            seen += [c["id"] for c in queue.json()["comments"]]
        for comment_id in rng.sample(seen, min(3, len(seen))):
            response = session.patch(
                f"{base}/api/v1/moderation/comments/{comment_id}",
                json={"status": rng.choice(CHOICES)},
                timeout=30,
            )
            answers.append(response.status_code)
        time.sleep(0.01)


def _run_load(bases: list[str], database_url: str, submitters) -> None:
    clients = submitters(bases, threads=4, per_thread=60).start()
    stop = threading.Event()
    moderator_answers: list[int] = []
    moderators = [
        threading.Thread(
            target=_moderate,
            args=(bases, create_token(database_url, f"moderator-{n}"), n, moderator_answers, stop),
        )
        for n in range(2)
    ]
    for moderator in moderators:
        moderator.start()
    for moderator in moderators:
        moderator.join(120)
    clients.join()  # submitters end on their own budget
    stop.set()

    statuses = [a.status for a in clients.answers] + moderator_answers
    assert [s for s in statuses if s >= 500 or s == 0] == []
    # 412: two moderators changed the same comment at once; the loser is told, not overwritten.
    assert set(moderator_answers) <= {200, 412}
    assert all(a.status == 202 for a in clients.answers)
    assert_nothing_lost_or_doubled(database_url, clients.accepted())
    assert replay_mismatches(database_url) == []


def test_several_sqlite_workers_under_submission_and_moderation_lose_nothing(
    tmp_path, sqlite_template, start_server, submitters
) -> None:
    path = tmp_path / "kommentera.db"
    shutil.copy(sqlite_template, path)
    database_url = f"sqlite:///{path}"
    server = start_server(database_url, workers=3)

    _run_load([server.base_url], database_url, submitters)


@pytest.mark.postgres
def test_two_instances_on_one_postgresql_under_submission_and_moderation_lose_nothing(
    postgres_engine, start_server, submitters
) -> None:
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with postgres_engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    first = start_server(POSTGRES_URL, workers=2)
    second = start_server(POSTGRES_URL, workers=2)

    _run_load([first.base_url, second.base_url], POSTGRES_URL, submitters)
