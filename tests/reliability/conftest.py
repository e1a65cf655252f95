"""Fixtures for the survival tests: real `kommentera serve` processes on free ports, client
threads that record every answer, and a private throwaway PostgreSQL cluster. Every process
started here is killed in a finalizer; every loop is bounded in count and in time."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import requests

from tests.support.server import KOMMENTERA, Server, running_server

# Load clients must reach the database: every throttling or holding rule is off.
RULES_OFF = {"KOMMENTERA_MAX_LINKS": "0"}


def create_token(database_url: str, name: str) -> str:
    return subprocess.run(
        [KOMMENTERA, "tokens", "create", name],
        env={**os.environ, "KOMMENTERA_DATABASE_URL": database_url},
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()


@pytest.fixture
def start_server() -> Iterator[Callable[..., Server]]:
    """Start `kommentera serve` with N workers and every rule off; stopped at teardown."""
    with contextlib.ExitStack() as stack:

        def start(database_url: str, workers: int = 2) -> Server:
            return stack.enter_context(
                running_server(database_url, workers=workers, extra_env=RULES_OFF)
            )

        yield start


@dataclass
class Answer:
    started: float
    ended: float
    status: int  # 0 when no HTTP answer came (connection refused or reset)
    comment_id: int | None = None
    body: str | None = None


@dataclass
class Submitters:
    """Client threads posting comments with unique bodies until stopped or out of budget."""

    bases: list[str]
    threads: int = 4
    per_thread: int = 300
    post_ids: tuple[str, ...] = ("fel-och-fakta", "haninge-och-kalix")
    answers: list[Answer] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def _run(self, number: int) -> None:
        session = requests.Session()
        for i in range(self.per_thread):
            if self.stop_event.is_set():
                return
            body = f"Överlevnadstest {number}-{i} {uuid.uuid4().hex}"
            base = self.bases[i % len(self.bases)]
            payload = {
                "post_id": self.post_ids[i % len(self.post_ids)],
                "name": "Åsa Öberg",
                "email": "asa+test@exempel.se",
                "body": body,
            }
            started = time.monotonic()
            try:
                response = session.post(f"{base}/api/v1/comments", json=payload, timeout=30)
            except requests.RequestException:
                self.answers.append(Answer(started, time.monotonic(), 0, None, body))
                time.sleep(0.02)
                continue
            comment_id = response.json().get("id") if response.status_code < 300 else None
            self.answers.append(
                Answer(started, time.monotonic(), response.status_code, comment_id, body)
            )

    def start(self) -> Submitters:
        self._workers = [threading.Thread(target=self._run, args=(n,)) for n in range(self.threads)]
        for worker in self._workers:
            worker.start()
        return self

    def join(self, seconds: float = 120) -> None:
        for worker in self._workers:
            worker.join(seconds)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(60)

    def accepted(self) -> dict[int, str]:
        return {a.comment_id: a.body for a in self.answers if 200 <= a.status < 300}


@pytest.fixture
def submitters() -> Iterator[Callable[..., Submitters]]:
    made: list[Submitters] = []

    def make(bases: list[str], **options: int) -> Submitters:
        made.append(Submitters(bases, **options))
        return made[-1]

    yield make
    for each in made:
        each.stop()
