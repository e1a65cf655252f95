"""create_app(): the one place that wires configuration, database, languages, error
handling and blueprints together. Nothing is built at import time."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel

from service import db
from service.config import Settings
from service.web import metrics, moderation, openapi, ops, params, problems, public, requestlog

SUPPORTED_LANGUAGES = ("en", "sv")


def _select_language() -> str:
    return request.accept_languages.best_match(SUPPORTED_LANGUAGES) or "en"


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        BABEL_TRANSLATION_DIRECTORIES="translations",
    )
    app.json.ensure_ascii = False  # å stays å on the wire
    app.json.sort_keys = False
    app.extensions["kommentera.settings"] = settings

    db.init_app(app, settings)
    Babel(app, locale_selector=_select_language)
    problems.init_app(app)
    requestlog.init_app(app)
    metrics.init_app(app)

    app.url_map.converters["int"] = params.IdConverter  # before any route is added
    app.register_blueprint(public.bp)
    app.register_blueprint(moderation.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(ops.bp)
    return app
