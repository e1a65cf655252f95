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
from service.origins import parse_origin

PREFIX = "KOMMENTERA_"
LANGUAGES = ("en", "sv")


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


def _origins(raw: str) -> tuple[str, ...]:
    origins = []
    for item in raw.split(","):
        if item.strip():
            origin = parse_origin(item.strip())
            if origin is None:
                raise ValueError(f"{item.strip()!r} is not an origin like https://blogg.exempel.se")
            origins.append(origin)
    return tuple(dict.fromkeys(origins))


def _language(raw: str) -> str:
    if raw not in LANGUAGES:
        raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
    return raw


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

    # Classic HTML form posting, languages and CORS (docs/forms.md).
    allowed_origins: tuple[str, ...] = field(
        default=(),
        metadata=_setting(
            "ALLOWED_ORIGINS",
            _origins,
            "comma-separated blog origins allowed as form redirect targets and CORS origins",
        ),
    )
    default_language: str = field(
        default="en",
        metadata=_setting("DEFAULT_LANGUAGE", _language, "language when the browser names none"),
    )
    secret_key: str | None = field(
        default=None,
        metadata=_setting(
            "SECRET_KEY", _text, "key signing moderation receipts (default: one kept in the DB)"
        ),
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
