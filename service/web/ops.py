"""Operational endpoints for orchestrators: /healthz (the process answers) and /readyz
(the database is reachable and its schema is at the latest migration)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy.exc import SQLAlchemyError

from service.db import database, schema_is_current
from service.web.problems import RETRY_AFTER_SECONDS, problem

log = logging.getLogger(__name__)
bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    try:
        current = schema_is_current(database().engine)
    except SQLAlchemyError as error:
        log.warning("not ready: database unreachable (%s)", type(error).__name__)
        return problem(503, "database_unreachable", headers=retry)
    if not current:
        return problem(503, "schema_outdated", headers=retry)
    return jsonify({"status": "ready"})
