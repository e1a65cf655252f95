"""The README's round trip, run as written: its shell blocks are parsed from README.md and
run in order against `kommentera serve` in a fresh folder, and every output the README
shows (the `#` lines after a command, "..." standing for anything) must be what comes out."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import BIN, KOMMENTERA, start_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCUMENTED_BASE = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Step:
    command: str
    shown: list[str]  # the README's output lines, without "# "


def _section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def round_trip_steps() -> list[Step]:
    """Each command with the output lines shown after it, in README order."""
    steps: list[Step] = []
    for block in re.findall(r"```sh\n(.*?)```", _section("A full round trip with curl"), re.S):
        command: list[str] = []
        shown: list[str] = []
        for line in block.splitlines():
            if line.startswith("#"):
                shown.append(line[1:].strip())
                continue
            if shown:
                steps.append(Step("\n".join(command), shown))
                command, shown = [], []
            command.append(line)
        steps.append(Step("\n".join(command), shown))
    return steps


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def shows(output: str, shown_line: str) -> int | None:
    """Where in output the shown line ends (whitespace ignored, "..." matching anything)."""
    at = 0
    actual = _squeezed(output)
    for piece in _squeezed(shown_line).split("..."):
        found = actual.find(piece, at)
        if found < 0:
            return None
        at = found + len(piece)
    return at


def assert_shown(output: str, shown: list[str]) -> None:
    """Every shown line appears, in order (real output has more headers between them)."""
    at = 0
    actual = _squeezed(output)
    for line in shown:
        end = shows(actual[at:], line)
        assert end is not None, f"README shows {line!r}; the command printed:\n{output}"
        at += end


def test_the_steps_are_found_in_the_readme() -> None:
    steps = round_trip_steps()

    assert len(steps) >= 6
    assert steps[0].command == "TOKEN=$(.venv/bin/kommentera tokens create anna)"
    assert all(step.command.strip() for step in steps)
    assert sum(1 for step in steps if step.shown) >= 5


def test_the_readme_round_trip_runs_as_written_in_a_fresh_folder(tmp_path: Path) -> None:
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "bin").symlink_to(BIN)  # the README's .venv/bin/kommentera
    # The defaults, as after `make run`: a database in ./var, flood and rate rules on.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMMENTERA_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = start_server(tmp_path, [KOMMENTERA, "serve"], env=env)
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    steps = round_trip_steps()
    script = "set -u\n" + "".join(
        f"{{\n{step.command.replace(DOCUMENTED_BASE, server.base_url)}\n}} "
        f"> {outputs}/{number} 2>&1\n"
        for number, step in enumerate(steps)
    )
    try:
        ran = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=server.env, timeout=120, check=False
        )
    finally:
        server.stop()

    assert ran.returncode == 0
    assert (tmp_path / "var" / "kommentera.db").is_file()  # the README's default place
    for number, step in enumerate(steps):
        output = (outputs / str(number)).read_text(encoding="utf-8")
        assert_shown(output, step.shown)
    announced = re.search(r"prints where to go once it listens:\n\n```\n(.*?)\n```", README, re.S)
    assert announced is not None
    assert announced.group(1).replace(DOCUMENTED_BASE, server.base_url) in server.log()


def test_the_matcher_can_fail() -> None:
    assert shows('{"total": 1, "x": 2}', '{"total": 1, ...}') is not None
    assert shows('{"total": 2}', '{"total": 1, ...}') is None
