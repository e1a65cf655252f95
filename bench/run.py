"""`make bench`: Kommentera against Isso and the hello-world ceiling, same machine, same
gunicorn settings, targets interleaved and each run repeated; then peak memory. Writes JSON
and a Markdown table to bench/results/. BENCH_QUICK=1 gives a smoke run of a few seconds."""

from __future__ import annotations

import http.client
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import corpus
import report
import servers
from load import UNIQUE, Scenario, measure
from seed import COUNT_POSTS, READ_POST, isso_payload, seed_isso, seed_kommentera
from sqlalchemy import create_engine, text

QUICK = os.environ.get("BENCH_QUICK") == "1"
ROUNDS = 1 if QUICK else int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = 1 if QUICK else int(os.environ.get("BENCH_SECONDS", "4"))
CONCURRENCY = (8,) if QUICK else (1, 8, 32)
MEMORY_SUBMISSIONS = 500 if QUICK else 10_000
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_kommentera"
)
RESULTS = servers.BENCH / "results"
SUBMIT_POSTS = 50
_SCENARIO_ORDER = ("submit", "read200", "read304", "count20", "queue")


def reset_postgres(url: str) -> bool:
    """Create the bench database if needed and empty it; False when PostgreSQL is absent."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    try:
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()
        engine = create_engine(target)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    except Exception as error:
        print(f"PostgreSQL skipped: {error}", file=sys.stderr)
        return False
    return True


def _etag(server: servers.Server, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    return response.getheader("ETag")


def scenarios(kommentera, kommentera_sync, kommentera_pg, isso, ceiling, token, comments):
    """(scenario, target) → (server, Scenario); targets of one scenario run back to back."""
    k_bodies = [
        json.dumps(
            {**c.payload(f"bench-post-{i % SUBMIT_POSTS}"), "body": f"{c.body} {UNIQUE}"},
            ensure_ascii=False,
        )
        for i, c in enumerate(comments)
    ]
    isso_bodies = [
        isso_payload(corpus.Comment(c.name, c.email, f"{c.body} {UNIQUE}", c.url)) for c in comments
    ]
    isso_paths = [f"/new?uri=/bench-post-{i % SUBMIT_POSTS}" for i in range(len(comments))]
    read = f"/api/v1/comments?post_id={READ_POST}&limit=200"
    counts = "/api/v1/comments/count?" + "&".join(f"post_id={p}" for p in COUNT_POSTS)
    cells = {
        ("submit", "kommentera"): (kommentera, Scenario("POST", ["/api/v1/comments"], k_bodies)),
        ("submit", "isso"): (isso, Scenario("POST", isso_paths, isso_bodies)),
        ("submit", "ceiling"): (ceiling, Scenario("POST", ["/hello"], k_bodies)),
        ("read200", "kommentera"): (kommentera, Scenario("GET", [read])),
        ("read200", "isso"): (isso, Scenario("GET", [f"/?uri=/{READ_POST}"])),
        ("read304", "kommentera"): (
            kommentera,
            Scenario("GET", [read], headers={"If-None-Match": _etag(kommentera, read)}),
        ),
        ("read304", "ceiling"): (ceiling, Scenario("GET", ["/hello"])),
        ("count20", "kommentera"): (kommentera, Scenario("GET", [counts])),
        ("count20", "isso"): (
            isso,
            Scenario("POST", ["/count"], [json.dumps([f"/{p}" for p in COUNT_POSTS])]),
        ),
        ("queue", "kommentera"): (
            kommentera,
            Scenario(
                "GET",
                ["/api/v1/moderation/comments?limit=50"],
                headers={"Authorization": f"Bearer {token}"},
            ),
        ),
    }
    # The same scenarios on sync workers, the worker model before gevent, on the same database.
    for scenario in ("submit", "read200", "read304", "count20", "queue"):
        cells[(scenario, "kommentera-sync")] = (kommentera_sync, cells[(scenario, "kommentera")][1])
    # Back to back with its gevent twin, so the pair always runs under the same load.
    cells = dict(sorted(cells.items(), key=lambda item: _SCENARIO_ORDER.index(item[0][0])))
    if kommentera_pg:
        cells[("submit", "kommentera-postgresql")] = (
            kommentera_pg,
            cells[("submit", "kommentera")][1],
        )
    return cells


def peak_memory(workdir: Path, comments) -> list[float]:
    """Peak RSS of each worker of a fresh server after MEMORY_SUBMISSIONS submissions."""
    server = servers.kommentera(f"sqlite:///{workdir / 'memory.db'}").start(
        "/api/v1/comments/count?post_id=x"
    )
    try:
        per_thread = MEMORY_SUBMISSIONS // 8
        failures = []

        def submit(offset: int) -> None:
            for i in range(per_thread):
                c = comments[(offset * per_thread + i) % len(comments)]
                body = json.dumps({**c.payload(f"mem-{i % 50}"), "body": f"{c.body} {offset}-{i}"})
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                connection.request(
                    "POST", "/api/v1/comments", body.encode(), {"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                response.read()
                if response.status >= 300:
                    failures.append(response.status)

        threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            print(f"memory run: {len(failures)} failed submissions", file=sys.stderr)
        return server.peak_rss_mb()
    finally:
        server.stop()


def main() -> None:
    comments = corpus.generate(2000)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kommentera-bench-") as tmp:
        workdir = Path(tmp)
        sqlite_url = f"sqlite:///{workdir / 'kommentera.db'}"
        seed_kommentera(sqlite_url, comments)
        pg = reset_postgres(POSTGRES_URL)
        if pg:
            seed_kommentera(POSTGRES_URL, comments)
        started = []
        try:
            health = "/api/v1/comments/count?post_id=x"
            kommentera = servers.kommentera(sqlite_url).start(health)
            started.append(kommentera)
            kommentera_sync = servers.kommentera(sqlite_url, "sync").start(health)
            started.append(kommentera_sync)
            kommentera_pg = servers.kommentera(POSTGRES_URL).start(health) if pg else None
            started.append(kommentera_pg)
            isso = servers.isso(workdir).start("/config")
            started.append(isso)
            ceiling = servers.ceiling().start("/hello")
            started.append(ceiling)
            seed_isso(isso.port, workdir / "isso.db", comments)
            token = servers.create_token(sqlite_url)
            cells = scenarios(
                kommentera, kommentera_sync, kommentera_pg, isso, ceiling, token, comments
            )
            runs: dict[str, dict[str, list[dict]]] = {}
            for round_no in range(ROUNDS):
                # Interleave: every target of a scenario back to back, order flipped each round.
                order = list(cells) if round_no % 2 == 0 else list(reversed(cells))
                for concurrency in CONCURRENCY:
                    for key in order:
                        server, scenario = cells[key]
                        result = measure(server, scenario, concurrency, SECONDS)
                        runs.setdefault("/".join(key), {}).setdefault(str(concurrency), []).append(
                            result
                        )
                        print(
                            f"round {round_no + 1} c={concurrency} {'/'.join(key)}: "
                            f"{result['rps']:.0f}/s p50 {result['p50_ms']:.1f} ms "
                            f"errors {result['errors']}",
                            flush=True,
                        )
        finally:
            for server in started:
                if server:
                    server.stop()
        memory = peak_memory(workdir, comments)
    summary = {
        "machine": report.machine(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "quick": QUICK,
        "rounds": ROUNDS,
        "seconds_per_run": SECONDS,
        "runs": runs,
        "cells": {
            key: {c: report.summarize(r) for c, r in by_c.items()} for key, by_c in runs.items()
        },
        "memory": {"submissions": MEMORY_SUBMISSIONS, "peak_rss_mb_per_worker": memory},
    }
    summary["ratios"] = report.ratios(summary["cells"])
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(summary, indent=2))
    table = report.markdown(summary)
    (RESULTS / f"bench-{stamp}.md").write_text(table)
    (RESULTS / "latest.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
