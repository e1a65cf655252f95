"""`kommentera --help` offers only our commands and options, and starts nothing to say so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

KOMMENTERA = str(Path(sys.executable).parent / "kommentera")
COMMANDS = [
    [],
    ["doctor"],
    ["serve"],
    ["migrate"],
    ["worker"],
    ["tokens", "create"],
    ["rules", "replay"],
]


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMMENTERA_")}
    # Were the app built, this would stop it: --help must not get that far.
    env["KOMMENTERA_PORT"] = "not-a-port"
    return subprocess.run(
        [KOMMENTERA, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "kommentera")
def test_help_lists_only_our_options_and_builds_no_app(tmp_path: Path, command: list[str]) -> None:
    result = _run(tmp_path, *command, "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: kommentera")
    for flask_own in ("--env-file", "--app", "--debug", "limiter", "python-dotenv"):
        assert flask_own not in result.stdout
    assert list(tmp_path.iterdir()) == []  # no var/, no database


def test_the_top_level_help_names_exactly_our_commands(tmp_path: Path) -> None:
    result = _run(tmp_path, "--help")

    listed = result.stdout.split("Commands:\n", 1)[1].splitlines()
    names = [line.split()[0] for line in listed if line.strip()]
    assert names == ["doctor", "migrate", "outbox", "rules", "serve", "tokens", "worker"]


def test_flask_options_are_simply_not_options(tmp_path: Path) -> None:
    result = _run(tmp_path, "-e", "settings.env", "tokens", "list")

    assert result.returncode == 2
    assert "No such option '-e'" in result.stderr
