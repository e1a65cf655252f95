"""Settings.from_env(): defaults, parsing and errors that name the bad variable."""

from __future__ import annotations

import pytest

from service.config import Settings
from service.errors import ConfigError


def test_defaults_use_an_sqlite_file_under_var() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("/var/kommentera.db")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_variables_are_read_with_the_prefix() -> None:
    settings = Settings.from_env(
        {
            "KOMMENTERA_DATABASE_URL": "postgresql+psycopg://u@db/kommentera",
            "KOMMENTERA_PORT": "9000",
            "KOMMENTERA_WORKERS": "4",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u@db/kommentera"
    assert (settings.port, settings.workers) == (9000, 4)


def test_workers_are_gevent_unless_sync_is_chosen() -> None:
    assert Settings.from_env({}).worker_class == "gevent"
    assert Settings.from_env({"KOMMENTERA_WORKER_CLASS": "sync"}).worker_class == "sync"


def test_outbox_retention_defaults_to_a_week_and_zero_keeps_events_forever() -> None:
    assert Settings.from_env({}).outbox_retention_days == 7
    assert Settings.from_env({"KOMMENTERA_OUTBOX_RETENTION_DAYS": "0"}).outbox_retention_days == 0
    assert Settings.from_env({"KOMMENTERA_OUTBOX_RETENTION_DAYS": "30"}).outbox_retention_days == 30


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KOMMENTERA_DATABASE_URL", "not a url"),
        ("KOMMENTERA_DATABASE_URL", "mysql://x/y"),
        ("KOMMENTERA_PORT", "http"),
        ("KOMMENTERA_PORT", "70000"),
        ("KOMMENTERA_WORKERS", "0"),
        ("KOMMENTERA_WORKER_CLASS", "gthread"),
        ("KOMMENTERA_MAX_REQUEST_BYTES", "-5"),
        ("KOMMENTERA_OUTBOX_RETENTION_DAYS", "-1"),
        ("KOMMENTERA_OUTBOX_RETENTION_DAYS", "a week"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_the_cli_reports_a_bad_variable_and_exits_nonzero(tmp_path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "service", "migrate"],
        env={"KOMMENTERA_PORT": "nope", "PATH": ""},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode != 0
    assert "KOMMENTERA_PORT" in result.stderr
    assert "Traceback" not in result.stderr
