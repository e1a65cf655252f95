"""Moderator e-mail written from hostile comments, read back as the raw bytes a local SMTP
server received: no forged header, every commenter-written line quoted, and delivery
succeeds whatever the comment holds."""

from __future__ import annotations

import re
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import db
from service.config import Settings
from service.models import OutboxEvent
from service.notifications import worker
from tests.builders import submit
from tests.notifications.receivers import smtp_inbox

# An RFC 2047 encoded word whose decoded text is CR LF and two headers of the attacker's.
FORGED_SUBJECT = "=?utf-8?q?vinter=0D=0ABcc:_victim@attacker.example=0D=0AReply-To:_x@a.example?="
FORGED_BODY = (
    "Trevligt!\n\n"
    "E-mail: chefen@exempel.se\n"
    "Why it is held:\n"
    "- review: approve it at https://phish.example/login"
)
OWN_HEADERS = {"from", "to", "subject", "content-type", "content-transfer-encoding", "mime-version"}


def _mail_settings(settings: Settings, port: int, **overrides: object) -> Settings:
    return replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        mail_from="kommentera@exempel.se",
        moderator_emails=("mod@exempel.se",),
        **overrides,
    )


def _header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    # A folded header continues on lines that start with whitespace.
    return [line.split(":", 1)[0].lower() for line in head.split("\r\n") if line[:1] not in " \t"]


def _parsed(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, _class=EmailMessage, policy=policy.default)


def _body_lines(raw: bytes) -> list[str]:
    return _parsed(raw).get_content().splitlines()


def _delivered(session: Session) -> list[OutboxEvent]:
    session.rollback()
    return list(session.scalars(select(OutboxEvent).where(OutboxEvent.delivered_at.is_not(None))))


def test_a_forged_subject_and_body_cannot_add_headers_or_pass_for_kommenteras_own_lines(
    app: Flask, client: FlaskClient, session: Session, settings: Settings
) -> None:
    comment_id = submit(
        client,
        post_id=FORGED_SUBJECT,
        name="Åsa\nE-mail: chefen@exempel.se\u2028Why it is held:",
        url="https://asa.exempel.se",
        body=FORGED_BODY,
    )["id"]
    with smtp_inbox() as (port, inbox):
        worker.deliver_due(db.database(app).writers, _mail_settings(settings, port))

    [raw] = inbox.raw
    assert sorted(_header_names(raw)) == sorted(OWN_HEADERS)
    subject = str(_parsed(raw)["Subject"])
    shown = FORGED_SUBJECT.replace("=?", "= ?")  # as typed, never decoded
    assert subject == f"Comment #{comment_id} on {shown} awaits review"
    lines = _body_lines(raw)
    assert [line for line in lines if line.startswith("Why it is held")] == ["Why it is held:"]
    assert not [line for line in lines if line.startswith("E-mail")]
    assert not [line for line in lines if "phish" in line and not line.startswith("> ")]
    assert "> Name: Åsa E-mail: chefen@exempel.se Why it is held:" in lines
    assert "> Website: https://asa.exempel.se" in lines
    quoted = lines[lines.index("> Name: Åsa E-mail: chefen@exempel.se Why it is held:") - 1 :]
    assert all(line.startswith(">") for line in quoted)
    assert len(_delivered(session)) == 1


def test_an_event_stored_with_line_separators_is_delivered_on_its_first_attempt(
    app: Flask, client: FlaskClient, session: Session, settings: Settings
) -> None:
    """Events written before post ids refused U+2028 must still be delivered: the e-mail
    used to raise on every retry until the event failed."""
    submit(client, post_id="vinter")
    with db.database(app).writers.begin() as writer:
        event = writer.scalars(select(OutboxEvent)).one()
        comment = {
            **event.payload["comment"],
            "post_id": "vinter\u2028Bcc: victim@attacker.example",
            "name": "Åsa\r\nE-mail: chefen@exempel.se",
            "body": "rad ett\u2029E-mail: chefen@exempel.se\x85Why it is held:",
        }
        event.payload = {**event.payload, "comment": comment}
    with smtp_inbox() as (port, inbox):
        worker.deliver_due(db.database(app).writers, _mail_settings(settings, port))

    [delivered] = _delivered(session)
    assert (delivered.attempts, delivered.last_error) == (1, None)
    [raw] = inbox.raw
    assert sorted(_header_names(raw)) == sorted(OWN_HEADERS)
    lines = _body_lines(raw)
    assert "> Post: vinter Bcc: victim@attacker.example" in lines
    assert "> Name: Åsa E-mail: chefen@exempel.se" in lines
    assert "> E-mail: chefen@exempel.se" in lines
    assert "> Why it is held:" in lines
    assert [line for line in lines if re.match(r"(E-mail|Why it is held)", line)] == [
        "Why it is held:"
    ]


def test_the_review_link_is_absolute_on_the_public_url_when_it_is_set(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    comment_id = submit(client)["id"]
    with smtp_inbox() as (port, inbox):
        configured = _mail_settings(settings, port, public_url="https://kommentarer.exempel.se")
        worker.deliver_due(db.database(app).writers, configured)

    [raw] = inbox.raw
    link = f"https://kommentarer.exempel.se/api/v1/moderation/comments/{comment_id}"
    assert f"Review it in the moderation queue: GET {link}" in _body_lines(raw)
