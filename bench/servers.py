"""Start and stop the benchmark targets (Kommentera, Isso, the Flask ceiling) as gunicorn
processes on 127.0.0.1, and read their CPU time and peak memory from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
ISSO_VENV = BENCH / ".venv-isso"
# Same gunicorn settings for every target: 2 sync workers, no access log.
WORKERS = 2
GUNICORN_ARGS = ["-w", str(WORKERS), "-k", "sync", "--timeout", "30", "--log-level", "warning"]
# The rules issue's limits would throttle a load test; 0 switches each off.
RULES_OFF = {
    "KOMMENTERA_FLOOD_SECONDS": "0",
    "KOMMENTERA_RATE_LIMIT": "0",
    "KOMMENTERA_MAX_LINKS": "0",
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
LOGS = BENCH / "results" / "logs"
ISSO_CFG = """[general]
dbpath = {db}
host = http://127.0.0.1:9/
notify = stdout
[moderation]
enabled = true
[guard]
enabled = false
[hash]
salt = bench
algorithm = pbkdf2
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


@dataclass
class Server:
    name: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, health_path: str) -> Server:
        env = {**os.environ, **RULES_OFF, **self.env}
        args = [a.replace("{port}", str(self.port)) for a in self.args]
        LOGS.mkdir(parents=True, exist_ok=True)
        log = open(LOGS / f"{self.name}-{self.port}.log", "ab")  # noqa: SIM115 - lives with the process
        self.process = subprocess.Popen(
            args, env=env, cwd=BENCH, start_new_session=True, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{self.name} exited with {self.process.returncode}")
            if len(self.workers()) >= WORKERS and _answers(self.port, health_path):
                return self
            time.sleep(0.2)
        self.stop()
        sys.exit(f"{self.name} did not start on port {self.port}")

    def workers(self) -> list[int]:
        return _children(self.process.pid) if self.process else []

    def cpu_seconds(self) -> float:
        """CPU time of the master and its workers so far (the steadiest load figure)."""
        pids = [self.process.pid, *self.workers()]
        return sum(_cpu_ticks(pid) for pid in pids) / CLOCK_TICKS

    def peak_rss_mb(self) -> list[float]:
        """VmHWM (peak resident set) of each worker, in MB."""
        peaks = []
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return peaks

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _answers(port: int, path: str) -> bool:
    import http.client

    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", path)
        return connection.getresponse().status < 500
    except OSError:
        return False


def kommentera(database_url: str, worker_class: str = "gevent") -> Server:
    """`kommentera serve`; worker_class "sync" is the worker model before gevent, kept as a
    target so the two are measured side by side."""
    env = {
        "KOMMENTERA_DATABASE_URL": database_url,
        "KOMMENTERA_WORKERS": str(WORKERS),
        "KOMMENTERA_WORKER_CLASS": worker_class,
    }
    name = "kommentera" if worker_class == "gevent" else f"kommentera-{worker_class}"
    return Server(name, [str(REPO / ".venv/bin/kommentera"), "serve", "--port", "{port}"], env)


def create_token(database_url: str) -> str:
    env = {**os.environ, **RULES_OFF, "KOMMENTERA_DATABASE_URL": database_url}
    name = f"bench-{time.time_ns()}"
    return subprocess.run(
        [str(REPO / ".venv/bin/kommentera"), "tokens", "create", name],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def ensure_isso() -> None:
    """Isso lives in its own venv so its dependencies never mix with ours."""
    if not (ISSO_VENV / "bin" / "gunicorn").exists():
        subprocess.run([sys.executable, "-m", "venv", str(ISSO_VENV)], check=True)
        pip = [str(ISSO_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "isso", "gunicorn"], check=True)


def isso(workdir: Path) -> Server:
    ensure_isso()
    config = workdir / "isso.cfg"
    config.write_text(ISSO_CFG.format(db=workdir / "isso.db"))
    args = [str(ISSO_VENV / "bin/gunicorn"), *GUNICORN_ARGS, "-b", "127.0.0.1:{port}", "isso.run"]
    return Server("isso", args, {"ISSO_SETTINGS": str(config)})


def ceiling() -> Server:
    args = [
        str(REPO / ".venv/bin/gunicorn"),
        *GUNICORN_ARGS,
        "-b",
        "127.0.0.1:{port}",
        "ceiling_app:app",
    ]
    return Server("ceiling", args)
