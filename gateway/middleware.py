"""Pure ASGI middleware: request id and security headers on every response; the login endpoints' limit; the
request body's size."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.throttle import over_limit, refused
from gateway.context import client_ip

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class _HttpMiddleware:
    """Pure ASGI middleware for HTTP requests (``http``); anything else (the lifespan) passes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestIdMiddleware(_HttpMiddleware):
    """Takes a well-formed ``X-Request-Id`` from the caller or makes one; echoes it on the response."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)


# The endpoints that check a secret (a password, a reset token, a bank's assertion).
_SECRET_CHECKS = frozenset({"/auth/login", "/auth/password/reset", "/auth/bank/entry"})


class AuthRateLimitMiddleware:
    """Terms 12.2: POSTs to the endpoints that check a secret are counted per client address across every
    instance (``LOGIN_RATE_LIMIT``, 60 a minute); beyond it 429 ``{"error": "rate_limited", "retryAfter"}``
    with ``Retry-After``, before the body is read. The lockout bounds the tries per e-mail; this bounds how
    many e-mails (or tokens) one address can try. Each refusal is counted in ``/metrics`` and logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in _SECRET_CHECKS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        address = client_ip(request)
        services = request.app.state.services
        retry_after = await over_limit(
            services.store, f"auth-address:{address}", services.settings.login_rate_limit
        )
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        refusal = too_many_requests("login", retry_after, f"{address} at {scope['path']}")
        await refusal(scope, receive, send)


class _BodyTooLarge(Exception):
    """Raised into the route that reads a body past the limit; the middleware answers for it."""


class BodyLimitMiddleware(_HttpMiddleware):
    """A request body over ``MAX_REQUEST_BYTES`` (1 MiB) gets 413 ``{"error": "payload_too_large"}``: at once
    when its ``Content-Length`` says so, else as soon as what has arrived passes the limit, so that no route
    holds more than that in memory. The innermost middleware: the answer is counted and logged as usual."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        super().__init__(app)
        self.limit = limit

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(limit, scope["path"])(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _BodyTooLarge:
            if started:  # nothing reads a body after answering; if a route did, its answer cannot be mended
                raise
            await _too_large(limit, scope["path"])(scope, receive, send)


def _too_large(limit: int, path: str) -> JSONResponse:
    message = f"The request body is over {limit:,} bytes; send less in one request."
    if path == "/graphql":
        return graphql_refusal(message, 413)
    return JSONResponse({"error": "payload_too_large", "detail": message}, status_code=413)


def graphql_refusal(
    message: str, status: int, code: str = "BAD_USER_INPUT", headers: dict[str, str] | None = None
) -> JSONResponse:
    """A ``/graphql`` request refused before it could run, answered as GraphQL clients read errors."""
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


def too_many_requests(limit: str, retry_after: int, who: str) -> JSONResponse:
    """A refusal by the rate limit ``limit``, counted and logged (``auth.throttle.refused``) and answered
    429 ``{"error": "rate_limited", "retryAfter"}`` with ``Retry-After``."""
    refused(limit, who, retry_after)
    body = {"error": "rate_limited", "retryAfter": retry_after}
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(retry_after)})
