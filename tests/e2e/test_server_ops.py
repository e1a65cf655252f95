"""A real `kommentera serve` (gunicorn, several workers): JSON request logs without
e-mail addresses or full IPs, shared metrics, graceful SIGTERM, delivery inside serve."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from tests.builders import comment_payload
from tests.notifications.receivers import webhook_receiver
from tests.support.server import Server, server_env, start_server

pytestmark = pytest.mark.e2e
CLIENT_IP = "127.0.0.1"
WAIT_SECONDS = 30


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    # Bound to 127.0.0.2 so the client's address (127.0.0.1) appears in no startup line.
    server = start_server(tmp_path, host="127.0.0.2")
    yield server
    server.stop()


def test_each_request_is_one_json_line_without_emails_or_full_client_ips(
    server: Server,
) -> None:
    emails = [f"person{i}@exempel.se" for i in range(5)]
    for email in emails:
        response = requests.post(
            f"{server.base_url}/api/v1/comments", json=comment_payload(email=email), timeout=10
        )
        assert response.status_code == 202
    requests.post(
        f"{server.base_url}/api/v1/comments", json={"email": "bad@exempel.se"}, timeout=10
    )
    traced = requests.get(
        f"{server.base_url}/healthz", headers={"X-Request-ID": "trace-42"}, timeout=10
    )
    assert traced.headers["X-Request-ID"] == "trace-42"
    assert server.stop() == 0

    lines = server.log_lines()
    entries = [json.loads(line) for line in lines]  # every line is JSON
    requests_logged = [e for e in entries if e.get("message") == "request"]
    assert len(requests_logged) >= 7
    for entry in requests_logged:
        assert {"request_id", "method", "route", "status", "duration_ms"} <= entry.keys()
        assert entry["client_network"] == "127.0.0.0"
    assert [e["status"] for e in requests_logged if e["method"] == "POST"] == [202] * 5 + [422]
    assert any(e["request_id"] == "trace-42" and e["route"] == "/healthz" for e in requests_logged)
    text = "\n".join(lines)
    for email in [*emails, "bad@exempel.se"]:
        assert email not in text
    assert "@exempel.se" not in text
    assert CLIENT_IP not in text


def _sample(text: str, prefix: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)
    )


def test_metrics_add_up_across_gunicorn_workers(server: Server) -> None:
    for number in range(12):
        response = requests.post(
            f"{server.base_url}/api/v1/comments",
            json=comment_payload(body=f"Kommentar {number}"),
            timeout=10,
        )
        assert response.status_code == 202
    # Whichever worker answers the scrape, it reports the sum over all workers.
    text = requests.get(f"{server.base_url}/metrics", timeout=10).text
    assert _sample(text, 'kommentera_submissions_total{verdict="pending"}') == 12
    assert _sample(text, 'kommentera_comments{status="pending"}') == 12
    assert (
        _sample(
            text,
            'kommentera_http_requests_total{method="POST",route="/api/v1/comments",status="202"}',
        )
        == 12
    )


def _wait_until_accepted(master_pid: int, client: socket.socket) -> None:
    """Wait until a gunicorn worker (not the kernel's backlog) holds our connection."""
    local_port = client.getsockname()[1]
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        for child in psutil.Process(master_pid).children():
            for connection in child.net_connections(kind="tcp"):
                if connection.raddr and connection.raddr.port == local_port:
                    return
        time.sleep(0.05)
    raise AssertionError("no worker accepted the connection")


def test_sigterm_lets_in_flight_requests_finish_and_exits_cleanly(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        host, port = server.base_url.removeprefix("http://").split(":")
        clients, bodies = [], []
        for number in range(2):  # one in-flight request per worker
            body = json.dumps(comment_payload(body=f"Halvvägs skickad kommentar {number}")).encode()
            bodies.append(body)
            client = socket.create_connection((host, int(port)), timeout=WAIT_SECONDS)
            client.sendall(
                b"POST /api/v1/comments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body[:10]
            )
            _wait_until_accepted(server.process.pid, client)
            clients.append(client)

        server.process.terminate()  # SIGTERM to the master while both requests are open
        responses = []
        for client, body in zip(clients, bodies, strict=True):
            client.sendall(body[10:])
            chunks = []
            while chunk := client.recv(65536):
                chunks.append(chunk)
            client.close()
            responses.append(b"".join(chunks))
        assert server.process.wait(timeout=60) == 0
    finally:
        server.stop()

    for raw in responses:
        head, _, payload = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 202")
        assert json.loads(payload)["status"] == "pending"


def test_serve_can_run_the_delivery_worker_itself(tmp_path: Path) -> None:
    with webhook_receiver("s3cret") as receiver:
        env = server_env(
            f"sqlite:///{tmp_path / 'kommentera.db'}",
            KOMMENTERA_WEBHOOK_URL=receiver.url,
            KOMMENTERA_WEBHOOK_SECRET="s3cret",
            KOMMENTERA_WORKER_IN_SERVE="true",
            KOMMENTERA_WORKER_POLL_SECONDS="1",
        )
        server = start_server(tmp_path, env=env)
        try:
            response = requests.post(
                f"{server.base_url}/api/v1/comments", json=comment_payload(), timeout=10
            )
            assert response.status_code == 202
            deadline = time.monotonic() + WAIT_SECONDS
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            assert server.stop() == 0
    assert [p["comment"]["id"] for p in receiver.received] == [response.json()["id"]]
    assert receiver.bad_signatures == 0
    # Workers and the delivery process stop without a word of traceback.
    assert "Traceback" not in server.log()
    assert "can only join a child process" not in server.log()
