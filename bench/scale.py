"""Scale: moderation-queue, public-read and count latency with 10 k, 100 k and 1 M stored
comments on SQLite and PostgreSQL. Rows are bulk-inserted with plain SQL (executemany on
SQLite, COPY on PostgreSQL); a size is added on top of the previous one."""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import corpus
import servers
from load import Scenario, measure
from run import POSTGRES_URL, QUICK, RESULTS, reset_postgres

from service import db
from service.comments.authors import refresh_author_history
from service.comments.sanitize import sanitize_html
from service.config import Settings

SIZES = (
    (1_000, 5_000)
    if QUICK
    else tuple(
        int(s) for s in os.environ.get("BENCH_SCALE_SIZES", "10000,100000,1000000").split(",")
    )
)
SECONDS = 1 if QUICK else 3
THREAD_SIZE = 250  # about 200 of them approved
STATUSES = ["approved"] * 16 + ["pending"] * 2 + ["spam", "trash"]
COLUMNS = (
    "thread_id",
    "status",
    "name",
    "email",
    "url",
    "body_source",
    "body_html",
    "ip",
    "user_agent",
    "reasons",
    "version",
    "created_at",
    "updated_at",
)


def _rows(count: int, first_thread: int, comments, html, rng):
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    threads: dict[int, int] = {}
    rows = []
    for i in range(count):
        thread_id = first_thread + i // THREAD_SIZE
        status = rng.choice(STATUSES)
        threads[thread_id] = threads.get(thread_id, 0) + (status == "approved")
        c = comments[i % len(comments)]
        rows.append(
            (
                thread_id,
                status,
                c.name,
                c.email,
                c.url,
                c.body,
                html[i % len(html)],
                "127.0.0.1",
                "bench",
                "[]",
                1,
                stamp,
                stamp,
            )
        )
    return threads, rows


def grow(database_url: str, count: int, first_thread: int, comments, html, rng) -> int:
    """Add `count` comments in new threads; return the next free thread id."""
    threads, rows = _rows(count, first_thread, comments, html, rng)
    engine = db.create_db_engine(Settings(database_url=database_url))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        thread_rows = [
            (tid, f"scale-{tid}", False, approved, 1, rows[0][-1])
            for tid, approved in threads.items()
        ]
        thread_sql = (
            "INSERT INTO threads (id, post_id, closed, approved_count, public_version,"
            " created_at) VALUES "
        )
        comment_cols = ", ".join(COLUMNS)
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(thread_sql + "(?, ?, ?, ?, ?, ?)", thread_rows)
            cursor.executemany(
                f"INSERT INTO comments ({comment_cols}) VALUES ({', '.join('?' * len(COLUMNS))})",
                rows,
            )
            cursor.execute("COMMIT")
        else:
            with cursor.copy(
                "COPY threads (id, post_id, closed, approved_count, public_version,"
                " created_at) FROM STDIN"
            ) as copy:
                for row in thread_rows:
                    copy.write_row(row)
            with cursor.copy(f"COPY comments ({comment_cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute("SELECT setval('threads_id_seq', (SELECT max(id) FROM threads))")
            raw.commit()
        # The authors' counts, which every real write recounts: the bulk load went past them.
        with db.make_writer_factory(engine).begin() as session:
            refresh_author_history(session, {row[COLUMNS.index("email")] for row in rows})
        if engine.dialect.name == "sqlite":
            # What the next write does in a running server: the bulk load left a WAL of
            # about a gigabyte, every frame of which each read would search past until a
            # writer restarts the log after a checkpoint.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            # What autovacuum would do soon after a bulk load. Committed: an uncommitted
            # ANALYZE's statistics roll back with its transaction, leaving only the row count.
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return max(threads) + 1


def measure_size(database_url: str, first_thread: int) -> dict[str, dict]:
    server = servers.kommentera(database_url).start("/api/v1/comments/count?post_id=x")
    try:
        token = servers.create_token(database_url)
        counts = "/api/v1/comments/count?" + "&".join(
            f"post_id=scale-{first_thread + i}" for i in range(20)
        )
        shapes = {
            "queue": Scenario(
                "GET",
                ["/api/v1/moderation/comments?limit=50"],
                headers={"Authorization": f"Bearer {token}"},
            ),
            "read200": Scenario(
                "GET", [f"/api/v1/comments?post_id=scale-{first_thread}&limit=200"]
            ),
            "count20": Scenario("GET", [counts]),
        }
        # c=1: the latency of one request, not queueing behind 2 busy workers.
        return {name: measure(server, shape, 1, SECONDS) for name, shape in shapes.items()}
    finally:
        server.stop()


def main() -> None:
    comments = corpus.generate(2000)
    html = [sanitize_html(c.body) for c in comments]
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="kommentera-scale-") as tmp:
        backends = {"sqlite": f"sqlite:///{Path(tmp) / 'scale.db'}"}
        if reset_postgres(POSTGRES_URL):
            backends["postgresql"] = POSTGRES_URL
        for backend, url in backends.items():
            engine = db.create_db_engine(Settings(database_url=url))
            db.upgrade(engine)
            engine.dispose()
            rng, stored, next_thread = random.Random(6), 0, 1
            for size in SIZES:
                started = time.monotonic()
                next_thread = grow(url, size - stored, next_thread, comments, html, rng)
                stored = size
                print(
                    f"{backend}: {size} rows stored in {time.monotonic() - started:.0f} s",
                    flush=True,
                )
                results.setdefault(backend, {})[str(size)] = measure_size(url, 1)
                for name, r in results[backend][str(size)].items():
                    print(f"  {name}: p50 {r['p50_ms']:.1f} ms, {r['rps']:.0f}/s", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"scale-{stamp}.json").write_text(json.dumps(results, indent=2))
    lines = [
        "| backend | comments | queue p50 ms | read200 p50 ms | count20 p50 ms | count20 req/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for backend, sizes in results.items():
        for size, r in sizes.items():
            lines.append(
                f"| {backend} | {int(size):,} | {r['queue']['p50_ms']:.1f} | "
                f"{r['read200']['p50_ms']:.1f} | {r['count20']['p50_ms']:.1f} | "
                f"{r['count20']['rps']:.0f} |"
            )
    table = "\n".join(lines) + "\n"
    (RESULTS / "scale-latest.md").write_text(table)
    print(table)


if __name__ == "__main__":
    sys.exit(main())
