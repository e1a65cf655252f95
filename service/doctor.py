"""`kommentera doctor`: checks a set-up the way the service will use it (configuration,
database and migration level, proxies, SMTP login, webhook reachability, the database
file's permissions) and says, for each, that it is fine or what to fix."""

from __future__ import annotations

import smtplib
import socket
import ssl
import stat
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from service import db
from service.config import Settings
from service.errors import ConfigError
from service.notifications import worker

# A doctor waits briefly: a server that does not answer in this time is reported, not waited for.
TIMEOUT_SECONDS = 5


class Verdict(StrEnum):
    OK = "OK"
    WARN = "WARN"  # works, but probably not what is wanted
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    topic: str
    verdict: Verdict
    detail: str

    def line(self) -> str:
        return f"{self.verdict:<4}  {self.topic}: {self.detail}"


def examine(environ: dict[str, str] | None = None) -> Iterator[Finding]:
    """Every check in turn; without a valid configuration there is nothing more to check."""
    try:
        settings = Settings.from_env(environ)
        worker.check_settings(settings)
    except ConfigError as error:
        yield Finding("configuration", Verdict.FAIL, f"{error}; fix it and run doctor again")
        return
    yield Finding("configuration", Verdict.OK, "every KOMMENTERA_* variable is valid")
    engine = db.create_db_engine(settings)
    try:
        yield check_database(engine)
        yield check_database_file(engine)
    finally:
        engine.dispose()
    yield check_proxies(settings)
    yield check_smtp(settings)
    yield check_webhook(settings)


def check_database(engine: Engine) -> Finding:
    try:
        db.require_current_schema(engine)
    except db.DatabaseSetupError as error:
        return Finding("database", Verdict.FAIL, str(error))
    head = ScriptDirectory.from_config(db.alembic_config(engine)).get_current_head()
    where = db.sqlite_path(engine) or engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:  # went away between the two looks
        return Finding("database", Verdict.FAIL, f"{where}: {type(error).__name__}")
    return Finding(
        "database", Verdict.OK, f"{where} is at migration {current} (the latest, {head})"
    )


def check_database_file(engine: Engine) -> Finding:
    """The SQLite file holds commenters' e-mail addresses and the receipt-signing key."""
    path = db.sqlite_path(engine)
    if path is None:
        return Finding("database file", Verdict.OK, "not a local file (nothing to check)")
    if not path.exists():
        return Finding("database file", Verdict.OK, f"{path} does not exist yet")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & stat.S_IRWXO:
        return Finding(
            "database file",
            Verdict.WARN,
            f"{path} is readable by every user of this machine (mode {mode:o}), and it holds "
            f"e-mail addresses and the receipt-signing key: chmod o-rwx {path}",
        )
    return Finding("database file", Verdict.OK, f"{path} is not open to other users")


def check_proxies(settings: Settings) -> Finding:
    # The service does not keep the headers it sees, so this states the setting and what it
    # means; /api/v1/moderation/comments shows the IPs actually recorded.
    if settings.trusted_proxies:
        return Finding(
            "proxies",
            Verdict.OK,
            f"KOMMENTERA_TRUSTED_PROXIES={settings.trusted_proxies}: the client IP is taken from "
            "X-Forwarded-For that many hops back. Only right if exactly that many proxies sit "
            "in front, or clients can choose their own IP; check that held comments show "
            "readers' IPs, not the proxy's",
        )
    return Finding(
        "proxies",
        Verdict.OK,
        "KOMMENTERA_TRUSTED_PROXIES=0: the client IP is the connection's. Behind a reverse "
        "proxy every comment would carry the proxy's IP (and share one flood and rate budget): "
        "then set it to the number of proxies",
    )


def check_smtp(settings: Settings) -> Finding:
    if not settings.smtp_host:
        if settings.moderator_emails:
            return Finding(
                "e-mail",
                Verdict.FAIL,
                "KOMMENTERA_MODERATOR_EMAILS is set but KOMMENTERA_SMTP_HOST is empty: "
                "nobody is mailed; set the SMTP server",
            )
        return Finding("e-mail", Verdict.OK, "off (KOMMENTERA_SMTP_HOST is empty)")
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
    except smtplib.SMTPAuthenticationError:
        return Finding(
            "e-mail",
            Verdict.FAIL,
            f"{server} refused the login of {settings.smtp_username!r}: "
            "check KOMMENTERA_SMTP_USERNAME and KOMMENTERA_SMTP_PASSWORD",
        )
    except (smtplib.SMTPException, ssl.SSLError, OSError) as error:
        return Finding(
            "e-mail",
            Verdict.FAIL,
            f"cannot talk to {server} ({_reason(error)}): check KOMMENTERA_SMTP_HOST, "
            "KOMMENTERA_SMTP_PORT and KOMMENTERA_SMTP_STARTTLS",
        )
    if not settings.moderator_emails:
        return Finding(
            "e-mail",
            Verdict.FAIL,
            f"{server} works but KOMMENTERA_MODERATOR_EMAILS is empty: nobody is mailed",
        )
    logged_in = f", logged in as {settings.smtp_username!r}" if settings.smtp_username else ""
    return Finding("e-mail", Verdict.OK, f"{server} answers{logged_in}")


def check_webhook(settings: Settings) -> Finding:
    if not settings.webhook_url:
        return Finding("webhook", Verdict.OK, "off (KOMMENTERA_WEBHOOK_URL is empty)")
    # A HEAD, not an event: the receiver must not act on a check. Any HTTP answer, even
    # 405, shows the URL is reachable; deliveries are signed POSTs.
    probe = urllib.request.Request(settings.webhook_url, method="HEAD")  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(probe, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        return Finding(
            "webhook",
            Verdict.FAIL,
            f"{settings.webhook_url} is not reachable ({_reason(error)}): check "
            "KOMMENTERA_WEBHOOK_URL and that the receiver runs",
        )
    return Finding("webhook", Verdict.OK, f"{settings.webhook_url} answers (HTTP {status})")


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and not isinstance(error.reason, str):
        error = error.reason
    if isinstance(error, socket.timeout | TimeoutError):
        return f"no answer in {TIMEOUT_SECONDS} s"
    return str(error) or type(error).__name__
