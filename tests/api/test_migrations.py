"""The Alembic migrations and the models agree, on SQLite and on PostgreSQL, and the
migrations run down and up again."""

from __future__ import annotations

from alembic import command
from flask import Flask

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
