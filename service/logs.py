"""Process-wide logging: one JSON object per line on stderr, and the IP anonymisation
every log line uses (IPv4 to /24, IPv6 to /48, as Isso does) so no full IP is logged.

Our own lines are written without personal data. Lines of libraries that quote what a
client is or sent (Flask-Limiter's "ratelimit ... (<ip>) exceeded", gunicorn's
"Invalid request from ip=<ip>: <request line>") have addresses cut to their network, and
no line or traceback keeps an e-mail address (an SMTP refusal or a database error quotes
them), whoever wrote it."""

from __future__ import annotations

import functools
import io
import ipaddress
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

# Attributes every LogRecord has; anything else was passed as `extra` and is logged.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# An e-mail address, also percent-encoded as in a logged URI.
_EMAIL = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
EMAIL_REDACTED = "<e-mail>"
# Anything that may be an IP address, perhaps with a port or a trailing colon; each
# candidate is checked by ipaddress, so times and version numbers are left alone.
_ADDRESS = re.compile(r"[0-9A-Fa-f]*[:.][0-9A-Fa-f:.]*[0-9A-Fa-f]:?")


def _network_of(match: re.Match[str]) -> str:
    text = match.group()
    for candidate in (text, text.rstrip(":"), text.rpartition(":")[0]):
        network = anonymize_ip(candidate) if candidate else None
        if network is not None:
            prefix = 48 if ":" in network else 24
            return text.replace(candidate, f"{network}/{prefix}", 1)
    return text


def redact_addresses(text: str) -> str:
    """Every IP address in free text cut to its network, written with its prefix."""
    return _ADDRESS.sub(_network_of, text)


def redact_emails(text: str) -> str:
    # Every line passes here; most have no "@" to look for.
    if "@" not in text and "%40" not in text:
        return text
    return _EMAIL.sub(EMAIL_REDACTED, text)


class ClientAddressFilter(logging.Filter):
    """On a logger whose lines quote clients: addresses in them are cut to their network."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact_addresses(record.getMessage()), ()
        return True


def redact_worker_lines(_server: object = None, _worker: object = None) -> None:
    """gunicorn post_fork hook. In a worker, gunicorn's lines are about connections
    ("Invalid request from ip=...: <request line>"); the master's name the address it
    listens on, which is no client's, and stay as they are."""
    logging.getLogger("gunicorn.error").addFilter(ClientAddressFilter())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = redact_emails(record.getMessage())
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = redact_emails(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(level: str) -> dict[str, Any]:
    """A dictConfig sending our loggers and gunicorn's through the JSON formatter."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"client_addresses": {"()": ClientAddressFilter}},
        "handlers": {"stderr": handler},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # "ratelimit 20 per 1 minute (<client address>) exceeded at endpoint: ..."
            "flask-limiter": {"filters": ["client_addresses"]},
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
    if isinstance(sys.stderr, io.TextIOWrapper):  # not when something replaced stderr
        sys.stderr.reconfigure(line_buffering=True)


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
