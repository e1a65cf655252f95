"""docs/deploy.md is a deployment people copy: every example with a proxy in front tells
Kommentera about it, its nginx configuration is one nginx accepts, and every example gives
the container longer to stop than gunicorn's graceful timeout, so a request in flight at
shutdown finishes instead of being killed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.cli import GRACEFUL_TIMEOUT_SECONDS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "docs" / "deploy.md"
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Room for the master to stop after its workers.
ENOUGH = GRACEFUL_TIMEOUT_SECONDS + 5


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", DEPLOY.read_text(), re.M | re.S)


def _kommentera_environments(document: dict[str, Any]) -> list[dict[str, str]]:
    """The environment of every container serving Kommentera's HTTP (compose services or a
    pod's containers; a `kommentera worker` answers no requests), as a dict."""
    found = []
    for service in (document.get("services") or {}).values():
        serves = "worker" not in service.get("command", [])
        if serves and str(service.get("image", "")).split(":")[0].endswith("kommentera"):
            found.append(service.get("environment") or {})
    for container in (document.get("spec") or {}).get("containers", []):
        if str(container.get("image", "")).split(":")[0].endswith("kommentera"):
            found.append({e["name"]: e.get("value") for e in container.get("env", [])})
    return found


def test_every_deployment_example_trusts_its_proxies_and_names_its_public_url() -> None:
    environments = [
        env for block in _blocks("yaml") for env in _kommentera_environments(yaml.safe_load(block))
    ]

    assert len(environments) >= 3  # compose sidecar, Kubernetes sidecar, scaled out
    for environment in environments:
        assert int(environment["KOMMENTERA_TRUSTED_PROXIES"]) >= 1, environment
        assert environment["KOMMENTERA_PUBLIC_URL"].startswith("https://"), environment


def test_the_nginx_configuration_forwards_the_client_address() -> None:
    [config] = _blocks("nginx")

    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in config
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in config
    assert re.search(r"location /api/v1/ \{\s*proxy_pass http://kommentera;", config)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_the_nginx_configuration_passes_nginx_t(tmp_path: Path) -> None:
    [config] = _blocks("nginx")
    # The compose service name resolves only inside compose; nginx -t resolves upstreams.
    config = config.replace("server kommentera:8000;", "server 127.0.0.1:8000;")
    (tmp_path / "logs").mkdir()
    (tmp_path / "default.conf").write_text(config)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/logs/error.log;\n"
        "events {}\n"
        "http {\n"
        f"    access_log {tmp_path}/logs/access.log;\n"
        f"    client_body_temp_path {tmp_path}/body;\n"
        f"    proxy_temp_path {tmp_path}/proxy;\n"
        f"    include {tmp_path}/default.conf;\n"
        "}\n"
    )
    checked = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def _yaml_examples() -> list[dict[str, Any]]:
    return [yaml.safe_load(block) for block in _blocks("yaml")]


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
    text = re.sub(r"\\\n\s*", " ", DEPLOY.read_text() + README)
    runs = [line for line in text.splitlines() if re.match(r"\s*(docker|podman) run ", line)]

    assert len(runs) >= 2
    for run in runs:
        timeout = re.search(r"--stop-timeout[ =](\d+)", run)
        assert timeout, run
        assert int(timeout.group(1)) >= ENOUGH
