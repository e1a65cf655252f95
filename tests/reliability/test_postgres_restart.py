"""PostgreSQL stopped and restarted mid-load: while it is down every answer is a 503 (the
problem handler adds Retry-After), and once it is back every request succeeds again.
Runs against a private throwaway cluster, never the shared server."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.checks import assert_nothing_lost_or_doubled
from tests.support.server import free_port

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]
BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


@dataclass
class Cluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        _as_postgres(
            [
                f"{BINARIES[-1]}/pg_ctl",
                "-D",
                str(self.directory / "data"),
                "-o",
                options,
                "-l",
                str(self.directory / "log"),
                "-w",
                "-t",
                "30",
                *args,
            ]
        )


def _as_postgres(args: list[str]) -> None:
    # initdb refuses to run as root; the postgres OS user owns the throwaway cluster.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def private_postgres() -> Iterator[Cluster]:
    if not BINARIES:
        pytest.skip("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are not installed")
    directory = Path(tempfile.mkdtemp(prefix="kommentera-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = Cluster(directory, free_port())
    try:
        _as_postgres(
            [
                f"{BINARIES[-1]}/initdb",
                "-D",
                str(directory / "data"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ]
        )
        cluster.pg_ctl("start")
        yield cluster
    finally:
        subprocess.run(
            [
                *(["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []),
                f"{BINARIES[-1]}/pg_ctl",
                "-D",
                str(directory / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_postgresql_down_gives_only_503_and_the_service_recovers_after_restart(
    private_postgres, start_server, submitters
) -> None:
    server = start_server(private_postgres.url, workers=2)
    clients = submitters([server.base_url], threads=3, per_thread=2000).start()
    _wait_for(lambda: len(clients.accepted()) >= 20, 30)

    private_postgres.pg_ctl("-m", "fast", "stop")
    down_from = time.monotonic()
    time.sleep(1.5)
    down_until = time.monotonic()
    private_postgres.pg_ctl("start")
    back = time.monotonic()
    _wait_for(lambda: any(a.started > back and a.status == 202 for a in clients.answers), 30)
    first_success = min(a.started for a in clients.answers if a.started > back and a.status == 202)
    # Both workers' pools must have recovered: pool_pre_ping replaces the dead connections.
    _wait_for(lambda: sum(a.started > first_success + 1.0 for a in clients.answers) >= 30, 30)
    clients.stop()

    answers = clients.answers
    assert {a.status for a in answers} <= {202, 503}
    while_down = [a.status for a in answers if a.started > down_from and a.ended < down_until]
    assert while_down
    assert set(while_down) == {503}
    after = [a.status for a in answers if a.started > first_success + 1.0]
    assert after
    assert set(after) == {202}
    assert_nothing_lost_or_doubled(private_postgres.url, clients.accepted())
