"""Machinery shared by the sandbox company systems: JSON encoding, errors, query parsing, grouped keyset
paging, request statistics and injected faults, and the control routes every system serves.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import random
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")
MAX_IDS = 500
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
PAGING_PARAMS_NAMES = ("limit", "after")
# Control routes: never counted in /_stats and never delayed or failed by the fault knobs, except that a
# system switched `down` fails its /health too, as a real one would.
CONTROL_PATHS = frozenset({"/_stats", "/_stats/reset", "/_faults", "/health", "/openapi.json"})
# The attribute ``sandbox.idempotency`` sets on a write endpoint; ``build_system_app`` refuses a system route
# that is not a GET without it, so no write can ever skip the Idempotency-Key handling.
WRITE_MARK = "is_idempotent_write"


class InvalidRequest(Exception):
    """A bad parameter: answered 422 (or ``status``, e.g. 413) ``{"error": "invalid_request", "detail"}``."""

    def __init__(self, detail: str, *, status: int = 422) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


class NotFound(Exception):
    """An unknown thing: answered 404 ``{"error": "not_found", "detail": ...}``."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Conflict(Exception):
    """A request the current state forbids: answered 409 ``{"error": "conflict", "detail": ...}``."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def to_json(value: object) -> Any:
    """Plain JSON data of a record: decimals as strings, dates and times in ISO 8601, tuples as lists."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


def error_response(status: int, error: str, detail: str | None = None) -> JSONResponse:
    """The systems' error body ``{"error": ..., "detail": ...}``."""
    body: dict[str, str] = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status)


# -- query parameters ---------------------------------------------------------------------------------------


def check_params(request: Request, allowed: Collection[str]) -> None:
    """Refuse parameters the endpoint does not know, so that a caller's typo fails loudly."""
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise InvalidRequest(f"unknown query parameter(s): {', '.join(unknown)}")


def id_list(request: Request, name: str) -> list[str] | None:
    """A comma-separated id list (duplicates dropped, order kept), ``None`` if absent; over 500 is 422."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    ids = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if len(ids) > MAX_IDS:
        raise InvalidRequest(f"{name}: at most {MAX_IDS} ids, got {len(ids)}")
    return ids


def limit_param(request: Request) -> int:
    """``limit`` in 1..100, default 20."""
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidRequest(f"limit: not an integer: {raw!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit: must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def enum_param(request: Request, name: str, allowed: Sequence[str]) -> str | None:
    """An optional enum parameter; an unknown value is 422."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw not in allowed:
        raise InvalidRequest(f"{name}: unknown value {raw!r}; one of {', '.join(allowed)}")
    return raw


def one_mode(request: Request, modes: Mapping[str, Collection[str]]) -> str:
    """Which of an endpoint's mutually exclusive modes (keyed by their selecting parameter) the query uses."""
    present = [mode for mode in modes if mode in request.query_params]
    if len(present) != 1:
        raise InvalidRequest(f"give exactly one of: {', '.join(modes)}")
    check_params(request, {present[0], *modes[present[0]]})
    return present[0]


# -- grouped keyset paging ----------------------------------------------------------------------------------


def encode_cursor(sort_key: str, record_id: str) -> str:
    """The opaque cursor of a record: urlsafe base64 of ``[sort_key, id]``."""
    raw = json.dumps([sort_key, record_id], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The ``(sort_key, id)`` of a cursor; anything that does not decode is 422."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = orjson.loads(raw)
    except (binascii.Error, orjson.JSONDecodeError):
        raise InvalidRequest("after: not a valid cursor") from None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise InvalidRequest("after: not a valid cursor")
    return value[0], value[1]


@dataclass(frozen=True, slots=True)
class Ordering:
    """How an owner's records are sorted: by ``key`` (ascending or descending), ties by id ascending."""

    key: Callable[[Any], str]
    record_id: Callable[[Any], str]
    descending: bool

    def sort(self, records: Iterable[T]) -> list[T]:
        by_id = sorted(records, key=self.record_id)
        return sorted(by_id, key=self.key, reverse=self.descending)  # stable: ties keep id order

    def follows(self, record: object, after: tuple[str, str]) -> bool:
        key, rid = self.key(record), self.record_id(record)
        if key == after[0]:
            return rid > after[1]
        return key < after[0] if self.descending else key > after[0]


def grouped_pages(
    owner_ids: Sequence[str],
    records_of: Callable[[str], Iterable[T]],
    ordering: Ordering,
    *,
    limit: int,
    after: str | None,
    keep: Callable[[T], bool] = lambda _: True,
    render: Callable[[T], Any] = to_json,
) -> dict[str, Any]:
    """``{"groups": [...]}``: one page per owner asked for, in order (empty for an owner with nothing)."""
    position = decode_cursor(after) if after is not None else None
    groups = []
    for owner_id in owner_ids:
        matching = ordering.sort(r for r in records_of(owner_id) if keep(r))
        rest = [r for r in matching if ordering.follows(r, position)] if position else matching
        page = rest[:limit]
        edges = [
            {"cursor": encode_cursor(ordering.key(r), ordering.record_id(r)), "node": render(r)} for r in page
        ]
        groups.append(
            {"owner_id": owner_id, "total": len(matching), "has_more": len(rest) > limit, "edges": edges}
        )
    return {"groups": groups}


def unpaged_groups(
    owner_ids: Sequence[str], records_of: Callable[[str], Iterable[T]], ordering: Ordering
) -> dict[str, Any]:
    """``{"groups": [{"owner_id", "items"}]}`` for lists by parent that are not paged."""
    return {
        "groups": [
            {"owner_id": owner_id, "items": [to_json(r) for r in ordering.sort(records_of(owner_id))]}
            for owner_id in owner_ids
        ]
    }


# -- statistics, faults and the control routes -------------------------------------------------------------


@dataclass
class Stats:
    """Requests a system has answered since start or reset, in total and per ``"METHOD /route"``."""

    requests: int = 0
    by_route: Counter[str] = field(default_factory=Counter)

    def record(self, route: str) -> None:
        self.requests += 1
        self.by_route[route] += 1

    def reset(self) -> None:
        self.requests = 0
        self.by_route.clear()

    def as_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "by_route": dict(sorted(self.by_route.items()))}


@dataclass
class Faults:
    """Fault knobs of one system: delay every counted request, fail a share of them, or fail them all."""

    latency_ms: int = 0
    fail_rate: float = 0.0
    down: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {"latency_ms": self.latency_ms, "fail_rate": self.fail_rate, "down": self.down}

    def update(self, body: object) -> None:
        """Apply ``{"latency_ms", "fail_rate", "down"}`` (any subset), validating all before changing any."""
        if not isinstance(body, dict):
            raise InvalidRequest("body must be a JSON object")
        unknown = set(body) - {"latency_ms", "fail_rate", "down"}
        if unknown:
            raise InvalidRequest(f"unknown field(s): {', '.join(sorted(unknown))}")
        latency = body.get("latency_ms", self.latency_ms)
        rate = body.get("fail_rate", self.fail_rate)
        down = body.get("down", self.down)
        if isinstance(latency, bool) or not isinstance(latency, int) or latency < 0:
            raise InvalidRequest("latency_ms must be a non-negative integer")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise InvalidRequest("fail_rate must be a number between 0 and 1")
        if not isinstance(down, bool):
            raise InvalidRequest("down must be a boolean")
        self.latency_ms, self.fail_rate, self.down = latency, float(rate), down

    def should_fail(self) -> bool:
        return self.down or (self.fail_rate > 0 and self.rng.random() < self.fail_rate)


class SystemMiddleware:
    """Counts answered requests by route template, then applies the fault knobs (control routes exempt)."""

    def __init__(self, app: ASGIApp, *, stats: Stats, faults: Faults, routes: Sequence[BaseRoute]) -> None:
        self.app, self.stats, self.faults, self.routes = app, stats, faults, routes

    def _template(self, scope: Scope) -> str:
        partial = None
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return str(getattr(route, "path", "*"))
            if match is Match.PARTIAL and partial is None:
                partial = str(getattr(route, "path", "*"))
        return partial or "*"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        template = self._template(scope)
        if template == "/health" and self.faults.down:
            await error_response(503, "unavailable")(scope, receive, send)
            return
        if template in CONTROL_PATHS:
            await self.app(scope, receive, send)
            return
        self.stats.record(f"{scope['method']} {template}")
        delay = self.faults.latency_ms / 1000
        if delay > 0 and scope["method"] == "GET":
            await asyncio.sleep(delay)
        if self.faults.should_fail():
            await error_response(503, "unavailable")(scope, receive, send)
            return
        if delay > 0 and scope["method"] != "GET":
            # A slow write is done at once and answered late, as when an acknowledgement is lost or slow: the
            # case a caller's retry with the same idempotency key must survive.
            await self.app(scope, receive, _late(send, delay))
            return
        await self.app(scope, receive, send)


def _late(send: Send, delay: float) -> Send:
    async def late_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(delay)
        await send(message)

    return late_send


def build_system_app(routes: list[BaseRoute], *, faults: Faults, openapi: dict[str, Any]) -> Starlette:
    """A system's Starlette app: its routes plus /health, /_stats, /_faults and /openapi.json.

    Every route in ``routes`` that is not a GET must be a ``sandbox.idempotency.write_route``.
    """
    for route in routes:
        methods = getattr(route, "methods", None) or set()
        endpoint = getattr(route, "endpoint", None)
        if methods - {"GET", "HEAD"} and not getattr(endpoint, WRITE_MARK, False):
            raise ValueError(f"{getattr(route, 'path', route)}: writes must be made with write_route")
    stats = Stats()

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def get_stats(_: Request) -> Response:
        return JSONResponse(stats.as_json())

    async def reset_stats(_: Request) -> Response:
        stats.reset()
        return Response(status_code=204)

    async def get_faults(_: Request) -> Response:
        return JSONResponse(faults.as_json())

    async def set_faults(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise InvalidRequest("body must be JSON") from None
        faults.update(body)
        return Response(status_code=204)

    async def get_openapi(_: Request) -> Response:
        return JSONResponse(openapi)

    all_routes: list[BaseRoute] = [
        *routes,
        Route("/health", health, methods=["GET"]),
        Route("/_stats", get_stats, methods=["GET"]),
        Route("/_stats/reset", reset_stats, methods=["POST"]),
        Route("/_faults", get_faults, methods=["GET"]),
        Route("/_faults", set_faults, methods=["POST"]),
        Route("/openapi.json", get_openapi, methods=["GET"]),
    ]

    async def invalid(_: Request, exc: Exception) -> Response:
        return error_response(getattr(exc, "status", 422), "invalid_request", str(exc))

    async def not_found(_: Request, exc: Exception) -> Response:
        return error_response(404, "not_found", str(exc))

    async def conflict(_: Request, exc: Exception) -> Response:
        return error_response(409, "conflict", str(exc))

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return error_response(404, "not_found", "no such path")
        return error_response(exc.status_code, "invalid_request", exc.detail)

    app = Starlette(
        routes=all_routes,
        middleware=[Middleware(SystemMiddleware, stats=stats, faults=faults, routes=all_routes)],
        exception_handlers={
            InvalidRequest: invalid,
            NotFound: not_found,
            Conflict: conflict,
            HTTPException: http_error,
        },
    )
    app.state.stats = stats
    app.state.faults = faults
    return app
