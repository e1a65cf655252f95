"""Log hygiene helpers: IP anonymisation and the JSON line format."""

from __future__ import annotations

import json
import logging

import pytest

from service.logs import JsonFormatter, anonymize_ip


@pytest.mark.parametrize(
    ("raw", "network"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::"),
        ("::ffff:198.51.100.9", "198.51.100.0"),
        ("not an ip", None),
        (None, None),
    ],
)
def test_addresses_are_cut_to_their_network(raw: str | None, network: str | None) -> None:
    assert anonymize_ip(raw) == network


def test_a_log_record_becomes_one_json_line_with_its_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "kommentera.request", "levelname": "INFO", "msg": "request", "status": 202}
    )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "request"
    assert entry["status"] == 202
    assert entry["logger"] == "kommentera.request"
