"""`kommentera rules replay`: what the current rules would decide, without changing anything."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import db
from service.app import create_app
from service.cli import cli
from service.models import Comment, CommentStatus
from tests.builders import approve, settings_for, submit


def test_replay_reports_what_a_new_word_list_would_change_and_writes_nothing(
    client: FlaskClient, session: Session, database_url: str
) -> None:
    kept = submit(client, body="Tack för inlägget")["id"]
    caught = submit(client, body="Bästa casinot i stan")["id"]
    stricter = create_app(settings_for(database_url, disallowed_words=("casino",)))

    result = stricter.test_cli_runner().invoke(cli, ["rules", "replay", "--since", "1"])
    db.database(stricter).engine.dispose()

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "replayed 2 comments under the current rules"
    assert "verdicts: pending 1, spam 1" in lines
    assert "rules: review 1, disallowed_words 1" in lines
    assert "would change: 1 (compared with the status each comment got when submitted)" in lines
    assert (
        f"  #{caught} submitted pending -> spam now "
        "(current status pending; disallowed_words: 'casino' in body)"
    ) in lines
    assert f"#{kept} " not in result.output
    assert "@" not in result.output  # never an e-mail address
    statuses = session.scalars(select(Comment.status).order_by(Comment.id)).all()
    assert statuses == [CommentStatus.PENDING, CommentStatus.PENDING]


def test_replay_shows_the_current_status_beside_the_status_at_submission(
    client: FlaskClient, moderator_headers: dict[str, str], database_url: str
) -> None:
    approved_since = submit(client, body="Casino, men godkänd av en moderator")["id"]
    approve(client, moderator_headers, approved_since)
    stricter = create_app(settings_for(database_url, disallowed_words=("casino",)))

    result = stricter.test_cli_runner().invoke(cli, ["rules", "replay"])
    db.database(stricter).engine.dispose()

    assert result.exit_code == 0, result.output
    assert (
        f"  #{approved_since} submitted pending -> spam now "
        "(current status approved; disallowed_words: 'casino' in body)"
    ) in result.output.splitlines()
