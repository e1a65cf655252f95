"""With redis:// rate-limit storage and Redis gone, a real `kommentera serve` keeps taking
comments: the limits fail open, the outage is logged once and every request it let through
unlimited is counted in /metrics; when Redis is back, so are the limits."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from service.web.limits import REDIS_TIMEOUT_SECONDS
from tests.builders import comment_payload
from tests.support.server import Server, free_port, running_server

pytestmark = pytest.mark.e2e
REDIS_SERVER = shutil.which("redis-server")
UNREACHABLE = "rate-limit storage unreachable"
ERRORS_METRIC = "kommentera_rate_limit_storage_errors_total"


@contextlib.contextmanager
def redis_on(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A private redis-server (no persistence) on port, killed on exit."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen([REDIS_SERVER, *options], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False
            ).stdout.strip()
            != b"PONG"
        ):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield process
    finally:
        process.kill()
        process.wait()


def _limited_server(directory: Path, storage: str) -> contextlib.AbstractContextManager[Server]:
    return running_server(
        f"sqlite:///{directory / 'kommentera.db'}",
        workers=1,  # one worker: "logged once" is per worker process
        extra_env={"KOMMENTERA_RATE_LIMIT": "2/minute", "KOMMENTERA_RATE_LIMIT_STORAGE": storage},
    )


def _post(server: Server, number: int) -> int:
    return requests.post(
        f"{server.base_url}/api/v1/comments",
        json=comment_payload(body=f"Kommentar nummer {number}"),
        timeout=10,
    ).status_code


def _storage_errors(server: Server) -> float:
    text = requests.get(f"{server.base_url}/metrics", timeout=10).text
    lines = [line for line in text.splitlines() if line.startswith(ERRORS_METRIC + " ")]
    return float(lines[0].split()[1]) if lines else 0.0


def _outage_lines(server: Server) -> list[str]:
    return [line for line in server.log_lines() if UNREACHABLE in line]


def test_a_redis_that_is_not_running_lets_every_write_through_logged_once_and_counted(
    tmp_path: Path,
) -> None:
    with _limited_server(tmp_path, f"redis://127.0.0.1:{free_port()}/0") as server:
        statuses = [_post(server, n) for n in range(5)]

        assert statuses == [202] * 5  # over the 2/minute limit, but the limit is off
        assert _storage_errors(server) == 5
        log = server.log()
    assert len([line for line in log.splitlines() if UNREACHABLE in line]) == 1
    assert "Traceback" not in log
    assert "Swallowing" not in log


def test_redis_killed_mid_service_fails_open_and_limits_return_with_it(tmp_path: Path) -> None:
    port = free_port()
    with _limited_server(tmp_path, f"redis://127.0.0.1:{port}/0") as server:
        with redis_on(port):
            assert [_post(server, n) for n in range(3)] == [202, 202, 429]

        during = [_post(server, n) for n in range(3, 6)]
        assert during == [202] * 3
        assert _storage_errors(server) == 3
        assert len(_outage_lines(server)) == 1

        with redis_on(port):  # a fresh, empty Redis: a new budget of two
            assert [_post(server, n) for n in range(6, 9)] == [202, 202, 429]
            assert _storage_errors(server) == 3
        assert any("answers again" in line for line in server.log_lines())


def test_a_redis_that_accepts_and_never_answers_costs_a_write_its_timeout_not_a_hang(
    tmp_path: Path,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts, no one reads
        port = silent.getsockname()[1]
        with _limited_server(tmp_path, f"redis://127.0.0.1:{port}/0") as server:
            started = time.monotonic()
            assert _post(server, 1) == 202
            assert time.monotonic() - started < 4 * REDIS_TIMEOUT_SECONDS
            assert _storage_errors(server) == 1
