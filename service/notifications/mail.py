"""E-mails moderators about each held comment through the configured SMTP server
(stdlib smtplib; STARTTLS and login when configured).

Every field of a comment is written by a stranger, so none of it may pass for the
message's own structure: in the Subject it is one line with no encoded words, and in the
body every line of it is quoted with "> " below Kommentera's own lines."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from service.comments.validation import single_line
from service.config import Settings

EXCERPT_CHARS = 1000
QUOTE = "> "


def mail_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.moderator_emails)


def header_text(value: str) -> str:
    """Commenter text made safe for a header: one line, and no "=?" to open an RFC 2047
    encoded word. The email package decodes encoded words when a header is set, and
    CPython before 3.11.10 then wrote an encoded CR LF out as a real line break (a forged
    Bcc:); later versions refuse to send such a message at all."""
    return single_line(value).replace("=?", "= ?")


def quoted(text: str) -> str:
    """Every line prefixed with "> ", split wherever str.splitlines() (and so a mail
    reader) may break a line: U+2028 and friends included."""
    return "\n".join(QUOTE + line for line in text.splitlines() or [""])


def review_link(settings: Settings, comment_id: int) -> str:
    path = f"/api/v1/moderation/comments/{comment_id}"
    return f"{settings.public_url}{path}" if settings.public_url else path


def held_comment_message(settings: Settings, payload: dict[str, Any]) -> EmailMessage:
    comment = payload["comment"]
    private = payload.get("private", {})
    reasons = "\n".join(
        single_line(f"- {r.get('rule')}: {r.get('detail')}")
        for r in payload["verdict"].get("reasons", [])
    )
    written = (
        f"Post: {single_line(comment['post_id'])}\n"
        f"Name: {single_line(comment['name'])}\n"
        f"E-mail: {single_line(private.get('email') or '')}\n"
        f"Website: {single_line(comment.get('url') or '')}\n\n"
        f"{comment['body'][:EXCERPT_CHARS]}"
    )
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(settings.moderator_emails)
    message["Subject"] = (
        f"Comment #{comment['id']} on {header_text(comment['post_id'])} awaits review"
    )
    message.set_content(
        f"A new comment is held for review.\n\n"
        f"Comment id: {comment['id']}\n\n"
        f"Why it is held:\n{reasons}\n\n"
        f"Review it in the moderation queue: GET {review_link(settings, comment['id'])}\n\n"
        f"Everything quoted below was written by the commenter, not by Kommentera:\n\n"
        f"{quoted(written)}\n"
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
