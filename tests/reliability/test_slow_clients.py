"""Slow clients: 200 connections that trickle their request headers, or their body, one
byte at a time must not make anyone else wait. Meanwhile the health check and a JSON
submission are each answered in under a second (with sync workers, 2 such connections were
enough to stall both for the whole 30 s worker timeout)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.builders import comment_payload
from tests.support.server import Server, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

SLOW_CONNECTIONS = 200
BODY_EVERY = 4  # every fourth connection sends whole headers, then its body byte by byte
BYTE_INTERVAL = 0.2  # seconds between two bytes on one connection
PATIENCE = 1.0  # seconds a normal client may wait for an answer
PROBES = 5


def _slow_request(host: str, port: int) -> bytes:
    body = b'{"post_id": "langsam", "name": "Snigel", "body": "' + b"x" * 300 + b'"}'
    return (
        f"POST /api/v1/comments HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@contextlib.contextmanager
def trickling_connections(base_url: str, count: int) -> Iterator[list[socket.socket]]:
    """Open count connections and, from one thread, send each its request one byte per
    BYTE_INTERVAL (every BODY_EVERY-th sends its headers at once and trickles the body)."""
    address = urlsplit(base_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    request = _slow_request(host, port)
    header_end = request.index(b"\r\n\r\n") + 4
    connections = [socket.create_connection((host, port), timeout=5) for _ in range(count)]
    sent = [header_end if i % BODY_EVERY == 0 else 0 for i in range(count)]
    for i, connection in enumerate(connections):
        if sent[i]:
            connection.sendall(request[: sent[i]])
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(BYTE_INTERVAL):
            for i, connection in enumerate(connections):
                # Never the last byte: the request must stay incomplete for the whole test.
                if sent[i] < len(request) - 1:
                    with contextlib.suppress(OSError):
                        connection.sendall(request[sent[i] : sent[i] + 1])
                        sent[i] += 1

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        yield connections
    finally:
        stop.set()
        thread.join()
        for connection in connections:
            connection.close()


def _timed(method: str, url: str, **kwargs: object) -> tuple[float, int | str]:
    """Seconds until the answer, and its status (or the error's name, e.g. ReadTimeout)."""
    started = time.monotonic()
    try:
        status: int | str = requests.request(
            method, url, timeout=2 * PATIENCE, **kwargs
        ).status_code
    except requests.RequestException as error:
        status = type(error).__name__
    return time.monotonic() - started, status


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(f"sqlite:///{tmp_path / 'kommentera.db'}", workers=2) as server:
        yield server


def test_health_and_submissions_answer_within_a_second_while_200_clients_trickle(
    server: Server,
) -> None:
    health, submit = [], []
    with trickling_connections(server.base_url, SLOW_CONNECTIONS):
        time.sleep(2 * BYTE_INTERVAL)  # every slow connection has been accepted and started
        for _ in range(PROBES):
            health.append(_timed("GET", f"{server.base_url}/healthz"))
            body = comment_payload(body=f"Snabb kommentar {uuid.uuid4().hex}")
            submit.append(_timed("POST", f"{server.base_url}/api/v1/comments", json=body))
            if max(took for took, _ in health + submit) >= PATIENCE:
                break  # already failed: keep the failing run short
            time.sleep(BYTE_INTERVAL)

    assert max(took for took, _ in health + submit) < PATIENCE, (health, submit)
    assert [status for _, status in health] == [200] * PROBES, health
    assert [status for _, status in submit] == [202] * PROBES, submit
