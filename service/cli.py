"""The `kommentera` command: serve, migrate, worker, outbox, tokens and rules. Each command
runs against a fully configured app, built only when the command runs (so `--help` starts
nothing), and only our own commands and options are offered."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, ScriptInfo
from gunicorn.app.base import BaseApplication
from sqlalchemy.exc import OperationalError

from service import app_state, db, doctor, logs
from service.app import create_app
from service.comments.replay import replay
from service.config import Settings
from service.errors import ConfigError
from service.models import Role, utcnow
from service.moderators import (
    TokenNameError,
    create_token,
    list_moderators,
    revoke_token,
    rotate_token,
)
from service.notifications import worker
from service.web import metrics

log = logging.getLogger(__name__)
# How long a stopping worker may finish requests in flight; every deploy example gives the
# container a longer stop grace period than this (docs/deploy.md, a test holds them).
GRACEFUL_TIMEOUT_SECONDS = 30


def _create_app_from_env() -> Flask:
    try:
        return create_app(Settings.from_env())
    except ConfigError as error:
        raise click.ClickException(f"configuration error: {error}") from None


# Not FlaskGroup: that one adds Flask's --app/--env-file/--debug options and every installed
# extension's commands, and builds the app just to list them.
class _Commands(AppGroup):
    """Our command group: an expected failure ends in one line saying what to do."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except db.DatabaseSetupError as error:
            raise click.ClickException(str(error)) from None
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0]
            raise click.ClickException(
                f"database error: {reason} (`kommentera doctor` checks the set-up)"
            ) from None


cli = _Commands(
    name="kommentera",
    help="Kommentera: self-hosted comment moderation.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _migrated_database() -> db.Database:
    """The app's database, for commands that use it but never create it."""
    found = db.database()
    db.require_current_schema(found.engine)
    return found


@cli.command("doctor", with_appcontext=False)
def doctor_command() -> None:
    """Check the set-up: configuration, database and migration level, proxies, SMTP login,
    webhook reachability, database file permissions. Exits non-zero if anything fails."""
    failed = False
    for finding in doctor.examine():
        click.echo(finding.line())
        failed = failed or finding.verdict is doctor.Verdict.FAIL
    if failed:
        raise click.exceptions.Exit(1)


@cli.command("migrate")
def migrate_command() -> None:
    """Apply pending database migrations."""
    db.upgrade(db.database().engine)
    click.echo("database is at the latest migration", err=True)


class _Gunicorn(BaseApplication):
    """Runs the app under gunicorn; each worker builds its own app (and engine) after fork."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(key, value)

    # gunicorn's stubs type the WSGI environ as any MutableMapping, Flask's as a dict; gunicorn
    # passes a dict.
    def load(self) -> Flask:  # type: ignore[override]
        settings = Settings.from_env()
        if settings.worker_class == "gevent":
            # Runs in the worker, after gevent has monkey-patched the standard library.
            db.cooperate_with_gevent()
        return create_app(settings)


def _metrics_directory() -> tuple[Path, bool]:
    """The operator's PROMETHEUS_MULTIPROC_DIR, or a fresh temporary one we remove."""
    configured = os.environ.get(metrics.MULTIPROC_ENV)
    if configured:
        return Path(configured), False
    return Path(tempfile.mkdtemp(prefix="kommentera-metrics-")), True


def _start_delivery_process() -> subprocess.Popen[bytes]:
    # `kommentera worker` as a plain child process, not a thread in the master (threads and
    # locks do not survive gunicorn's forks) nor a multiprocessing child (every forked
    # worker would inherit it and fail to join it at exit): exactly one delivery process
    # however many HTTP workers there are.
    return subprocess.Popen([sys.executable, "-m", "service", "worker"])


@cli.command("serve")
@click.option("--host", help="Address to bind (default KOMMENTERA_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to bind (default KOMMENTERA_PORT or 8000).")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default 2).")
def serve_command(host: str | None, port: int | None, workers: int | None) -> None:
    """Apply pending migrations, then serve with gunicorn."""
    settings = app_state.settings()
    host, port = host or settings.host, port or settings.port
    logs.configure(settings.log_level)
    database = db.database()
    db.upgrade(database.engine)
    database.engine.dispose()  # no connection may cross the fork into workers
    metrics_dir, temporary = _metrics_directory()
    metrics.enable_multiprocess(metrics_dir)  # before the workers fork
    if settings.metrics_port:
        try:
            metrics.serve_on_own_port(settings, host)
        except OSError as error:
            raise click.ClickException(
                f"cannot serve /metrics on port {settings.metrics_port} ({error.strerror}): "
                "choose a free KOMMENTERA_METRICS_PORT"
            ) from None
    delivery = _start_delivery_process() if settings.worker_in_serve else None
    master_pid = os.getpid()
    try:
        _Gunicorn(
            {
                "bind": f"{host}:{port}",
                "workers": workers or settings.workers,
                # gevent (the default): a connection that trickles its request costs a
                # greenlet, not a worker, so slow clients cannot starve the rest
                # (docs/performance.md, "Worker model").
                "worker_class": settings.worker_class,
                "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
                "timeout": 30,
                "accesslog": None,
                "logconfig_dict": logs.logging_config(settings.log_level),
                "child_exit": lambda _server, child: metrics.worker_exited(child.pid),
                "post_fork": logs.redact_worker_lines,
                "when_ready": lambda _server: _announce(host, port),
                # gunicorn 25+'s control socket sits at one path in $HOME: several instances
                # (sidecars, tests) would fight over it, and serve has no use for it.
                "control_socket_disable": True,
            }
        ).run()
    finally:
        # gunicorn's forked workers leave run() by SystemExit too: only the master cleans up.
        if os.getpid() == master_pid:
            _stop_serving(delivery, metrics_dir if temporary else None)


def _announce(host: str, port: int) -> None:
    """Where to go next, once the socket listens: a JSON log line for the log collector, and
    the same sentence in plain text for a person at a terminal."""
    # Bound to every interface: this machine reaches it on loopback.
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - reads the bind address, binds nothing
        host = "127.0.0.1"
    base = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    where = (
        f"Kommentera is serving on {base}/ — demo: {base}/demo/, "
        f"API: {base}/api/v1/openapi.json, health: {base}/healthz"
    )
    if sys.stderr.isatty():
        click.echo(where, err=True)
    log.info(where, extra={"url": f"{base}/"})


def _stop_serving(delivery: subprocess.Popen[bytes] | None, temporary_dir: Path | None) -> None:
    if delivery is not None:
        delivery.terminate()  # SIGTERM: the current delivery finishes first
        try:
            delivery.wait(timeout=60)
        except subprocess.TimeoutExpired:
            delivery.kill()
            delivery.wait()
    if temporary_dir is not None:
        shutil.rmtree(temporary_dir, ignore_errors=True)


@cli.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def worker_command(once: bool) -> None:
    """Deliver queued notifications (webhook, moderator e-mail) until stopped."""
    settings = app_state.settings()
    logs.configure(settings.log_level)
    try:
        worker.check_settings(settings)
    except ConfigError as error:
        raise click.ClickException(f"configuration error: {error}") from None
    sessions = _migrated_database().writers
    if once:
        click.echo(f"claimed {worker.deliver_due(sessions, settings)} events", err=True)
    else:
        worker.run(sessions, settings, worker.stop_on_signals())


@cli.group("outbox")
def outbox_group() -> None:
    """Maintain the notification outbox."""


@outbox_group.command("purge")
@click.option(
    "--older-than-days",
    type=click.IntRange(min=1),
    help="Delete events finished this many days ago (default KOMMENTERA_OUTBOX_RETENTION_DAYS).",
)
def outbox_purge(older_than_days: int | None) -> None:
    """Delete delivered and failed events, with their private data, once past retention.

    The worker does this hourly; run it from cron where no worker runs. Events still to be
    delivered are never deleted.
    """
    days = older_than_days or app_state.settings().outbox_retention_days
    if not days:
        click.echo("KOMMENTERA_OUTBOX_RETENTION_DAYS is 0: events are kept forever", err=True)
        return
    removed = worker.purge_expired(_migrated_database().writers, days)
    click.echo(f"removed {removed} events finished over {days} days ago", err=True)


@cli.group("tokens")
def tokens_group() -> None:
    """Create, list, rotate and revoke moderator API tokens."""


@tokens_group.command("create")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.MODERATOR.value,
    show_default=True,
)
def tokens_create(name: str, role: str) -> None:
    """Create a token; prints only the token (it is stored as a hash and shown once)."""
    with _migrated_database().writers.begin() as session:
        try:
            token = create_token(session, name, Role(role))
        except TokenNameError as error:
            raise click.ClickException(str(error)) from None
    click.echo(token)


@tokens_group.command("rotate")
@click.argument("name")
def tokens_rotate(name: str) -> None:
    """Replace NAME's token (also a revoked one): same name and role, the old token stops
    working at once. Prints only the new token."""
    with _migrated_database().writers.begin() as session:
        try:
            token = rotate_token(session, name)
        except TokenNameError as error:
            raise click.ClickException(str(error)) from None
    click.echo(token)


@tokens_group.command("list")
def tokens_list() -> None:
    """List token names, roles and whether they are active (never the tokens)."""
    with _migrated_database().sessions.begin() as session:
        for moderator in list_moderators(session):
            state = "revoked" if moderator.revoked_at else "active"
            created = moderator.created_at.isoformat(timespec="seconds")
            click.echo(f"{moderator.name}\t{moderator.role}\t{state}\t{created}")


@tokens_group.command("revoke")
@click.argument("name")
def tokens_revoke(name: str) -> None:
    """Revoke the active token with this name."""
    with _migrated_database().writers.begin() as session:
        try:
            revoke_token(session, name)
        except TokenNameError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"revoked {name}", err=True)


@cli.group("rules")
def rules_group() -> None:
    """Inspect the moderation rules."""


@rules_group.command("replay")
@click.option("--since", type=click.IntRange(min=0), help="Only comments from the last DAYS days.")
@click.option("--samples", type=click.IntRange(min=0), default=10, show_default=True)
def rules_replay(since: int | None, samples: int) -> None:
    """Re-run the current rules over stored comments and report what would change.

    Read-only: nothing is written, so a new word list can be tried before it bites.
    """
    cutoff = utcnow() - timedelta(days=since) if since is not None else None
    with _migrated_database().sessions() as session:
        report = replay(session, app_state.rules(), since=cutoff)
        session.rollback()

    def counts(counter: Counter[str]) -> str:
        return ", ".join(f"{key} {value}" for key, value in counter.most_common()) or "-"

    click.echo(f"replayed {report.total} comments under the current rules")
    click.echo(f"verdicts: {counts(report.verdicts)}")
    click.echo(f"rules: {counts(report.rules)}")
    click.echo(
        f"would change: {len(report.changes)} "
        "(compared with the status each comment got when submitted)"
    )
    # Comment ids only: the operator's terminal is no place for commenters' addresses.
    for change in report.changes[:samples]:
        why = "; ".join(f"{r['rule']}: {r['detail']}" for r in change.reasons)
        click.echo(
            f"  #{change.comment_id} submitted {change.was} -> {change.would_be} now "
            f"(current status {change.current}; {why})"
        )


def main() -> None:
    app_loader = ScriptInfo(
        create_app=_create_app_from_env, set_debug_flag=False, load_dotenv_defaults=False
    )
    cli.main(prog_name="kommentera", obj=app_loader)
