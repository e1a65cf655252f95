"""Authors' history: how many of each e-mail's comments are approved and how many spam,
kept in the authors table and recounted in the caller's transaction whenever one of the
author's comments is stored approved or spam, changes status or is deleted."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.models import Author, Comment, CommentStatus

# The statuses an author's history counts.
COUNTED_STATUSES = frozenset({CommentStatus.APPROVED, CommentStatus.SPAM})

_AUTHORS = Author.__table__.c
_COMMENTS = Comment.__table__.c
# Built once, like the rule facts' queries: they run inside moderators' and submitters'
# requests.
_ENSURE = {
    dialect: insert(Author)
    .values(email=bindparam("email"), approved_count=0, spam_count=0)
    .on_conflict_do_nothing(index_elements=["email"])
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_LOCK = (
    select(_AUTHORS.email)
    .where(_AUTHORS.email.in_(bindparam("emails", expanding=True)))
    .order_by(_AUTHORS.email)
    .with_for_update()
)
# Filtered by e-mail alone, so both planners seek ix_comments_email_id (email, id); a
# status condition would tempt SQLite into ix_comments_status_id, most of the table.
_COUNT = (
    select(
        _COMMENTS.email,
        func.count().filter(_COMMENTS.status == CommentStatus.APPROVED),
        func.count().filter(_COMMENTS.status == CommentStatus.SPAM),
    )
    .where(_COMMENTS.email.in_(bindparam("emails", expanding=True)))
    .group_by(_COMMENTS.email)
)
_STORE = (
    update(Author)
    .where(_AUTHORS.email == bindparam("author"))
    .values(approved_count=bindparam("approved"), spam_count=bindparam("spam"))
)


def refresh_author_history(session: Session, emails: Iterable[str]) -> None:
    """Recount the approved and spam comments of each e-mail into its authors row.

    Recounting (rather than incrementing) keeps the counts right whatever changed. Each
    row is created if missing and locked before the count, in e-mail order: on PostgreSQL
    (READ COMMITTED, a fresh snapshot per statement) a second transaction changing the same
    author's comments then counts after the first commits and sees its change.
    """
    wanted = sorted(set(emails))
    if not wanted:
        return
    session.flush()
    connection = session.connection()
    connection.execute(_ENSURE[connection.dialect.name], [{"email": e} for e in wanted])
    connection.execute(_LOCK, {"emails": wanted})
    counts = {email: {"author": email, "approved": 0, "spam": 0} for email in wanted}
    for email, approved, spam in connection.execute(_COUNT, {"emails": wanted}):
        counts[email].update(approved=approved, spam=spam)
    connection.execute(_STORE, list(counts.values()))
