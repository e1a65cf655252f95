"""Every `kommentera` failure a new set-up meets is one line saying what to do, with a
non-zero exit code: real processes, in a fresh folder, as a user would run them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import free_port

KOMMENTERA = str(Path(sys.executable).parent / "kommentera")


def _run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KOMMENTERA_")}
    return subprocess.run(
        [KOMMENTERA, *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_a_command_run_where_there_is_no_database_says_so_and_creates_nothing(
    tmp_path: Path,
) -> None:
    line = _one_error_line(_run(tmp_path, "tokens", "create", "anna"))

    assert f"no database at {tmp_path / 'var' / 'kommentera.db'}" in line
    assert "run `kommentera migrate` first" in line
    assert list(tmp_path.iterdir()) == []  # no empty var/, no empty database


def test_an_unmigrated_database_asks_for_migrate(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "empty.db").close()

    line = _one_error_line(
        _run(tmp_path, "tokens", "list", KOMMENTERA_DATABASE_URL=f"sqlite:///{tmp_path}/empty.db")
    )

    assert "is not at the latest migration: run `kommentera migrate`" in line


def test_migrate_where_the_folder_cannot_be_created_names_the_folder(tmp_path: Path) -> None:
    line = _one_error_line(
        _run(tmp_path, "migrate", KOMMENTERA_DATABASE_URL="sqlite:////proc/kommentera/k.db")
    )

    assert "cannot create /proc/kommentera for the SQLite database" in line
    assert f"uid {os.getuid()}" in line


def test_serve_in_a_folder_it_cannot_write_names_the_path_and_the_uid(tmp_path: Path) -> None:
    # /sys refuses new files even to root, as a root-owned volume refuses uid 10001.
    line = _one_error_line(
        _run(
            tmp_path,
            "serve",
            "--port",
            str(free_port()),
            KOMMENTERA_DATABASE_URL="sqlite:////sys/k.db",
        )
    )

    assert "cannot open the SQLite database /sys/k.db" in line
    assert f"must be writable by uid {os.getuid()}" in line


def test_an_unreachable_postgresql_is_one_line(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://kommentera@127.0.0.1:{free_port()}/kommentera"

    line = _one_error_line(_run(tmp_path, "tokens", "list", KOMMENTERA_DATABASE_URL=url))

    assert "cannot connect to the database" in line
    assert "check KOMMENTERA_DATABASE_URL" in line


@pytest.mark.parametrize("command", [["tokens", "list"], ["serve"], ["worker", "--once"]])
def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path, command: list[str]) -> None:
    line = _one_error_line(_run(tmp_path, *command, KOMMENTERA_PORT="eighty"))

    assert "KOMMENTERA_PORT='eighty' is invalid" in line
