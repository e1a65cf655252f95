"""Alembic environment, configured in code: the engine comes from service.db, never from
an ini file. On PostgreSQL an advisory lock lets several instances start at once."""

from typing import Literal

from alembic import context
from sqlalchemy import text

from service.models import Base, UTCDateTime

# Any constant works; it only has to be the same for every Kommentera instance.
MIGRATION_LOCK_ID = 0x6B6F6D6D


def render_item(type_: str, obj: object, autogen_context: object) -> str | Literal[False]:
    # Migrations must not import model code, which changes after they are written.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        is_postgres = connection.dialect.name == "postgresql"
        if is_postgres:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
                render_item=render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if is_postgres:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID}
                )
                connection.commit()


run_migrations_online()
