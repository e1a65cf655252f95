"""Fixtures for the survival tests: real `kommentera serve` processes on free ports, client
threads that record every answer, and a private throwaway PostgreSQL cluster. Every process
started here is killed in a finalizer; every loop is bounded in count and in time."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

BIN = Path(sys.executable).parent
# The rules issue's flood and rate limits would throttle these clients; 0 switches them off.
RULES_OFF = {
    "KOMMENTERA_FLOOD_SECONDS": "0",
    "KOMMENTERA_RATE_LIMIT": "0",
    "KOMMENTERA_MAX_LINKS": "0",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(database_url: str) -> dict[str, str]:
    return {**os.environ, **RULES_OFF, "KOMMENTERA_DATABASE_URL": database_url}


def worker_pids(master: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == master:
                found.append(int(entry.name))
    return found


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def create_token(database_url: str, name: str) -> str:
    return subprocess.run(
        [str(BIN / "kommentera"), "tokens", "create", name],
        env=_env(database_url),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start `kommentera serve` with N workers; wait until it answers and its workers run."""
    started: list[Server] = []

    def start(database_url: str, workers: int = 2) -> Server:
        port = free_port()
        with (tmp_path / f"serve-{port}.log").open("wb") as log:
            process = subprocess.Popen(
                [str(BIN / "kommentera"), "serve", "--port", str(port), "--workers", str(workers)],
                env=_env(database_url),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(process, port)
        started.append(server)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / f"serve-{port}.log").read_text()
            try:
                requests.get(f"{server.base}/api/v1/comments/count?post_id=x", timeout=2)
                if len(worker_pids(process.pid)) >= workers:
                    return server
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        pytest.fail(f"server on port {port} did not start")

    yield start
    for server in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(10)


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
