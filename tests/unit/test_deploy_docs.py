"""Every deploy example gives the container longer to stop than gunicorn's graceful
timeout, so a request in flight at shutdown finishes instead of being killed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from service.cli import GRACEFUL_TIMEOUT_SECONDS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Room for the master to stop after its workers.
ENOUGH = GRACEFUL_TIMEOUT_SECONDS + 5


def _yaml_examples() -> list[dict[str, Any]]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", DEPLOY, re.S)]


def _seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, f"write durations in seconds, like 40s: {duration!r}"
    return int(match.group(1))


def test_every_compose_service_running_the_image_has_a_stop_grace_period() -> None:
    services = [
        (name, service)
        for example in _yaml_examples()
        for name, service in example.get("services", {}).items()
        if "kommentera" in service.get("image", "")
    ]

    assert len(services) >= 3
    for name, service in services:
        assert _seconds(str(service.get("stop_grace_period", "0s"))) >= ENOUGH, name


def test_the_kubernetes_example_has_a_termination_grace_period() -> None:
    pods = [example for example in _yaml_examples() if example.get("kind") == "Pod"]

    assert pods
    for pod in pods:
        assert pod["spec"]["terminationGracePeriodSeconds"] >= ENOUGH


def test_every_docker_run_of_the_image_sets_a_stop_timeout() -> None:
    text = re.sub(r"\\\n\s*", " ", DEPLOY + README)
    runs = [line for line in text.splitlines() if re.match(r"\s*(docker|podman) run ", line)]

    assert len(runs) >= 2
    for run in runs:
        timeout = re.search(r"--stop-timeout[ =](\d+)", run)
        assert timeout, run
        assert int(timeout.group(1)) >= ENOUGH
