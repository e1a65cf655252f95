"""kill -9 of a gunicorn worker and then of the master while clients submit: every comment
that was answered 2xx is stored, and none twice."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.reliability.checks import assert_nothing_lost_or_doubled
from tests.support.server import worker_pids

pytestmark = pytest.mark.reliability


def _wait_for_accepted(submitters, at_least: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while len(submitters.accepted()) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)


def test_kill_9_of_a_worker_then_the_master_loses_no_accepted_comment(
    database_url, start_server, submitters
) -> None:
    server = start_server(database_url, workers=2)
    clients = submitters([server.base_url], threads=4, per_thread=400).start()

    _wait_for_accepted(clients, 20)
    os.kill(worker_pids(server.process.pid)[0], signal.SIGKILL)
    _wait_for_accepted(clients, len(clients.accepted()) + 20)
    os.kill(server.process.pid, signal.SIGKILL)
    time.sleep(0.5)
    clients.stop()
    os.killpg(server.process.pid, signal.SIGKILL)  # workers orphaned by the master

    accepted = clients.accepted()
    assert len(accepted) >= 40
    assert all(a.status in (0, 202) for a in clients.answers)
    assert_nothing_lost_or_doubled(database_url, accepted)
