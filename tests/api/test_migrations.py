"""The Alembic migrations and the models agree, on SQLite and on PostgreSQL, and the
migrations run down and up again."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from flask import Flask
from sqlalchemy import column, insert, table, text

from service import db


def test_the_migrated_schema_matches_the_models(app: Flask) -> None:
    # alembic check raises when autogenerate would write a new migration.
    command.check(db.alembic_config(db.database(app).engine))


def test_every_migration_downgrades_and_upgrades_again(app: Flask) -> None:
    engine = db.database(app).engine
    config = db.alembic_config(engine)

    command.downgrade(config, "base")
    assert not db.schema_is_current(engine)
    db.upgrade(engine)

    assert db.schema_is_current(engine)
    command.check(config)


def test_the_authors_backfill_counts_the_comments_stored_before_it(app: Flask) -> None:
    engine = db.database(app).engine
    config = db.alembic_config(engine)
    command.downgrade(config, "0004")
    comments = [
        ("asa@exempel.se", "approved"),
        ("asa@exempel.se", "approved"),
        ("asa@exempel.se", "spam"),
        ("asa@exempel.se", "pending"),
        ("ASA@exempel.se", "approved"),  # grouped by the e-mail exactly as stored
        ("bo@exempel.se", "trash"),
        ("bo@exempel.se", "pending"),
        ("cecilia@exempel.se", "spam"),
    ]
    now = datetime.now(UTC)
    thread = {"id": 1, "post_id": "inlagg", "closed": False, "approved_count": 3}
    thread |= {"public_version": 1, "created_at": now}
    rows = [
        {
            "thread_id": 1,
            "status": status,
            "name": "Namn",
            "email": email,
            "body_source": "text",
            "body_html": "<p>text</p>",
            "reasons": "[]",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for email, status in comments
    ]
    with engine.begin() as connection:
        # The tables as revision 0004 left them, named column by column: not the models.
        connection.execute(insert(table("threads", *map(column, thread))), thread)
        connection.execute(insert(table("comments", *map(column, rows[0]))), rows)

    db.upgrade(engine)

    with engine.connect() as connection:
        authors = connection.execute(
            text("SELECT email, approved_count, spam_count FROM authors")
        ).all()
    assert sorted(authors) == [
        ("ASA@exempel.se", 1, 0),
        ("asa@exempel.se", 2, 1),
        ("bo@exempel.se", 0, 0),
        ("cecilia@exempel.se", 0, 1),
    ]
