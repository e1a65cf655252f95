"""Settings.from_env(): defaults, parsing and errors that name the bad variable."""

from __future__ import annotations

import re
from dataclasses import fields

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


SECRETS = {
    "database_url": "postgresql+psycopg://kommentera:db-Pa55word@db.internal:5432/kommentera",
    "secret_key": "receipt-signing-key",
    "rate_limit_storage": "redis://:redis-Pa55word@cache.internal:6379/0",
    "webhook_url": "https://hooks.chat.example/services/T0/B0/webhook-token?key=query-token",
    "webhook_secret": "webhook-hmac-key",
    "smtp_password": "smtp-Pa55word",
}


@pytest.mark.parametrize("show", [repr, str])
def test_repr_hides_secrets_but_shows_where_things_are(show) -> None:
    shown = show(Settings(**SECRETS))
    for secret in ("db-Pa55word", "receipt-signing-key", "redis-Pa55word", "webhook-token"):
        assert secret not in shown
    for secret in ("query-token", "webhook-hmac-key", "smtp-Pa55word"):
        assert secret not in shown
    assert "database_url='postgresql+psycopg://kommentera:***@db.internal:5432/kommentera'" in shown
    assert "rate_limit_storage='redis://:***@cache.internal:6379/0'" in shown
    assert "webhook_url='https://hooks.chat.example/***'" in shown
    assert "secret_key='***'" in shown
    assert "smtp_password='***'" in shown


def test_repr_says_whether_a_secret_is_set_and_shows_urls_without_one_as_they_are() -> None:
    shown = repr(Settings(database_url="sqlite:////srv/k.db", webhook_url="https://h.example"))
    assert "secret_key=None" in shown
    assert "smtp_password=''" in shown
    assert "database_url='sqlite:////srv/k.db'" in shown
    assert "webhook_url='https://h.example/'" in shown
    assert "rate_limit_storage='memory://'" in shown


def test_every_secret_looking_setting_is_hidden_in_repr() -> None:
    """A new KOMMENTERA_*_SECRET, _PASSWORD, _TOKEN or _KEY cannot be added shown in clear."""
    names = [f.name for f in fields(Settings) if re.search("secret|password|token|key", f.name)]
    assert len(names) >= 3
    shown = repr(Settings(**dict.fromkeys(names, "sentinel-value")))
    assert "sentinel-value" not in shown


def test_post_url_fills_in_the_post_id_percent_encoded() -> None:
    settings = Settings.from_env(
        {"KOMMENTERA_POST_URL_TEMPLATE": "https://blogg.exempel.se/?p={post_id}"}
    )
    assert settings.post_url("42") == "https://blogg.exempel.se/?p=42"
    assert settings.post_url("a/../b?c#d") == "https://blogg.exempel.se/?p=a%2F..%2Fb%3Fc%23d"
    assert Settings().post_url("42") is None


@pytest.mark.parametrize(
    "template",
    [
        "https://blogg.exempel.se/",
        "/?p={post_id}",
        "javascript:{post_id}",
        "https://x/{post_id}/{post_id}",
    ],
)
def test_post_url_template_must_be_an_http_url_with_one_placeholder(template: str) -> None:
    with pytest.raises(ConfigError, match="KOMMENTERA_POST_URL_TEMPLATE"):
        Settings.from_env({"KOMMENTERA_POST_URL_TEMPLATE": template})
