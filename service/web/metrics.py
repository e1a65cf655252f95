"""Prometheus metrics: requests by route and status, latency, submissions by verdict, and
the comment queue depth by status (counted at scrape time). Under gunicorn the workers
share counters through prometheus-client's multi-process mode (see enable_multiprocess)."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from flask import Flask, Response, g, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from service import app_state
from service.app_state import Slot
from service.config import Settings
from service.db import create_db_engine, database
from service.models import Comment
from service.web.requestlog import route

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The routes that submit a comment: the JSON API and the two HTML form endpoints.
SUBMIT_RULES = frozenset({"/api/v1/comments", "/comments/form", "/wp-comments-post.php"})
# A client can send any token as the method; each new label value would be a new series
# forever (150 made-up methods took /metrics from 22 KB to 300 KB). Others count as "other",
# as unmatched paths all count as one route.
STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"


def enable_multiprocess(directory: Path) -> None:
    """Point prometheus-client at an empty shared directory; call in the gunicorn master
    before workers fork. prometheus-client picks its value class when first imported
    (here, long before serve runs), so it is chosen again now that the variable is set."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    values.ValueClass = values.get_value_class()


def serve_on_own_port(settings: Settings, host: str) -> None:
    """KOMMENTERA_METRICS_PORT: the gunicorn master answers /metrics itself, from a thread,
    summing the workers' files as the public endpoint would. Call after enable_multiprocess.
    Its engine keeps no connection open, so none is inherited by workers forked later."""
    start_http_server(
        settings.metrics_port,
        addr=host,
        registry=_workers_registry(QueueDepthCollector(create_db_engine(settings, pooled=False))),
    )


def _workers_registry(queue_depth: Collector) -> CollectorRegistry:
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(queue_depth)
    return registry


def worker_exited(pid: int) -> None:
    """gunicorn child_exit hook: drop the dead worker's live gauges."""
    mark_process_dead(pid)


def _multiprocess() -> bool:
    return MULTIPROC_ENV in os.environ


class QueueDepthCollector(Collector):
    """Comments by status, read at scrape time with one grouped count on the
    (status, id) index, so the gauge is always current and needs no bookkeeping."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "kommentera_comments", "Comments currently stored, by status", labels=["status"]
        )
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(Comment.status, func.count()).group_by(Comment.status)
                ).all()
        except SQLAlchemyError as error:
            log.warning("queue depth not collected: %s", type(error).__name__)
            return
        for status, count in rows:
            family.add_metric([str(status)], count)
        yield family


class Metrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.requests = Counter(
            "kommentera_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "kommentera_http_request_duration_seconds",
            "Time to answer a request, by route",
            ["method", "route"],
            registry=registry,
        )
        self.submissions = Counter(
            "kommentera_submissions",
            "Comment submissions by verdict (first status, or rejected)",
            ["verdict"],
            registry=registry,
        )
        self.untrusted_forwarded_for = Counter(
            "kommentera_untrusted_forwarded_for",
            "Requests carrying X-Forwarded-For while KOMMENTERA_TRUSTED_PROXIES is 0",
            registry=registry,
        )
        self.rate_limit_storage_errors = Counter(
            "kommentera_rate_limit_storage_errors",
            "Write requests let through unlimited because the rate-limit storage failed",
            registry=registry,
        )


_METRICS: Slot[Metrics] = Slot("kommentera.metrics")


def method_label() -> str:
    return request.method if request.method in STANDARD_METHODS else OTHER_METHOD


def _start() -> None:
    g.metrics_started = time.perf_counter()


def record_verdict(status: str) -> None:
    """Called by a submitting view with the comment's first status, which the response may
    not show: a spam verdict answers like a held comment."""
    g.submission_verdict = status


def record_untrusted_forwarded_for() -> None:
    _METRICS.get().untrusted_forwarded_for.inc()


def record_rate_limit_storage_error() -> None:
    _METRICS.get().rate_limit_storage_errors.inc()


def _verdict(response: Response) -> str | None:
    if "submission_verdict" in g:
        return str(g.submission_verdict)
    return "rejected" if response.status_code < 500 else None


def init_app(app: Flask) -> None:
    # Metrics are per app and unregistered in multi-process mode (the files are the
    # registry there), so tests can build many apps in one process.
    own_registry = None if _multiprocess() else CollectorRegistry()
    metrics = Metrics(own_registry)
    queue_depth = QueueDepthCollector(database(app).engine)
    if own_registry is not None:
        own_registry.register(queue_depth)
    _METRICS.put(app, metrics)

    def _record(response: Response) -> Response:
        rule, method = route(), method_label()
        started = g.get("metrics_started")
        metrics.requests.labels(method, rule, str(response.status_code)).inc()
        if started is not None:
            metrics.latency.labels(method, rule).observe(time.perf_counter() - started)
        if rule in SUBMIT_RULES and request.method == "POST" and (verdict := _verdict(response)):
            metrics.submissions.labels(verdict).inc()
        return response

    app.before_request(_start)
    app.after_request(_record)

    # With a metrics port they are served there (serve_on_own_port), not to the public.
    if app_state.settings(app).metrics_port:
        return

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        registry = own_registry or _workers_registry(queue_depth)
        return Response(generate_latest(registry), mimetype=None, content_type=CONTENT_TYPE)
