"""Serves the OpenAPI document (openapi.yaml beside this file) that the tests hold the
code to."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Response, jsonify

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")
SPEC_PATH = Path(__file__).with_name("openapi.yaml")


@cache
def spec() -> dict[str, Any]:
    document = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise TypeError(f"{SPEC_PATH.name} is not a mapping")
    return document


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(spec())
