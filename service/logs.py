"""Process-wide logging: one JSON object per line on stderr, and the IP anonymisation
every log line uses (IPv4 to /24, IPv6 to /48, as Isso does) so no full IP is logged."""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed as `extra` and is logged.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(level: str) -> dict[str, Any]:
    """A dictConfig sending our loggers and gunicorn's through the JSON formatter."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": handler},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            # Off: the app writes its own request line, without the client's full IP.
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }


def configure(level: str) -> None:
    """Install the JSON handler, unless logging is already set up (as basicConfig does:
    an embedding process, or pytest, keeps its own handlers)."""
    import logging.config

    if logging.getLogger().handlers:
        return
    logging.config.dictConfig(logging_config(level))
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]


# Every request logs its client's network, and a client sends many requests: parsing the
# address was ~5 % of a 304's CPU. Full addresses are only kept in memory, never logged.
@functools.lru_cache(maxsize=4096)
def anonymize_ip(raw: str | None) -> str | None:
    """The network an address belongs to, never the address itself."""
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)
