"""create_app(): the one place that wires configuration, database, languages, error
handling and blueprints together. Nothing is built at import time."""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel

from service import app_state, db
from service.config import LANGUAGES, Settings
from service.web import (
    demo,
    form,
    headers,
    home,
    limits,
    metrics,
    moderation,
    openapi,
    ops,
    params,
    problems,
    proxies,
    public,
    receipts,
    requestlog,
    threads,
)
from service.web.json_provider import OrjsonProvider

SUPPORTED_LANGUAGES = LANGUAGES


def _select_language() -> str:
    """An explicit choice (the form's `lang` field, or ?lang=) beats Accept-Language, which
    beats KOMMENTERA_DEFAULT_LANGUAGE."""
    chosen = g.get("form_language") or request.args.get("lang")
    if chosen in SUPPORTED_LANGUAGES:
        return chosen
    default = app_state.settings().default_language
    return request.accept_languages.best_match(SUPPORTED_LANGUAGES) or default


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder="web/static")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        BABEL_TRANSLATION_DIRECTORIES="translations",
    )
    app.json = OrjsonProvider(app)
    app_state.init_app(app, settings)
    proxies.init_app(app, settings)

    db.init_app(app, settings)
    Babel(app, locale_selector=_select_language)
    problems.init_app(app)
    receipts.init_app(app, settings)
    headers.init_app(app, settings)
    # Before the limiter, whose check runs first among what comes after: a request it
    # refuses is still logged with its request id and timed.
    requestlog.init_app(app)
    metrics.init_app(app)
    limits.init_app(app, settings)

    app.url_map.converters["int"] = params.IdConverter  # before any route is added
    app.register_blueprint(public.bp)
    app.register_blueprint(moderation.bp)
    app.register_blueprint(threads.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(form.bp)
    app.register_blueprint(demo.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(home.bp)
    return app
