"""What a new user sees from a real `kommentera serve`: where to go, once it listens."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.builders import metric_sample
from tests.support.server import KOMMENTERA, free_port, server_env, start_server

pytestmark = pytest.mark.e2e


def test_serve_logs_where_to_go_once_it_listens(tmp_path: Path) -> None:
    server = start_server(tmp_path, workers=1)
    server.stop()

    entries = [json.loads(line) for line in server.log_lines()]
    serving = [e for e in entries if e["message"].startswith("Kommentera is serving on")]
    base = server.base_url
    assert [e["message"] for e in serving] == [
        f"Kommentera is serving on {base}/ — demo: {base}/demo/, "
        f"API: {base}/api/v1/openapi.json, health: {base}/healthz"
    ]


def test_serve_prints_where_to_go_as_plain_text_on_a_terminal(tmp_path: Path) -> None:
    port = free_port()
    terminal, their_end = pty.openpty()
    process = subprocess.Popen(
        [KOMMENTERA, "serve", "--host", "0.0.0.0", "--port", str(port), "--workers", "1"],
        env=server_env(f"sqlite:///{tmp_path / 'kommentera.db'}"),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=their_end,
        stderr=their_end,
        start_new_session=True,
    )
    os.close(their_end)
    seen = b""
    plain = []
    try:
        deadline = time.monotonic() + 60
        while not plain and time.monotonic() < deadline:
            if select.select([terminal], [], [], 1)[0]:
                seen += os.read(terminal, 4096)
                lines = seen.decode(errors="replace").splitlines()
                plain = [line for line in lines if line.startswith("Kommentera is serving")]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        os.close(terminal)

    assert plain, seen.decode(errors="replace")
    assert plain[0].startswith(f"Kommentera is serving on http://127.0.0.1:{port}/ — demo: ")


def test_a_metrics_port_serves_metrics_there_and_no_longer_on_the_public_port(
    tmp_path: Path,
) -> None:
    metrics_port = free_port()
    env = server_env(
        f"sqlite:///{tmp_path / 'kommentera.db'}", KOMMENTERA_METRICS_PORT=str(metrics_port)
    )
    server = start_server(tmp_path, env=env)
    try:
        for _ in range(4):  # spread over both workers
            assert requests.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
        public = requests.get(f"{server.base_url}/metrics", timeout=10)
        private = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
    finally:
        server.stop()

    assert public.status_code == 404
    assert private.status_code == 200
    healthz = metric_sample(
        private.text, "kommentera_http_requests_total", method="GET", route="/healthz", status="200"
    )
    assert healthz is not None
    assert healthz >= 4  # the workers' counts, summed
    assert "# TYPE kommentera_comments gauge" in private.text  # the queue depth, too
