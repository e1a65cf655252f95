"""Index comments by (email, id) and (ip, id) instead of email and ip alone

The flood rule and the learned spam signal ask for an author's or an address's newest
comments; with the id in the index that is one probe, however many comments they wrote.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 14:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index("ix_comments_email_id", ["email", "id"], unique=False)
        batch_op.create_index("ix_comments_ip_id", ["ip", "id"], unique=False)
        batch_op.drop_index("ix_comments_email")
        batch_op.drop_index("ix_comments_ip")


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index("ix_comments_ip", ["ip"], unique=False)
        batch_op.create_index("ix_comments_email", ["email"], unique=False)
        batch_op.drop_index("ix_comments_ip_id")
        batch_op.drop_index("ix_comments_email_id")
