"""Typed access to what the app keeps in `app.extensions`: each piece of state has one Slot,
so callers get a Settings or a Database back, never an untyped lookup by string key. The
settings and the rules built from them live here; other pieces keep their Slot beside the
code that builds them."""

from __future__ import annotations

from typing import Generic, TypeVar

from flask import Flask, current_app

from service.comments.rules_config import RulesConfig
from service.config import Settings

T = TypeVar("T")


class Slot(Generic[T]):
    """One named entry of `app.extensions` holding a value of one type."""

    def __init__(self, key: str) -> None:
        self.key = key

    def put(self, app: Flask, value: T) -> None:
        app.extensions[self.key] = value

    def get(self, app: Flask | None = None) -> T:
        """The value of this app, or of the current one (KeyError if it was never put)."""
        # app.extensions is a dict[str, Any]; put() is the only writer of this key, so the
        # value has type T.
        value: T = (app or current_app).extensions[self.key]
        return value


_SETTINGS: Slot[Settings] = Slot("kommentera.settings")
_RULES: Slot[RulesConfig] = Slot("kommentera.rules")


def init_app(app: Flask, settings: Settings) -> None:
    _SETTINGS.put(app, settings)
    _RULES.put(app, RulesConfig.from_settings(settings))


def settings(app: Flask | None = None) -> Settings:
    return _SETTINGS.get(app)


def rules(app: Flask | None = None) -> RulesConfig:
    return _RULES.get(app)
