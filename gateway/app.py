"""The ASGI application: routes, middleware, and the start and stop of every service."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from gateway import audit_routes, auth_routes, downloads
from gateway.access_log import AccessLog
from gateway.graphql_view import GatewayGraphQL
from gateway.maintenance import MaintenanceMiddleware, MaintenanceMode
from gateway.metrics import MetricsMiddleware, RequestObserver, metrics
from gateway.middleware import AuthRateLimitMiddleware, BodyLimitMiddleware, RequestIdMiddleware
from gateway.pages import landing
from gateway.redaction import mask_pii_in_logs
from gateway.settings import Settings
from gateway.store import Store
from gateway.wiring import Runtime, sandbox_if_needed, sandbox_routes, start
from schema.build import create_schema

log = logging.getLogger("gateway")


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> JSONResponse:
    """Ready when the store, the database and every company system answer."""
    runtime: Runtime = request.app.state.runtime
    services = runtime.services

    async def db() -> None:
        async with runtime.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    checks = {
        "store": services.store.ping(),
        "database": db(),
        "billing": services.billing.ping(),
        "permits": services.permits.ping(),
        "documents": services.documents.ping(),
    }
    results = await asyncio.gather(*(asyncio.wait_for(c, 3) for c in checks.values()), return_exceptions=True)
    status = {name: "ok" if r is None else "unavailable" for name, r in zip(checks, results, strict=True)}
    ready = all(v == "ok" for v in status.values())
    return JSONResponse({"ready": ready, "checks": status}, status_code=200 if ready else 503)


async def receipt_keys(request: Request) -> JSONResponse:
    """The public key receipts are signed with (terms 20, 31): anyone can check a receipt against it."""
    return JSONResponse(request.app.state.services.receipts.jwks(), headers={"Cache-Control": "max-age=300"})


async def unified_login(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return await runtime.unified_login.login(request)


async def unified_callback(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return await runtime.unified_login.callback(request)


async def bank_entry(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return await runtime.bank_entry.entry(request)


def tune_gc(threshold: int) -> None:
    """Make the cyclic garbage collector cheaper for a worker that answers requests from here on.

    Everything alive once the worker has started (modules, the schema, pools, caches) stays alive: it is
    frozen out of the collector's scans (``gc.freeze``), so a full collection no longer walks it. And the
    youngest generation is collected after ``threshold`` allocations instead of 700, so that an answer's
    short-lived objects (a page of records is tens of thousands) are mostly freed by reference counting
    before a collection would scan them (what it bought: bench/README.md).
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(threshold, middle, oldest)


async def stop_tasks(tasks: list[asyncio.Task[None]], seconds: float = 5.0) -> None:
    """Cancels the background loops and waits for them, cancelling again every 0.1 s: a loop whose
    cancellation was swallowed on the way ends at its next wait (seen in the tests at shutdown: the
    maintenance watcher slept on after its cancellation, most likely lost within its Redis read, and the
    shutdown waited for it forever). Gives up after ``seconds``, saying which."""
    deadline = asyncio.get_running_loop().time() + seconds
    pending = [task for task in tasks if not task.done()]
    while pending and asyncio.get_running_loop().time() < deadline:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=0.1)
        pending = [task for task in pending if not task.done()]
    for task in pending:
        log.error("background task %s did not stop within %g s", task.get_name(), seconds)


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, sandbox: Any | None = None
) -> Starlette:
    """The gateway. ``store`` and ``sandbox`` are for tests that share them between instances."""
    mask_pii_in_logs()
    settings = settings or Settings.from_env()
    schema = create_schema(
        introspection=settings.is_dev,
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_cost=settings.max_query_cost,
    )
    sandbox = sandbox_if_needed(settings, sandbox)

    observers: list[RequestObserver] = []  # told of each request as it ends (the access log, once up)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await start(settings, store=store, sandbox=sandbox)
        app.state.runtime = runtime
        app.state.services = runtime.services
        if settings.gc_threshold > 0:
            tune_gc(settings.gc_threshold)
        maintenance = MaintenanceMode(runtime.services.store)
        await maintenance.refresh()
        app.state.maintenance = maintenance
        worker = asyncio.create_task(runtime.services.outbox.run(settings.outbox_interval))
        watcher = asyncio.create_task(maintenance.watch())
        access = AccessLog(
            runtime.engine,
            retention_days=settings.access_log_days,
            flush_seconds=settings.access_log_flush_seconds,
            trusted_proxies=settings.trusted_proxies,
        )
        app.state.access_log = access
        observers.append(access.observe)
        writer = asyncio.create_task(access.run())
        try:
            yield
        finally:
            await stop_tasks([watcher, worker, writer])
            observers.remove(access.observe)
            await access.close()
            await runtime.aclose()

    graphql = GatewayGraphQL(schema, dev=settings.is_dev)
    login_flow = [
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie="esakari_login_flow",
            max_age=600,
            same_site="lax",
            https_only=not settings.is_dev,
        )
    ]
    routes: list[BaseRoute] = [
        Route("/", landing),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/.well-known/jwks.json", receipt_keys),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        *auth_routes.routes,
        # Only the unified login's short flow has a session of its own: authlib ties the flow to the browser
        # with it. Other routes, /graphql above all, neither read nor write its cookie.
        Route("/auth/unified/login", unified_login, methods=["GET"], middleware=login_flow),
        Route("/auth/unified/callback", unified_callback, methods=["GET"], middleware=login_flow),
        Route("/auth/bank/entry", bank_entry, methods=["POST"]),
        *downloads.routes,
        *audit_routes.routes,
    ]
    if sandbox is not None:
        routes += sandbox_routes(sandbox)
    middleware = [
        Middleware(RequestIdMiddleware),
        *_cors(settings.cors_origins),
        Middleware(MetricsMiddleware, routes=routes, observers=observers),
        Middleware(MaintenanceMiddleware),
        Middleware(AuthRateLimitMiddleware),
        Middleware(BodyLimitMiddleware, limit=settings.max_request_bytes),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


def _cors(origins: tuple[str, ...]) -> list[Middleware]:
    """``CORS_ORIGINS``: pages of these origins may call every route, with credentials (the session cookie,
    when the browser sends it cross-origin) or a bearer token, and read the request id and ``Retry-After``.
    Outside every other middleware, so that a refusal (429, 503) reaches the page readable. Other origins get
    no CORS headers: the browser keeps their pages from reading answers or sending the non-simple requests
    the cookie's CSRF check asks for."""
    if not origins:
        return []
    cors = Middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_credentials=True,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type", "X-Requested-With", "X-Request-Id"],
        expose_headers=["X-Request-Id", "Retry-After"],
        max_age=600,
    )
    return [cors]
