"""What `make run` and `make test` install, read from make's own dry run."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _planned_installs(target: str, venv: Path) -> list[str]:
    planned = subprocess.run(
        ["make", "--dry-run", target, f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in planned.splitlines() if "pip install" in line and " -e " in line]


def test_make_run_installs_only_what_serving_needs(tmp_path: Path) -> None:
    installs = _planned_installs("run", tmp_path / "venv")

    assert installs, "make run installs the project"
    assert all("[test]" not in line for line in installs)


def test_make_test_still_installs_the_test_tools(tmp_path: Path) -> None:
    installs = _planned_installs("test", tmp_path / "venv")

    assert any('".[test]"' in line for line in installs)


def test_make_test_type_checks_the_service_strictly(tmp_path: Path) -> None:
    planned = subprocess.run(
        ["make", "--dry-run", "test", f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]

    assert f"{tmp_path / 'venv'}/bin/mypy" in planned
    assert config["strict"] is True
    assert "service" in config["files"]
