"""Database-side checks shared by the survival tests: nothing lost, nothing twice, and an
audit log that replays to every comment's final state."""

from __future__ import annotations

from sqlalchemy import create_engine, func, select

from service.models import Comment, CommentStatus, EventAction, ModerationEvent


def stored_comments(database_url: str) -> tuple[dict[int, str], list[str]]:
    """(id → body of every stored comment, bodies stored more than once)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = dict(connection.execute(select(Comment.id, Comment.body_source)).all())
            twice = connection.scalars(
                select(Comment.body_source).group_by(Comment.body_source).having(func.count() > 1)
            ).all()
    finally:
        engine.dispose()
    return rows, list(twice)


def assert_nothing_lost_or_doubled(database_url: str, accepted: dict[int, str]) -> None:
    stored, twice = stored_comments(database_url)
    missing = {cid: body for cid, body in accepted.items() if stored.get(cid) != body}
    assert missing == {}
    assert twice == []


def replay_mismatches(database_url: str) -> list[str]:
    """Replay each comment's events from 'created'; name every comment whose log disagrees."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            final = dict(connection.execute(select(Comment.id, Comment.status)).all())
            events = connection.execute(
                select(
                    ModerationEvent.comment_id,
                    ModerationEvent.action,
                    ModerationEvent.from_status,
                    ModerationEvent.to_status,
                ).order_by(ModerationEvent.id)
            ).all()
    finally:
        engine.dispose()
    state: dict[int, CommentStatus] = {}
    problems = []
    for comment_id, action, from_status, to_status in events:
        if action == EventAction.CREATED:
            if comment_id in state:
                problems.append(f"{comment_id}: created twice")
            state[comment_id] = to_status
        elif action == EventAction.STATUS_CHANGED:
            if state.get(comment_id) != from_status:
                problems.append(
                    f"{comment_id}: {from_status} does not follow {state.get(comment_id)}"
                )
            state[comment_id] = to_status
    for comment_id, status in final.items():
        if state.get(comment_id) != status:
            problems.append(f"{comment_id}: log says {state.get(comment_id)}, row says {status}")
    return problems
