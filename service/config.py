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
from urllib.parse import quote, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from service.errors import ConfigError
from service.origins import origin_of, parse_origin

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


def _port_or_off(raw: str) -> int:
    return 0 if raw == "0" else _port(raw)


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


def _public_url(raw: str) -> str:
    """An absolute http(s) URL, perhaps with a path prefix; kept without its trailing slash
    so a route's path can be appended."""
    url = raw.rstrip("/")
    if origin_of(url) is None or "?" in url or "#" in url:
        raise ValueError("not an http(s) URL like https://kommentarer.exempel.se")
    return url


def _post_url_template(raw: str) -> str:
    """An absolute http(s) URL with one `{post_id}` placeholder, e.g. the blog's
    https://blogg.exempel.se/?p={post_id}."""
    if raw.count("{post_id}") != 1 or origin_of(raw.replace("{post_id}", "x")) is None:
        raise ValueError(
            "not an http(s) URL with {post_id} in it, like https://blogg.exempel.se/?p={post_id}"
        )
    return raw


def _frame_ancestors(raw: str) -> tuple[str, ...]:
    """CSP frame-ancestors sources: 'none', or 'self' plus the given origins."""
    if raw.lower() == "none":
        return ("'none'",)
    return ("'self'", *_origins(raw))


def _language(raw: str) -> str:
    if raw not in LANGUAGES:
        raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
    return raw


def _rate_limit(raw: str) -> str:
    """A Flask-Limiter rate such as "20/minute" or "100 per hour"; "0" switches it off."""
    if raw in ("0", "off"):
        return "0"
    from limits import parse_many  # only needed when a limit is configured

    try:
        parse_many(raw)
    except ValueError:
        raise ValueError('not a rate limit (e.g. "20/minute"; "0" switches it off)') from None
    return raw


def _limit_storage(raw: str) -> str:
    if raw.split("://", 1)[0] not in ("memory", "redis", "rediss", "redis+unix"):
        raise ValueError("must be memory:// or a redis:// URL")
    return raw


def _flag(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _comma_separated(raw: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in raw.split(",") if word.strip())


def _disallowed_action(raw: str) -> str:
    if raw not in ("spam", "trash"):
        raise ValueError("must be spam or trash")
    return raw


def _existing_file(raw: str) -> str:
    if not Path(raw).is_file():
        raise ValueError("no such file")
    return raw


def _http_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return raw


def _worker_class(raw: str) -> str:
    if raw not in ("gevent", "sync"):
        raise ValueError("must be gevent or sync")
    return raw


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return level


HIDDEN = "***"


def _hidden(value: object) -> str:
    """A secret's repr: whether it is set, never its value."""
    return repr(HIDDEN) if value else repr(value)


def _without_password(url: str) -> str:
    """A URL's repr with the password of its user part hidden."""
    parts = urlsplit(url)
    if parts.password is None:
        return repr(url)
    user_part, _, host_part = parts.netloc.rpartition("@")
    user = user_part.partition(":")[0]
    return repr(parts._replace(netloc=f"{user}:{HIDDEN}@{host_part}").geturl())


def _origin_only(url: str) -> str:
    """A URL's repr down to its scheme and host: a webhook's path is often its token."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    if not host:
        return repr(url)
    rest = HIDDEN if parts.path.strip("/") or parts.query or parts.fragment else ""
    return repr(f"{parts.scheme}://{host}/{rest}")


def _setting(
    env: str, parse: Callable[[str], Any], doc: str, shown: Callable[[Any], str] = repr
) -> dict[str, Any]:
    """A field's metadata: its variable, parser, documentation and how repr() shows it."""
    return {"env": env, "parse": parse, "doc": doc, "shown": shown}


@dataclass(frozen=True, repr=False)
class Settings:
    """Validated configuration; build it with from_env() or directly in tests."""

    database_url: str = field(
        default_factory=default_database_url,
        metadata=_setting(
            "DATABASE_URL", _database_url, "SQLAlchemy URL of the database", _without_password
        ),
    )
    host: str = field(
        default="127.0.0.1", metadata=_setting("HOST", _text, "address `serve` binds to")
    )
    port: int = field(default=8000, metadata=_setting("PORT", _port, "port `serve` binds to"))
    workers: int = field(
        default=2, metadata=_setting("WORKERS", _positive_int, "gunicorn worker processes")
    )
    worker_class: str = field(
        default="gevent",
        metadata=_setting(
            "WORKER_CLASS",
            _worker_class,
            "gunicorn worker: gevent, or sync behind a buffering proxy",
        ),
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
    public_url: str = field(
        default="",
        metadata=_setting(
            "PUBLIC_URL", _public_url, "Kommentera's own URL: its origin and links' base"
        ),
    )
    post_url_template: str = field(
        default="",
        metadata=_setting(
            "POST_URL_TEMPLATE",
            _post_url_template,
            "the blog's address of a post, with {post_id} standing for the thread's post id",
        ),
    )
    default_language: str = field(
        default="en",
        metadata=_setting("DEFAULT_LANGUAGE", _language, "language when the browser names none"),
    )
    secret_key: str | None = field(
        default=None,
        metadata=_setting(
            "SECRET_KEY",
            _text,
            "key signing moderation receipts (default: one kept in the DB)",
            _hidden,
        ),
    )
    frame_ancestors: tuple[str, ...] = field(
        default=(),
        metadata=_setting(
            "FRAME_ANCESTORS",
            _frame_ancestors,
            "origins that may frame the HTML pages, or none (default: the allowed origins)",
        ),
    )

    # Moderation rules and spam defences (docs/rules.md)
    close_after_days: int = field(
        default=0,
        metadata=_setting(
            "CLOSE_AFTER_DAYS",
            _non_negative_int,
            "close threads this long after their first comment (0 = never)",
        ),
    )
    flood_seconds: int = field(
        default=15,
        metadata=_setting(
            "FLOOD_SECONDS",
            _non_negative_int,
            "minimum gap between comments per IP or e-mail (0 = off)",
        ),
    )
    rate_limit: str = field(
        default="20/minute",
        metadata=_setting("RATE_LIMIT", _rate_limit, "per-IP limit on write requests (0 = off)"),
    )
    rate_limit_storage: str = field(
        default="memory://",
        metadata=_setting(
            "RATE_LIMIT_STORAGE",
            _limit_storage,
            "rate-limit counters: memory:// or redis://...",
            _without_password,
        ),
    )
    trusted_proxies: int = field(
        default=0,
        metadata=_setting(
            "TRUSTED_PROXIES", _non_negative_int, "proxy hops whose X-Forwarded-For is trusted"
        ),
    )
    honeypot_field: str = field(
        default="", metadata=_setting("HONEYPOT_FIELD", _text, "hidden form field bots fill in")
    )
    disallowed_words: tuple[str, ...] = field(
        default=(),
        metadata=_setting(
            "DISALLOWED_WORDS", _comma_separated, "comma-separated words/IPs that mean spam"
        ),
    )
    disallowed_action: str = field(
        default="spam",
        metadata=_setting(
            "DISALLOWED_ACTION", _disallowed_action, "status for disallowed words: spam or trash"
        ),
    )
    moderation_words: tuple[str, ...] = field(
        default=(),
        metadata=_setting(
            "MODERATION_WORDS", _comma_separated, "comma-separated words that hold a comment"
        ),
    )
    max_links: int = field(
        default=2,
        metadata=_setting(
            "MAX_LINKS", _non_negative_int, "hold comments with this many links (0 = off)"
        ),
    )
    blocked_emails: tuple[str, ...] = field(
        default=(),
        metadata=_setting(
            "BLOCKED_EMAILS", _comma_separated, "comma-separated e-mails or @domains: spam"
        ),
    )
    blocked_ips: tuple[str, ...] = field(
        default=(),
        metadata=_setting(
            "BLOCKED_IPS", _comma_separated, "comma-separated IPs or CIDR networks: spam"
        ),
    )
    max_depth: int = field(
        default=5,
        metadata=_setting("MAX_DEPTH", _non_negative_int, "deepest reply level accepted (0 = off)"),
    )
    auto_approve_known_authors: bool = field(
        default=False,
        metadata=_setting(
            "AUTO_APPROVE_KNOWN_AUTHORS", _flag, "publish at once for authors approved before"
        ),
    )
    rules_file: str = field(
        default="",
        metadata=_setting("RULES_FILE", _existing_file, "TOML file with long word lists"),
    )

    # Operations and notifications: webhook, moderator e-mail, delivery worker.
    webhook_url: str = field(
        default="",
        metadata=_setting(
            "WEBHOOK_URL", _http_url, "where events are POSTed (off if empty)", _origin_only
        ),
    )
    webhook_secret: str = field(
        default="",
        metadata=_setting(
            "WEBHOOK_SECRET", _text, "HMAC-SHA256 key signing webhook bodies", _hidden
        ),
    )
    webhook_include_private: bool = field(
        default=False,
        metadata=_setting(
            "WEBHOOK_INCLUDE_PRIVATE", _flag, "include commenter e-mail and IP in webhooks"
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
    outbox_retention_days: int = field(
        default=7,
        metadata=_setting(
            "OUTBOX_RETENTION_DAYS",
            _non_negative_int,
            "days delivered and failed events are kept (0 = forever)",
        ),
    )
    worker_in_serve: bool = field(
        default=False,
        metadata=_setting("WORKER_IN_SERVE", _flag, "run the delivery worker inside `serve`"),
    )
    smtp_host: str = field(
        default="", metadata=_setting("SMTP_HOST", _text, "SMTP server (e-mail off if empty)")
    )
    smtp_port: int = field(default=587, metadata=_setting("SMTP_PORT", _port, "SMTP port"))
    smtp_username: str = field(
        default="", metadata=_setting("SMTP_USERNAME", _text, "SMTP login (none if empty)")
    )
    smtp_password: str = field(
        default="", metadata=_setting("SMTP_PASSWORD", _text, "SMTP password", _hidden)
    )
    smtp_starttls: bool = field(
        default=True, metadata=_setting("SMTP_STARTTLS", _flag, "upgrade with STARTTLS")
    )
    mail_from: str = field(
        default="kommentera@localhost",
        metadata=_setting("MAIL_FROM", _text, "sender of moderator e-mails"),
    )
    moderator_emails: tuple[str, ...] = field(
        default=(),
        metadata=_setting(
            "MODERATOR_EMAILS", _comma_separated, "comma-separated recipients of held-comment mail"
        ),
    )
    log_level: str = field(
        default="INFO", metadata=_setting("LOG_LEVEL", _log_level, "DEBUG, INFO, WARNING, ERROR")
    )
    metrics_port: int = field(
        default=0,
        metadata=_setting(
            "METRICS_PORT", _port_or_off, "serve /metrics on this port only (0 = on the public one)"
        ),
    )

    def post_url(self, post_id: str) -> str | None:
        """The blog's address of a post through KOMMENTERA_POST_URL_TEMPLATE, or None when
        it is not set. The id is percent-encoded, so it cannot add a path, query or host."""
        if not self.post_url_template:
            return None
        return self.post_url_template.replace("{post_id}", quote(post_id, safe=""))

    def __repr__(self) -> str:
        shown = (f"{f.name}={f.metadata['shown'](getattr(self, f.name))}" for f in fields(self))
        return f"Settings({', '.join(shown)})"

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
