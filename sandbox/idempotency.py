"""Idempotent writes for the sandbox systems: every write route takes an ``Idempotency-Key`` header.

- No key: 422. A key is scoped to one route of one system (each ``write_route`` owns its own store).
- Same key, same request (method, path, query and the body as canonical JSON): the first answer is replayed,
  same status and body, with ``Idempotent-Replayed: true``.
- Same key, another request: 409 ``{"error": "conflict"}``.
- Requests with the same key are serialised on an ``asyncio.Lock`` per key, so concurrent duplicates make
  exactly one write: the others wait for the first and then replay its answer.

Only successful (2xx) answers are recorded. An error answer (422, 404, 409, an injected 503 which the
middleware answers before the endpoint ever runs) leaves the key unused, so the caller may retry it with the
same key once the cause is fixed, which is what a client retrying a timed-out write needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.bodies import json_body
from sandbox.common import WRITE_MARK, Conflict, InvalidRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class RecordedAnswer:
    """The first successful answer given for a key, and the fingerprint of the request that got it."""

    fingerprint: str
    status: int
    body: bytes
    media_type: str | None


@dataclass
class IdempotencyStore:
    """The keys one write route has seen: recorded answers plus one lock per key."""

    answers: dict[str, RecordedAnswer] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def run(self, key: str, fingerprint: str, endpoint: Endpoint, request: Request) -> Response:
        """Answer ``request`` under ``key``: replay, refuse as a conflict, or call ``endpoint`` once."""
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            recorded = self.answers.get(key)
            if recorded is not None:
                if recorded.fingerprint != fingerprint:
                    raise Conflict(f"{HEADER} {key!r} was already used with another request")
                return Response(
                    recorded.body,
                    status_code=recorded.status,
                    media_type=recorded.media_type,
                    headers={REPLAYED_HEADER: "true"},
                )
            response = await endpoint(request)
            if 200 <= response.status_code < 300:
                self.answers[key] = RecordedAnswer(
                    fingerprint, response.status_code, bytes(response.body), response.media_type
                )
            return response


def idempotency_key(request: Request) -> str:
    """The request's ``Idempotency-Key``; a missing, empty or over-long one is 422."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise InvalidRequest(f"the {HEADER} header is required on writes")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"{HEADER}: at most {MAX_KEY_LENGTH} characters")
    return key


def canonical_json(value: object) -> str:
    """``value`` as JSON with sorted keys and no spaces, so equal data always gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


async def fingerprint(request: Request) -> str:
    """SHA-256 over method, path, query and the canonical body: what "the same request" means."""
    # The path is part of it because the key's scope is the route, and one route serves many ids. It is taken
    # below the mount point, so the same system reached through another mount sees the same request.
    path = request.url.path.removeprefix(str(request.scope.get("root_path", "")))
    what = [request.method, path, request.url.query, await json_body(request)]
    return hashlib.sha256(canonical_json(what).encode()).hexdigest()


def idempotent(endpoint: Endpoint, store: IdempotencyStore | None = None) -> Endpoint:
    """``endpoint`` behind an ``Idempotency-Key`` (a store of its own unless one is given)."""
    keys = store if store is not None else IdempotencyStore()

    async def guarded(request: Request) -> Response:
        key = idempotency_key(request)
        return await keys.run(key, await fingerprint(request), endpoint, request)

    guarded.__name__ = getattr(endpoint, "__name__", "write")
    guarded.__doc__ = endpoint.__doc__
    setattr(guarded, WRITE_MARK, True)  # build_system_app checks it
    return guarded


def write_route(path: str, endpoint: Endpoint, method: str = "POST") -> Route:
    """A write route: ``endpoint`` under ``method`` behind its own idempotency store."""
    if method not in WRITE_METHODS:
        raise ValueError(f"{method} is not a write method")
    return Route(path, idempotent(endpoint), methods=[method])


def is_write_route(route: object) -> bool:
    """Whether ``route`` is a ``write_route`` (every non-GET route of a system must be one)."""
    return bool(getattr(getattr(route, "endpoint", None), WRITE_MARK, False))
