"""`make bench-profile`: where the CPU goes, per scenario, in the real server. Kommentera runs
under gunicorn exactly as in the benchmark (2 sync workers, SQLite) while wrk drives one
scenario at c=8 and py-spy samples the workers. Each sample is put in one phase (the first
rule below that one of its frames matches), and the table gives each phase's share of the
samples and of the server's CPU time per request. Writes bench/results/profile-latest.md,
profile-latest.json and one py-spy flame graph (SVG) per scenario."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import corpus
import servers
from load import measure
from run import QUICK, RESULTS, scenarios
from seed import seed_kommentera

SECONDS = 3 if QUICK else 10
CONCURRENCY = 8
RATE = 250  # samples per second per process
PY_SPY = servers.REPO / ".venv/bin/py-spy"
# (phase, frame fragments): a sample belongs to the first phase one of its frames matches.
PHASES = [
    ("sanitizing (bleach)", ["sanitize_body (", "sanitize_html ("]),
    ("e-mail validation (email-validator)", ["validate_email (email_validator"]),
    ("other field validation", ["validate_comment ("]),
    ("rule facts (SQL reads, write lock)", ["gather_facts (", "lock_submitter ("]),
    ("rules pipeline", ["decide (service"]),
    ("commit", ["commit (sqlalchemy/orm/session.py"]),
    ("storing (core inserts, outbox)", ["submit_comment ("]),
    ("thread page (SQL, rows)", ["public_thread_page ("]),
    ("moderation queue (SQL, rows)", ["moderation_queue (", "author_history ("]),
    ("thread state (SQL)", ["public_state (", "approved_counts ("]),
    ("serializing (dicts)", ["(service/web/serializers.py"]),
    ("JSON encoding", ["(flask/json/", "(json/encoder.py", "dumps ("]),
    (
        "session set-up and close",
        ["request_session (", "request_connection (", "_close_request_database ("],
    ),
    ("token check", ["(service/web/auth.py", "(service/moderators.py"]),
    (
        "request hooks (log line, metrics)",
        ["(service/web/requestlog.py", "(service/web/metrics.py"],
    ),
]
# Waiting, not working: a worker blocked in select() for the next connection, the master
# sleeping between signals. py-spy cannot always tell these are idle, so they are dropped.
IDLE = ("SyncWorker.wait (gunicorn/", "Arbiter.wait_for_signals (gunicorn/")
# Samples in none of the phases go to the package of their innermost frame that has one:
# every worker's stack starts in service/cli.py, so "anywhere in the stack" would not do.
PACKAGES = [
    ("other Kommentera code", "(service/"),
    ("other SQLAlchemy work", "(sqlalchemy/"),
    ("Flask and Werkzeug", "(flask/"),
    ("Flask and Werkzeug", "(werkzeug/"),
    ("gunicorn (HTTP parsing, sockets)", "(gunicorn/"),
]
OTHER = "other"
ALL_PHASES = list(dict.fromkeys([p for p, _ in PHASES] + [p for p, _ in PACKAGES] + [OTHER]))


def phase_of(stack: str) -> str:
    for phase, fragments in PHASES:
        if any(fragment in stack for fragment in fragments):
            return phase
    for frame in reversed(stack.split(";")):
        for phase, fragment in PACKAGES:
            if fragment in frame:
                return phase
    return OTHER


def phases(raw: Path) -> Counter[str]:
    """Samples per phase from py-spy's raw (collapsed stacks) output."""
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if stack and samples.isdigit() and not stack.rsplit(";", 1)[-1].startswith(IDLE):
            counts[phase_of(stack)] += int(samples)
    return counts


def _record(pid: int, seconds: float, output: Path, fmt: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(PY_SPY),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            str(RATE),
            "--duration",
            str(int(seconds)),
            "--format",
            fmt,
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def profile(server: servers.Server, scenario, name: str) -> dict:
    raw = RESULTS / f"profile-{name}.txt"
    recorder = _record(server.process.pid, SECONDS, raw, "raw")
    time.sleep(1)  # py-spy attaches to the workers
    load = measure(server, scenario, CONCURRENCY, SECONDS - 2)
    recorder.wait(timeout=SECONDS + 60)
    flame = RESULTS / f"profile-{name}.svg"
    recorder = _record(server.process.pid, 3, flame, "flamegraph")
    measure(server, scenario, CONCURRENCY, 2)
    recorder.wait(timeout=60)
    counts = phases(raw)
    total = sum(counts.values()) or 1
    return {
        "rps": load["rps"],
        "cpu_ms_per_request": load["cpu_ms_per_request"],
        "phases": {phase: counts[phase] / total for phase in ALL_PHASES},
    }


def markdown(results: dict) -> str:
    names = list(results)
    lines = [
        f"py-spy, {RATE} samples/s, {SECONDS} s per scenario at c={CONCURRENCY}, 2 sync "
        "workers, SQLite. Each cell: share of the samples (CPU ms per request).",
        "",
        "| phase | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for phase in ALL_PHASES:
        cells = []
        for name in names:
            share = results[name]["phases"][phase]
            cpu = share * results[name]["cpu_ms_per_request"]
            cells.append(f"{share:.0%} ({cpu:.2f})" if share >= 0.005 else "")
        if any(cells):
            lines.append(f"| {phase} | " + " | ".join(cells) + " |")
    lines.append(
        "| **CPU ms per request** | "
        + " | ".join(f"**{results[n]['cpu_ms_per_request']:.2f}**" for n in names)
        + " |"
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    if not PY_SPY.exists():
        sys.exit("py-spy is missing: make bench-profile installs it (the bench extra)")
    comments = corpus.generate(2000)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kommentera-profile-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'kommentera.db'}"
        seed_kommentera(url, comments)
        server = servers.kommentera(url).start("/api/v1/comments/count?post_id=x")
        try:
            cells = scenarios(server, None, None, None, None, servers.create_token(url), comments)
            results = {
                scenario: profile(server, cell, scenario)
                for (scenario, target), (_, cell) in cells.items()
                if target == "kommentera"
            }
        finally:
            server.stop()
    (RESULTS / "profile-latest.json").write_text(json.dumps(results, indent=2))
    table = markdown(results)
    (RESULTS / "profile-latest.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
