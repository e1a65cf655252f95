"""A real `kommentera serve` process for end-to-end tests: free port, captured stderr,
always stopped by the caller's finalizer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 30


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)  # the environment it runs with

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8").splitlines()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def server_env(database_url: str, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMMENTERA_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["KOMMENTERA_DATABASE_URL"] = database_url
    env.update(overrides)
    return env


def start_server(
    tmp_path: Path,
    argv: Sequence[str] | None = None,
    *,
    host: str = "127.0.0.1",
    env: dict[str, str] | None = None,
) -> Server:
    """Start serve (or the given command line) and wait until /healthz answers."""
    port = free_port(host)
    env = dict(env or server_env(f"sqlite:///{tmp_path / 'kommentera.db'}"))
    if argv is None:
        argv = [str(BIN / "kommentera"), "serve", "--host", host, "--port", str(port)]
    else:
        env["KOMMENTERA_PORT"] = str(port)  # a given command line takes its port from env
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(list(argv), env=env, stderr=log, stdout=log, cwd=tmp_path)
    server = Server(process, f"http://{host}:{port}", log_path, extra=env)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text()}")
        try:
            if requests.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start:\n{log_path.read_text()}")
