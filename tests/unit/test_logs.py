"""Log hygiene helpers: IP anonymisation and the JSON line format."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from service.logs import JsonFormatter, anonymize_ip, redact_addresses


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


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        (
            "Invalid request from ip=203.0.113.77: Invalid HTTP request line: 'GET /'",
            "Invalid request from ip=203.0.113.0/24: Invalid HTTP request line: 'GET /'",
        ),
        (
            "ratelimit 20 per 1 minute (203.0.113.77) exceeded",
            "ratelimit 20 per 1 minute (203.0.113.0/24) exceeded",
        ),
        ("ip=2001:db8:1234:5678::1: bad", "ip=2001:db8:1234::/48: bad"),
        ("[2001:db8:1234:5678::1]:443", "[2001:db8:1234::/48]:443"),
        ("peer 203.0.113.77:51234", "peer 203.0.113.0/24:51234"),
        ("from ::ffff:198.51.100.9", "from 198.51.100.0/24"),
        (
            "at 17:54:42.829, gunicorn 25.0.1, v1.2.3, cafe",
            "at 17:54:42.829, gunicorn 25.0.1, v1.2.3, cafe",
        ),
    ],
)
def test_addresses_in_free_text_are_cut_to_their_network(line: str, redacted: str) -> None:
    assert redact_addresses(line) == redacted


def test_no_line_or_traceback_keeps_an_email_address() -> None:
    try:
        raise ValueError("{'moderator@exempel.se': (550, b'<moderator@exempel.se> rejected')}")
    except ValueError:
        record = logging.makeLogRecord(
            {
                "name": "service.notifications.worker",
                "msg": "not delivered: %s, uri /?email=%s",
                "args": ("åsa.öberg+blogg@exempel.se", "asa%40exempel.se"),
                "exc_info": sys.exc_info(),
            }
        )
    entry = json.loads(JsonFormatter().format(record))

    assert entry["message"] == "not delivered: <e-mail>, uri /?email=<e-mail>"
    assert "@" not in entry["exception"]
    assert "<e-mail>" in entry["exception"]
