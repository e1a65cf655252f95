"""authors: approved and spam counts per author e-mail, backfilled from the comments

The moderation queue shows each author's history; counting every comment the page's
authors ever wrote grew with the table (over a second at 1 M comments). The counts are
now kept per e-mail and read by primary key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    authors = op.create_table(
        "authors",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("approved_count", sa.Integer(), nullable=False),
        sa.Column("spam_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_authors")),
    )
    comments = sa.table(
        "comments", sa.column("email", sa.String(254)), sa.column("status", sa.String(16))
    )
    op.execute(
        authors.insert().from_select(
            ["email", "approved_count", "spam_count"],
            sa.select(
                comments.c.email,
                sa.func.count().filter(comments.c.status == "approved"),
                sa.func.count().filter(comments.c.status == "spam"),
            ).group_by(comments.c.email),
        )
    )


def downgrade() -> None:
    op.drop_table("authors")
