"""The delivery worker: claims due outbox events, sends each to its channels (webhook,
moderator e-mail) and records the outcome, retrying with exponential backoff and jitter.

Claims are short transactions that push next_attempt_at past a lease, so delivery runs
outside any transaction and several workers never deliver the same event at once
(PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: BEGIN IMMEDIATE already serializes)."""

from __future__ import annotations

import logging
import random
import signal
import smtplib
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.config import Settings
from service.errors import ConfigError
from service.models import OutboxEvent, utcnow
from service.notifications import mail, webhook
from service.notifications.outbox import COMMENT_CREATED, public_payload, purge_finished

log = logging.getLogger(__name__)

BATCH_SIZE = 20
MAX_BACKOFF = timedelta(hours=1)
# Retention is counted in days, so purging hourly keeps nothing much past its time.
PURGE_INTERVAL = timedelta(hours=1)
WEBHOOK, EMAIL = "webhook", "email"
# No answer at all (refused, reset, timed out): trying the next event now would only wait
# again, so the rest of the pass skips the channel.
NO_ANSWER = (
    webhook.ReceiverUnreachableError,
    TimeoutError,
    ConnectionError,
    smtplib.SMTPServerDisconnected,
)


@dataclass(frozen=True)
class ClaimedEvent:
    id: int
    event_type: str
    payload: dict[str, Any]
    channels_done: tuple[str, ...]
    attempts: int


def check_settings(settings: Settings) -> None:
    if settings.webhook_url and not settings.webhook_secret:
        raise ConfigError("KOMMENTERA_WEBHOOK_URL is set but KOMMENTERA_WEBHOOK_SECRET is empty")


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Doubling delay from the configured base, capped, plus up to one base of jitter so
    many failed events do not all retry in the same second."""
    base = settings.delivery_backoff_seconds
    delay = min(base * 2 ** (attempts - 1), MAX_BACKOFF.total_seconds())
    return timedelta(seconds=delay + random.uniform(0, base))  # noqa: S311 - not crypto


def _lease(settings: Settings) -> timedelta:
    # Long enough for every channel to time out once; a crashed worker's claim then expires.
    return timedelta(seconds=4 * settings.webhook_timeout_seconds + 30)


def claim_due(sessions: sessionmaker[Session], settings: Settings) -> list[ClaimedEvent]:
    now = utcnow()
    with sessions.begin() as session:
        events = session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.delivered_at.is_(None),
                OutboxEvent.failed_at.is_(None),
                OutboxEvent.next_attempt_at <= now,
            )
            .order_by(OutboxEvent.id)
            .limit(BATCH_SIZE)
            .with_for_update(skip_locked=True)
        ).all()
        for event in events:
            event.attempts += 1
            event.next_attempt_at = now + _lease(settings)
        return [
            ClaimedEvent(e.id, e.event_type, e.payload, tuple(e.channels_done or ()), e.attempts)
            for e in events
        ]


def channels_for(settings: Settings, event: ClaimedEvent) -> list[str]:
    wanted = []
    if settings.webhook_url:
        wanted.append(WEBHOOK)
    held = event.payload.get("verdict", {}).get("status") == "pending"
    if event.event_type == COMMENT_CREATED and held and mail.mail_enabled(settings):
        wanted.append(EMAIL)
    return wanted


def _send(settings: Settings, channel: str, event: ClaimedEvent) -> None:
    if channel == WEBHOOK:
        payload = public_payload(event.payload, include_private=settings.webhook_include_private)
        webhook.post_event(
            settings.webhook_url, settings.webhook_secret, payload, settings.webhook_timeout_seconds
        )
    else:
        mail.send(settings, mail.held_comment_message(settings, event.payload))


def deliver(
    sessions: sessionmaker[Session],
    settings: Settings,
    event: ClaimedEvent,
    unreachable: set[str],
) -> bool:
    """Send to every channel not yet done and record the outcome; True if delivered.
    Channels in `unreachable` (found so earlier in this pass, and added to it here) are not
    tried: a hung receiver costs a pass one timeout, not one per event."""
    done = list(event.channels_done)
    error = None
    for channel in channels_for(settings, event):
        if channel in done:
            continue
        if channel in unreachable:
            error = f"{channel}: skipped, unreachable earlier in this pass"
            continue
        try:
            _send(settings, channel, event)
            done.append(channel)
        except Exception as exc:  # any failure of one channel is retried later
            error = f"{channel}: {exc}"[:500] if str(exc) else f"{channel}: {type(exc).__name__}"
            log.warning("event %s not delivered (attempt %s): %s", event.id, event.attempts, error)
            if isinstance(exc, NO_ANSWER):
                unreachable.add(channel)
    now = utcnow()
    with sessions.begin() as session:
        row = session.get_one(OutboxEvent, event.id)
        row.channels_done = done
        row.last_error = error
        if error is None:
            row.delivered_at = now
        elif event.attempts >= settings.delivery_max_attempts:
            row.failed_at = now
            log.error("event %s failed after %s attempts", event.id, event.attempts)
        else:
            row.next_attempt_at = now + backoff(settings, event.attempts)
    return error is None


def deliver_due(sessions: sessionmaker[Session], settings: Settings) -> int:
    """One pass: claim a batch and deliver it; returns how many events were claimed."""
    claimed = claim_due(sessions, settings)
    unreachable: set[str] = set()
    for event in claimed:
        deliver(sessions, settings, event, unreachable)
    return len(claimed)


def purge_expired(sessions: sessionmaker[Session], retention_days: int) -> int:
    """Delete events delivered or failed more than retention_days ago, in a transaction of
    its own; returns how many went."""
    with sessions.begin() as session:
        removed = purge_finished(session, utcnow() - timedelta(days=retention_days))
    log.info("purged %s outbox events finished over %s days ago", removed, retention_days)
    return removed


def run(sessions: sessionmaker[Session], settings: Settings, stop: threading.Event) -> None:
    """Deliver until stop is set, purging expired events on the first pass and hourly after;
    a database outage only pauses the loop."""
    check_settings(settings)
    log.info("notification worker started")
    next_purge = time.monotonic()
    while not stop.is_set():
        try:
            if settings.outbox_retention_days and time.monotonic() >= next_purge:
                # Scheduled before purging: a purge that fails waits for the next hour
                # instead of being retried on every poll.
                next_purge = time.monotonic() + PURGE_INTERVAL.total_seconds()
                purge_expired(sessions, settings.outbox_retention_days)
            claimed = deliver_due(sessions, settings)
        except OperationalError as error:
            log.warning("database unavailable: %s", type(error.orig).__name__)
            claimed = 0
        if claimed < BATCH_SIZE:
            stop.wait(settings.worker_poll_seconds)
    log.info("notification worker stopped")


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT, so the current delivery finishes first."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop
