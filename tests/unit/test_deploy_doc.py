"""docs/deploy.md is a deployment people copy: every example with a proxy in front tells
Kommentera about it, and its nginx configuration is one nginx accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


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
