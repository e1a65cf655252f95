"""The README's API table lists every endpoint of the OpenAPI contract."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
METHODS = ("get", "post", "patch", "put", "delete")


def test_the_api_table_lists_every_api_operation_of_the_contract() -> None:
    spec = yaml.safe_load((ROOT / "service" / "web" / "openapi.yaml").read_text())
    readme = (ROOT / "README.md").read_text()
    table = re.findall(r"^\| `([A-Z]+) (/api/v1/[^`\[?]*)", readme, flags=re.MULTILINE)

    # Path parameters are compared by position only: the README says <id>, the contract
    # {comment_id}.
    documented = {(method, re.sub(r"<\w+>", "{}", path)) for method, path in table}
    contract = {
        (method.upper(), re.sub(r"\{\w+\}", "{}", path))
        for path, operations in spec["paths"].items()
        if path.startswith("/api/v1/") and path != "/api/v1/openapi.json"
        for method in operations
        if method in METHODS
    }
    assert sorted(contract - documented) == []
    assert sorted(documented - contract) == []
