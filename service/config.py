"""Settings.from_env(): every KOMMENTERA_* variable the service reads, parsed and validated.

Nothing else in the code base reads the environment, so this module is the complete list
(docs/operations.md documents it and a test holds the two together).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from service.errors import ConfigError

PREFIX = "KOMMENTERA_"


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'var' / 'kommentera.db'}"


def _database_url(raw: str) -> str:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValueError("not a database URL (e.g. sqlite:///var/kommentera.db)") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError("only sqlite:// and postgresql+psycopg:// URLs are supported")
    return raw


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be a whole number of at least 1")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be a whole number, 0 or more")
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 65535:
        raise ValueError("must be a port number between 1 and 65535")
    return value


def _text(raw: str) -> str:
    return raw


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _http_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return raw


def _address_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return level


def _setting(env: str, parse: Callable[[str], Any], doc: str) -> dict[str, Any]:
    return {"env": env, "parse": parse, "doc": doc}


@dataclass(frozen=True)
class Settings:
    """Validated configuration; build it with from_env() or directly in tests."""

    database_url: str = field(
        default_factory=default_database_url,
        metadata=_setting("DATABASE_URL", _database_url, "SQLAlchemy URL of the database"),
    )
    host: str = field(
        default="127.0.0.1", metadata=_setting("HOST", _text, "address `serve` binds to")
    )
    port: int = field(default=8000, metadata=_setting("PORT", _port, "port `serve` binds to"))
    workers: int = field(
        default=2, metadata=_setting("WORKERS", _positive_int, "gunicorn worker processes")
    )
    max_request_bytes: int = field(
        default=512 * 1024,
        metadata=_setting("MAX_REQUEST_BYTES", _positive_int, "largest accepted request body"),
    )
    db_pool_size: int = field(
        default=5, metadata=_setting("DB_POOL_SIZE", _positive_int, "PostgreSQL pool per worker")
    )
    sqlite_busy_timeout_ms: int = field(
        default=10_000,
        metadata=_setting(
            "SQLITE_BUSY_TIMEOUT_MS", _non_negative_int, "how long a SQLite writer waits"
        ),
    )

    # Operations and notifications (issue 5): webhook, moderator e-mail, delivery worker.
    webhook_url: str = field(
        default="",
        metadata=_setting("WEBHOOK_URL", _http_url, "where events are POSTed (off if empty)"),
    )
    webhook_secret: str = field(
        default="",
        metadata=_setting("WEBHOOK_SECRET", _text, "HMAC-SHA256 key signing webhook bodies"),
    )
    webhook_include_private: bool = field(
        default=False,
        metadata=_setting(
            "WEBHOOK_INCLUDE_PRIVATE", _boolean, "include commenter e-mail and IP in webhooks"
        ),
    )
    webhook_timeout_seconds: int = field(
        default=10,
        metadata=_setting("WEBHOOK_TIMEOUT_SECONDS", _positive_int, "timeout of one delivery"),
    )
    delivery_max_attempts: int = field(
        default=8,
        metadata=_setting(
            "DELIVERY_MAX_ATTEMPTS", _positive_int, "attempts before an event is marked failed"
        ),
    )
    delivery_backoff_seconds: int = field(
        default=30,
        metadata=_setting(
            "DELIVERY_BACKOFF_SECONDS", _positive_int, "first retry delay; doubles per attempt"
        ),
    )
    worker_poll_seconds: int = field(
        default=2,
        metadata=_setting("WORKER_POLL_SECONDS", _positive_int, "how often the worker looks"),
    )
    worker_in_serve: bool = field(
        default=False,
        metadata=_setting(
            "WORKER_IN_SERVE", _boolean, "run the delivery worker inside `serve`"
        ),
    )
    smtp_host: str = field(
        default="", metadata=_setting("SMTP_HOST", _text, "SMTP server (e-mail off if empty)")
    )
    smtp_port: int = field(default=587, metadata=_setting("SMTP_PORT", _port, "SMTP port"))
    smtp_username: str = field(
        default="", metadata=_setting("SMTP_USERNAME", _text, "SMTP login (none if empty)")
    )
    smtp_password: str = field(
        default="", metadata=_setting("SMTP_PASSWORD", _text, "SMTP password")
    )
    smtp_starttls: bool = field(
        default=True, metadata=_setting("SMTP_STARTTLS", _boolean, "upgrade with STARTTLS")
    )
    mail_from: str = field(
        default="kommentera@localhost",
        metadata=_setting("MAIL_FROM", _text, "sender of moderator e-mails"),
    )
    moderator_emails: tuple[str, ...] = field(
        default=(),
        metadata=_setting(
            "MODERATOR_EMAILS", _address_list, "comma-separated recipients of held-comment mail"
        ),
    )
    log_level: str = field(
        default="INFO", metadata=_setting("LOG_LEVEL", _log_level, "DEBUG, INFO, WARNING, ERROR")
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from the environment; raise ConfigError naming a bad variable."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in fields(cls):
            name = PREFIX + setting.metadata["env"]
            raw = environ.get(name, "").strip()
            if not raw:
                continue
            try:
                values[setting.name] = setting.metadata["parse"](raw)
            except ValueError as error:
                reason = str(error) if "invalid literal" not in str(error) else "not a number"
                raise ConfigError(f"{name}={raw!r} is invalid: {reason}") from None
        return cls(**values)

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Every environment variable read, with its meaning (for docs and their test)."""
        return {PREFIX + f.metadata["env"]: f.metadata["doc"] for f in fields(cls)}
