"""Real `kommentera serve` processes for end-to-end tests: a free port, output captured in
a file, a clean environment, and always stopped (with any orphaned workers) afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

BIN = Path(sys.executable).parent
KOMMENTERA = str(BIN / "kommentera")
STARTUP_SECONDS = 60
# Tests post many comments from one address in quick succession; a test about the flood
# rule or rate limits turns them back on through the overrides.
RULES_OFF = {"KOMMENTERA_FLOOD_SECONDS": "0", "KOMMENTERA_RATE_LIMIT": "0"}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


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


def server_env(database_url: str, **overrides: str) -> dict[str, str]:
    """This environment minus any KOMMENTERA_* of the developer's, plus the database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMMENTERA_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return {**env, "KOMMENTERA_DATABASE_URL": database_url, **RULES_OFF, **overrides}


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        """Run another `kommentera` command against the same database."""
        return subprocess.run(
            [KOMMENTERA, *args], env=self.env, capture_output=True, text=True, check=True
        ).stdout

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_lines(self) -> list[str]:
        return self.log().splitlines()

    def stop(self) -> int:
        """SIGTERM (gunicorn drains in-flight requests); the master's exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=60)
        # Workers orphaned by a killed master, or a master that would not stop.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait()


def _wait_until_up(server: Server, workers: int) -> None:
    """Until /healthz answers and every worker has been forked."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log()}")
        try:
            healthy = requests.get(f"{server.base_url}/healthz", timeout=2).status_code == 200
            if healthy and len(worker_pids(server.process.pid)) >= workers:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or listening while the workers still boot
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start in {STARTUP_SECONDS}s:\n{server.log()}")


def start_server(
    directory: Path,
    argv: Sequence[str] | None = None,
    *,
    host: str = "127.0.0.1",
    env: dict[str, str] | None = None,
    workers: int = 2,
) -> Server:
    """Start `kommentera serve` (or the given command line, which then takes its port from
    KOMMENTERA_PORT) in directory, over a SQLite file there unless env says otherwise."""
    port = free_port(host)
    env = dict(env or server_env(f"sqlite:///{directory / 'kommentera.db'}"))
    if argv is None:
        argv = [KOMMENTERA, "serve", "--host", host, "--port", str(port), "--workers", str(workers)]
    else:
        env["KOMMENTERA_PORT"] = str(port)
    log_path = directory / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(argv),
            env=env,
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so cleanup reaches orphans
        )
    server = Server(process, f"http://{host}:{port}", log_path, env)
    _wait_until_up(server, workers)
    return server


@contextlib.contextmanager
def running_server(
    database_url: str, *, workers: int = 2, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    directory = Path(tempfile.mkdtemp(prefix="kommentera-server-"))
    server = start_server(
        directory, env=server_env(database_url, **(extra_env or {})), workers=workers
    )
    try:
        yield server
    finally:
        server.stop()
