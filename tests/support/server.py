"""Start a real `kommentera serve` process on a free port and stop it afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

KOMMENTERA = str(Path(sys.executable).with_name("kommentera"))
# Tests post many comments from one address in quick succession; a test about the flood
# rule or rate limits turns them back on through extra_env.
RULES_OFF = {"KOMMENTERA_FLOOD_SECONDS": "0", "KOMMENTERA_RATE_LIMIT": "0"}


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers of a master process (its children), read from /proc."""
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    base_url: str
    process: subprocess.Popen
    env: dict[str, str]
    log_path: Path

    def cli(self, *args: str) -> str:
        """Run another `kommentera` command against the same database."""
        return subprocess.run(
            [KOMMENTERA, *args], env=self.env, capture_output=True, text=True, check=True
        ).stdout

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until_up(server: Server, workers: int, timeout: float = 60) -> None:
    """Until it answers and every worker has been forked."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log()}")
        try:
            requests.get(f"{server.base_url}/api/v1/openapi.json", timeout=2)
            if len(worker_pids(server.process.pid)) >= workers:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{server.base_url} did not come up in {timeout}s:\n{server.log()}")


@contextmanager
def running_server(
    database_url: str,
    *,
    workers: int = 2,
    extra_env: dict[str, str] | None = None,
    without_env: tuple[str, ...] = (),
) -> Iterator[Server]:
    """The server's output goes to a file (a pipe nobody reads would block it)."""
    port = free_port()
    env = {**os.environ, "KOMMENTERA_DATABASE_URL": database_url, **RULES_OFF, **(extra_env or {})}
    for name in without_env:
        env.pop(name, None)
    log_path = Path(tempfile.mkdtemp(prefix="kommentera-server-")) / "server.log"
    with log_path.open("wb") as log:
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
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so cleanup reaches orphans
        )
    server = Server(f"http://127.0.0.1:{port}", process, env, log_path)
    try:
        wait_until_up(server, workers)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        # Workers orphaned by a killed master, or a master that would not stop.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
