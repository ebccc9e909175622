"""Prometheus metrics, served at ``GET /metrics``: requests, GraphQL errors, calls to the company systems.

``gateway serve --workers N`` (N > 1) gives its workers a shared directory (``PROMETHEUS_MULTIPROC_DIR``,
under ``var/`` unless the operator sets one), and ``/metrics`` then adds up every worker's figures, whichever
worker answers the scrape. Labels are bounded: a route is the route's pattern, never a raw path.
"""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus_client chose, as it was imported just above, whether its values live in that directory's files
_MULTIPROCESS = bool(os.environ.get(MULTIPROCESS_ENV))

REQUESTS = Counter(
    "gateway_http_requests",
    "HTTP requests answered, by route, method and status",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "gateway_http_request_duration_seconds",
    "Time from a request's arrival to its answer's last byte",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
GRAPHQL_ERRORS = Counter("gateway_graphql_errors", "Errors in GraphQL answers, by extensions.code", ["code"])
RATE_LIMITED = Counter(
    "gateway_rate_limited",
    "Requests refused or dropped by a rate limit (login, reset_mail, portal_issue, bank): alert on them",
    ["limit"],
)
ACCESS_DROPPED = Counter("gateway_access_log_dropped", "Access records dropped while the database was away")
UPSTREAM_CALLS = Counter(
    "gateway_upstream_calls",
    "HTTP requests to the company systems (each attempt), by outcome",
    ["system", "outcome"],
)
UPSTREAM_SECONDS = Histogram(
    "gateway_upstream_call_duration_seconds",
    "Time of one attempt at a company system, to its answer's head",
    ["system"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


class _Children:
    """A metric's labelled children, each looked up once (``labels()`` takes a lock and builds a key)."""

    def __init__(self, metric: Counter | Histogram, *fixed: str) -> None:
        self._metric = metric
        self._fixed = fixed
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *labels: str) -> Any:
        child = self._children.get(labels)
        if child is None:
            child = self._children[labels] = self._metric.labels(*self._fixed, *labels)
        return child


def route_labeler(routes: Sequence[BaseRoute]) -> Callable[[str], str]:
    """Path → label: a route's own path, its pattern for one with parameters (``/documents/{document_id}/
    download``), a mount's prefix, or "other": never the raw path, so that labels stay few."""
    exact = {r.path for r in routes if isinstance(r, Route) and not r.param_convertors}
    patterns = [(r.path_regex, r.path) for r in routes if isinstance(r, Route) and r.param_convertors]
    mounts = [r.path for r in routes if isinstance(r, Mount)]

    def label(path: str) -> str:
        if path in exact:
            return path
        for regex, pattern in patterns:
            if regex.match(path):
                return pattern
        for prefix in mounts:
            if path.startswith(prefix + "/"):
                return prefix
        return "other"

    return label


# Told of each request as it ends: (scope, route label, status, seconds). The access log is one.
RequestObserver = Callable[[Scope, str, int, float], None]


class MetricsMiddleware:
    """Counts and times every HTTP request by route, method and status, and tells ``observers`` (a list the
    app fills once its services are up)."""

    def __init__(
        self, app: ASGIApp, routes: Sequence[BaseRoute], observers: Sequence[RequestObserver] = ()
    ) -> None:
        self.app = app
        self._observers = observers
        self._label = route_labeler(routes)
        self._requests = _Children(REQUESTS)
        self._seconds = _Children(REQUEST_SECONDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = self._label(scope["path"])
            seconds = time.perf_counter() - start
            self._requests(route, scope["method"], str(status)).inc()
            self._seconds(route).observe(seconds)
            for observer in self._observers:
                observer(scope, route, status, seconds)


_errors_by_code = _Children(GRAPHQL_ERRORS)


_limited = _Children(RATE_LIMITED)


def count_rate_limited(limit: str) -> None:
    _limited(limit).inc()


def count_errors(codes: list[str]) -> None:
    """One answer's errors by code (an answer may carry one per row: a forbidden document on each invoice)."""
    for code, times in collections.Counter(codes).items():
        _errors_by_code(code).inc(times)


def upstream_observer(system: str) -> Callable[[str, float], None]:
    """``observe(outcome, seconds)`` for one system's attempts: "ok", an HTTP status class, or a failure."""
    seconds = UPSTREAM_SECONDS.labels(system)
    outcomes = _Children(UPSTREAM_CALLS, system)

    def observe(outcome: str, elapsed: float) -> None:
        outcomes(outcome).inc()
        seconds.observe(elapsed)

    return observe


async def metrics(request: Request) -> Response:
    if _MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
