"""Nothing in the logs names a client: a real `kommentera serve` and `kommentera worker` are
driven through every error path (rate limit, flood, malformed request line, oversized
header, bad JSON, 404, 405, 413, a 500 and a refused moderator e-mail) by a client with its
own address, 127.0.0.73, and their whole output holds neither that address nor any e-mail
address, while each path did leave its line."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from requests.adapters import HTTPAdapter

from tests.builders import comment_payload
from tests.support.server import KOMMENTERA, Server, free_port, server_env, start_server

pytestmark = pytest.mark.e2e

CLIENT_IP = "127.0.0.73"  # no other line has a reason to contain it
COMMENTER = "asa.oberg@exempel.se"
MODERATOR = "moderator@exempel.se"
# Any e-mail address, also percent-encoded as it would be in a logged URI.
EMAIL = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
WAIT_SECONDS = 30


class _SourceAddressAdapter(HTTPAdapter):
    """Connects from CLIENT_IP, so the server sees that as the client's address."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (CLIENT_IP, 0)
        super().init_poolmanager(*args, **kwargs)


class _RefusingInbox:
    """An SMTP server that refuses every recipient, quoting the address as servers do."""

    async def handle_RCPT(
        self, _server: Any, _session: Any, _envelope: Any, address: str, _options: Any
    ) -> str:
        return f"550 5.1.1 <{address}>: Recipient address rejected"


@pytest.fixture
def smtp_port() -> Iterator[int]:
    port = free_port()
    controller = Controller(_RefusingInbox(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def server(tmp_path: Path, smtp_port: int) -> Iterator[Server]:
    env = server_env(
        f"sqlite:///{tmp_path / 'kommentera.db'}",
        KOMMENTERA_RATE_LIMIT="12/minute",
        KOMMENTERA_FLOOD_SECONDS="60",
        KOMMENTERA_MAX_REQUEST_BYTES="4096",
        KOMMENTERA_SMTP_HOST="127.0.0.1",
        KOMMENTERA_SMTP_PORT=str(smtp_port),
        KOMMENTERA_SMTP_STARTTLS="false",
        KOMMENTERA_MODERATOR_EMAILS=MODERATOR,
        KOMMENTERA_WORKER_POLL_SECONDS="1",
        KOMMENTERA_DELIVERY_BACKOFF_SECONDS="1",
    )
    server = start_server(tmp_path, env=env, workers=1)  # one worker: one rate-limit budget
    yield server
    server.stop()


def _client() -> requests.Session:
    session = requests.Session()
    session.mount("http://", _SourceAddressAdapter())
    return session


def _raw(server: Server, request: bytes) -> bytes:
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection(
        (host, int(port)), timeout=WAIT_SECONDS, source_address=(CLIENT_IP, 0)
    ) as connection:
        connection.sendall(request)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _corrupt_status(database: Path, comment_id: int, value: str) -> None:
    """A row no code path can write: its status is not a status (here, text that quotes the
    commenter's e-mail), so reading it raises inside the app, a real 500."""
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA ignore_check_constraints = ON")
        connection.execute("UPDATE comments SET status = ? WHERE id = ?", (value, comment_id))


def _wait_for(path: Path, text: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared in {path.name}")


def test_no_client_ip_or_email_reaches_the_logs_on_any_error_path(
    server: Server, tmp_path: Path
) -> None:
    worker_log = tmp_path / "worker.log"
    with worker_log.open("wb") as output:
        worker = subprocess.Popen(
            [KOMMENTERA, "worker"], env=server.env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        client = _client()
        api = f"{server.base_url}/api/v1/comments"
        held = client.post(api, json=comment_payload(email=COMMENTER), timeout=10)
        assert held.status_code == 202
        flood = client.post(api, json=comment_payload(email=COMMENTER, body="igen"), timeout=10)
        assert flood.json()["code"] == "flood"
        bad_json = client.post(
            api,
            data=f'{{"email": "{COMMENTER}", '.encode(),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert bad_json.status_code == 400
        assert (
            client.get(f"{server.base_url}/nowhere?email={COMMENTER}", timeout=10).status_code
            == 404
        )
        assert client.put(api, json={}, timeout=10).status_code == 405
        too_large = client.post(
            api, json=comment_payload(body="x" * 8000, email=COMMENTER), timeout=10
        )
        assert too_large.status_code == 413

        _corrupt_status(tmp_path / "kommentera.db", held.json()["id"], COMMENTER)
        assert client.get(f"{api}/{held.json()['id']}", timeout=10).status_code == 500

        statuses = [client.post(api, json={}, timeout=10).status_code for _ in range(15)]
        assert 429 in statuses

        for line in (f"GET /?email={COMMENTER}", f"GET /?email={COMMENTER} HTTP/1.1 extra"):
            malformed = _raw(server, f"{line}\r\n\r\n".encode())
            assert malformed.startswith(b"HTTP/1.1 400")
        oversized = _raw(
            server,
            f"GET /?email={COMMENTER} HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 9000}\r\n\r\n".encode(),
        )
        assert oversized.startswith(b"HTTP/1.1 431")

        _wait_for(worker_log, "not delivered")
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert server.stop() == 0

    serve_output, worker_output = server.log(), worker_log.read_text(encoding="utf-8")
    # Every path left its line, so the absence below is not for want of logging.
    assert "ratelimit" in serve_output
    assert "Invalid request from ip=" in serve_output
    assert "unhandled error" in serve_output
    assert "limit request headers" in serve_output
    logged = [json.loads(line) for line in serve_output.splitlines() if line.startswith("{")]
    request_lines = [e for e in logged if e.get("message") == "request"]
    assert {202, 400, 404, 405, 413, 429, 500} <= {e["status"] for e in request_lines}
    assert all(e["request_id"] and e["duration_ms"] is not None for e in request_lines)
    assert "550" in worker_output
    # Only what quotes clients is cut: the master still says where it listens.
    assert f"Listening at: {server.base_url}" in serve_output

    for name, output in (("serve", serve_output), ("worker", worker_output)):
        assert CLIENT_IP not in output, name
        assert EMAIL.findall(output) == [], name
