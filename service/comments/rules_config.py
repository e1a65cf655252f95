"""The moderation rules' settings: built once at start-up from Settings and the optional
TOML rules file (KOMMENTERA_RULES_FILE), whose long lists extend the environment's."""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass
from pathlib import Path

from service.config import Settings
from service.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# Keys a rules file may hold; each is merged with the environment variable of that name.
RULES_FILE_LISTS = ("disallowed_words", "moderation_words", "blocked_emails", "blocked_ips")
# Each rule's default is its KOMMENTERA_* variable's, kept in one place: Settings.
_DEFAULT = Settings()


def _network(value: str) -> Network:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ConfigError(f"blocked IP {value!r} is not an address or CIDR network") from None


@dataclass(frozen=True)
class RulesConfig:
    """The rules' settings; 0 switches a numeric rule off, an empty list a word rule."""

    close_after_days: int = _DEFAULT.close_after_days
    flood_seconds: int = _DEFAULT.flood_seconds
    honeypot_field: str = _DEFAULT.honeypot_field
    disallowed_words: tuple[str, ...] = _DEFAULT.disallowed_words
    disallowed_action: str = _DEFAULT.disallowed_action
    moderation_words: tuple[str, ...] = _DEFAULT.moderation_words
    max_links: int = _DEFAULT.max_links
    blocked_emails: tuple[str, ...] = _DEFAULT.blocked_emails
    blocked_ips: tuple[Network, ...] = tuple(_network(v) for v in _DEFAULT.blocked_ips)
    max_depth: int = _DEFAULT.max_depth
    auto_approve_known_authors: bool = _DEFAULT.auto_approve_known_authors

    @classmethod
    def from_settings(cls, settings: Settings) -> RulesConfig:
        """Build from Settings plus the optional TOML rules file; raise ConfigError."""
        extra = _read_rules_file(settings.rules_file) if settings.rules_file else {}

        def merged(name: str) -> tuple[str, ...]:
            values = (*getattr(settings, name), *extra.get(name, ()))
            return tuple(dict.fromkeys(v.strip().lower() for v in values if v.strip()))

        return cls(
            close_after_days=settings.close_after_days,
            flood_seconds=settings.flood_seconds,
            honeypot_field=settings.honeypot_field,
            disallowed_words=merged("disallowed_words"),
            disallowed_action=settings.disallowed_action,
            moderation_words=merged("moderation_words"),
            max_links=settings.max_links,
            blocked_emails=merged("blocked_emails"),
            blocked_ips=tuple(_network(v) for v in merged("blocked_ips")),
            max_depth=settings.max_depth,
            auto_approve_known_authors=settings.auto_approve_known_authors,
        )


def _read_rules_file(path: str) -> dict[str, list[str]]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"KOMMENTERA_RULES_FILE={path!r} is invalid: {error}") from None
    for key, value in data.items():
        if key not in RULES_FILE_LISTS:
            raise ConfigError(f"KOMMENTERA_RULES_FILE: unknown key {key!r}")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"KOMMENTERA_RULES_FILE: {key} must be a list of strings")
    return data
