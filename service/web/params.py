"""Reading requests: the JSON body, paging parameters and opaque cursors. Each failure
is a ProblemError with the right status (415, 400, 413)."""

from __future__ import annotations

import base64
import binascii
import json
from enum import Enum
from typing import Any, TypeVar

from flask import request
from werkzeug.routing import IntegerConverter

from service.comments import validation
from service.errors import FieldError
from service.web.problems import ProblemError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# A larger id cannot name a row, and passing one to the database fails (SQLite:
# OverflowError, PostgreSQL: out of range) instead of finding nothing.
MAX_ID = validation.MAX_ID
# Integer literals are read by our own reader, so a number of thousands of digits reaches
# the field checks (and their errors) instead of failing the whole body. Built once:
# json.loads with a keyword builds a new decoder per call.
_JSON = json.JSONDecoder(parse_int=validation.read_integer)


class IdConverter(IntegerConverter):
    """`<int:...>` in routes. An id above MAX_ID names no row, so it becomes 0 (ids start
    at 1) and the view answers its usual 404; werkzeug's own `max` would turn some of
    those requests into a misleading 405."""

    def to_python(self, value: str) -> int:
        number = validation.read_integer(value)
        return number if number <= MAX_ID else 0


def json_object() -> dict[str, Any]:
    mimetype = request.mimetype
    if mimetype != "application/json" and not (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    ):
        raise ProblemError(415, "unsupported_media_type")
    data = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        # As json.loads reads bytes; a UnicodeDecodeError is a ValueError.
        value = _JSON.decode(data.decode(json.detect_encoding(data), "surrogatepass"))
    except (ValueError, RecursionError):
        raise ProblemError(400, "malformed_json") from None
    if not isinstance(value, dict):
        raise ProblemError(400, "not_an_object")
    return value


def _query_error(field: str, code: str) -> ProblemError:
    return ProblemError(400, "invalid_query", [FieldError(field, code)])


def limit_param() -> int:
    raw = request.args.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    value = validation.parse_digits(raw)
    if value is None:
        raise _query_error("limit", "invalid_type")
    if not 1 <= value <= MAX_LIMIT:
        raise _query_error("limit", "out_of_range")
    return value


def encode_cursor(after: int | None) -> str | None:
    if after is None:
        return None
    return base64.urlsafe_b64encode(f"id:{after}".encode()).decode().rstrip("=")


def cursor_param() -> int | None:
    raw = request.args.get("cursor")
    if not raw:
        return None
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _query_error("cursor", "invalid_cursor") from None
    kind, _, digits = decoded.partition(":")
    number = validation.parse_digits(digits)
    if kind != "id" or number is None or number > MAX_ID:
        raise _query_error("cursor", "invalid_cursor")
    return number


def id_param(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    number = validation.parse_digits(raw)
    if number is None:
        raise _query_error(name, "invalid_type")
    if number > MAX_ID:
        raise _query_error(name, "out_of_range")
    return number


def required_query(name: str) -> str:
    value = request.args.get(name)
    if value is None or not value.strip():
        raise _query_error(name, "required")
    return value


E = TypeVar("E", bound=Enum)


def choice_param(name: str, choices: type[E], default: E) -> E:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return choices(raw)
    except ValueError:
        raise _query_error(name, "invalid_choice") from None
