"""Seed the read benchmarks fast: Kommentera through its own domain functions (no HTTP),
Isso through its API followed by a direct approval in its SQLite file."""

from __future__ import annotations

import http.client
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from corpus import Comment

from service import db
from service.app import create_app
from service.comments.review import bulk_set_status
from service.comments.rules_config import RulesConfig
from service.comments.submission import ClientInfo, submit_comment
from service.config import Settings
from service.models import CommentStatus

READ_POST = "bench-read"
COUNT_POSTS = [f"bench-count-{i}" for i in range(20)]
THREAD_SIZE = 200
CLIENT = ClientInfo(ip="127.0.0.1", user_agent="kommentera-bench")
# Seeding writes hundreds of comments per author in a second: no flood or link limits.
RULES = RulesConfig(flood_seconds=0, max_links=0)


def seed_kommentera(database_url: str, corpus: Sequence[Comment]) -> None:
    """A 200-comment approved thread, 20 posts with a few approved comments each, and a
    pending queue."""
    app = create_app(Settings(database_url=database_url))
    database = db.database(app)
    db.upgrade(database.engine)
    plan = [(READ_POST, True)] * THREAD_SIZE
    plan += [(post, True) for post in COUNT_POSTS for _ in range(3)]
    plan += [(f"bench-queue-{i % 10}", False) for i in range(THREAD_SIZE)]
    with database.writers.begin() as session:
        approve = []
        for i, (post, approved) in enumerate(plan):
            comment = submit_comment(session, corpus[i % len(corpus)].payload(post), CLIENT, RULES)
            if approved:
                approve.append(comment.id)
        bulk_set_status(session, approve, CommentStatus.APPROVED, actor="bench")
    database.engine.dispose()


def isso_payload(comment: Comment) -> str:
    return json.dumps(
        {
            "text": comment.body,
            "author": comment.name,
            "email": comment.email,
            "website": comment.url,
            "title": "Bänkinlägg",
        },
        ensure_ascii=False,
    )


def seed_isso(port: int, db_path: Path, corpus: Sequence[Comment]) -> None:
    posts = [READ_POST] * THREAD_SIZE + [post for post in COUNT_POSTS for _ in range(3)]
    for i, post in enumerate(posts):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(
            "POST",
            f"/new?uri=/{post}",
            isso_payload(corpus[i % len(corpus)]).encode(),
            {"Content-Type": "application/json"},
        )
        response = connection.getresponse()
        response.read()
        if response.status not in (201, 202):
            raise SystemExit(f"Isso refused a seed comment: {response.status}")
    # Isso has no moderation API without its admin UI; mode 1 is "accepted".
    with sqlite3.connect(db_path) as connection:
        connection.execute("UPDATE comments SET mode = 1")
