"""JSON responses are encoded by orjson but must read byte for byte as Flask's own compact
encoder would write them, for every kind of value the API (or Flask) hands to jsonify."""

from __future__ import annotations

import dataclasses
import decimal
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask, jsonify

from service.models import CommentStatus
from service.web.json_provider import OrjsonProvider


@dataclasses.dataclass
class _Point:
    x: int
    label: str


class _Markup:
    def __html__(self) -> str:
        return "<b>fet</b>"


VALUES: list[Any] = [
    {
        "post_id": "räksmörgås",
        "total": 2,
        "comments": [
            {
                "id": 1,
                "parent_id": None,
                "name": "Åsa Öberg 😀",
                "url": "https://bücher.de/",
                "body": '<p>"citat" \\ & </p>\n\t\u2028',
                "created_at": "2026-01-02T03:04:05.000006+00:00",
            }
        ],
        "next_cursor": None,
        "zebra": True,
        "alpha": False,
    },
    {"status": CommentStatus.APPROVED, "reasons": [{"rule": "links"}], "empty": {}},
    [],
    "\x00\x1f\x7f",
    -(2**63),
    datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    date(2026, 1, 2),
    decimal.Decimal("1.50"),
    uuid.UUID(int=7),
    _Point(1, "å"),
    _Markup(),
    {1: "non-string key", None: True},
    2**70,
]


def _flask_default() -> Flask:
    """Flask's stdlib encoder as the app had it: UTF-8 and insertion order."""
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    return app


def _orjson() -> Flask:
    app = Flask(__name__)
    app.json = OrjsonProvider(app)
    return app


@pytest.mark.parametrize("value", VALUES)
def test_a_response_is_byte_for_byte_flasks_compact_encoding(value: Any) -> None:
    with _flask_default().app_context():
        expected = jsonify(value)
    with _orjson().app_context():
        encoded = jsonify(value)
    assert encoded.get_data() == expected.get_data()
    assert encoded.mimetype == expected.mimetype == "application/json"


def test_what_no_encoder_knows_still_raises() -> None:
    with _orjson().app_context(), pytest.raises(TypeError):
        jsonify({"value": object()})
