"""E-mails moderators about each held comment through the configured SMTP server
(stdlib smtplib; STARTTLS and login when configured)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from service.config import Settings

EXCERPT_CHARS = 1000


def mail_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.moderator_emails)


def held_comment_message(settings: Settings, payload: dict[str, Any]) -> EmailMessage:
    comment = payload["comment"]
    private = payload.get("private", {})
    reasons = "\n".join(
        f"- {r.get('rule')}: {r.get('detail')}" for r in payload["verdict"].get("reasons", [])
    )
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(settings.moderator_emails)
    message["Subject"] = f"Comment #{comment['id']} on {comment['post_id']} awaits review"
    message.set_content(
        f"A new comment is held for review.\n\n"
        f"Post: {comment['post_id']}\n"
        f"Comment id: {comment['id']}\n"
        f"Name: {comment['name']}\n"
        f"E-mail: {private.get('email', '')}\n"
        f"URL: {comment.get('url') or ''}\n\n"
        f"Why it is held:\n{reasons}\n\n"
        f"{comment['body'][:EXCERPT_CHARS]}\n\n"
        f"Review it in the moderation queue "
        f"(GET /api/v1/moderation/comments/{comment['id']}).\n"
    )
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    """Send one message; smtplib errors propagate so the worker can retry."""
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.webhook_timeout_seconds
    ) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
