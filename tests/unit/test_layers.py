"""The architecture holds: the domain (comments, notifications) never imports Flask, only the
sanitizer imports bleach."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[2] / "service"
DOMAIN_MODULES = [
    f"service.{package}.{path.stem}"
    for package in ("comments", "notifications")
    for path in sorted((SERVICE / package).glob("*.py"))
    if path.stem != "__init__"
] + ["service.errors", "service.moderators", "service.models", "service.config"]


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_modules_do_not_import_flask(module: str) -> None:
    code = f"import sys, {module}; sys.exit('flask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_only_the_sanitizer_imports_bleach() -> None:
    importers = sorted(
        str(path.relative_to(SERVICE))
        for path in SERVICE.rglob("*.py")
        if "import bleach" in path.read_text() or "from bleach" in path.read_text()
    )
    assert importers == ["comments/sanitize.py"]


def test_only_app_state_reads_or_writes_app_extensions() -> None:
    """Everything the app keeps goes through a typed Slot, never a string key elsewhere."""
    users = sorted(
        str(path.relative_to(SERVICE))
        for path in SERVICE.rglob("*.py")
        if ".extensions[" in path.read_text()
    )
    assert users == ["app_state.py"]
