"""Start a real `kommentera serve` process on a free port and stop it afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

KOMMENTERA = str(Path(sys.executable).with_name("kommentera"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    base_url: str
    process: subprocess.Popen
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        """Run another `kommentera` command against the same database."""
        return subprocess.run(
            [KOMMENTERA, *args], env=self.env, capture_output=True, text=True, check=True
        ).stdout


def wait_until_up(base_url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            requests.get(f"{base_url}/api/v1/openapi.json", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise TimeoutError(f"{base_url} did not come up in {timeout}s")


@contextmanager
def running_server(
    database_url: str,
    *,
    workers: int = 2,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[Server]:
    port = free_port()
    env = {**os.environ, "KOMMENTERA_DATABASE_URL": database_url, **(extra_env or {})}
    process = subprocess.Popen(
        [
            KOMMENTERA,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, process)
        yield Server(base_url, process, env)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout:
            process.stdout.close()
