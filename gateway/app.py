"""The ASGI application: routes, middleware, and the start and stop of every service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route

from gateway import auth_routes, downloads
from gateway.graphql_view import GatewayGraphQL
from gateway.middleware import RequestIdMiddleware
from gateway.pages import landing
from gateway.settings import Settings
from gateway.store import Store
from gateway.wiring import Runtime, sandbox_if_needed, start
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


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, sandbox: Any | None = None
) -> Starlette:
    """The gateway. ``store`` and ``sandbox`` are for tests that share them between instances."""
    settings = settings or Settings.from_env()
    schema = create_schema(
        introspection=settings.is_dev,
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
    )
    sandbox = sandbox_if_needed(settings, sandbox)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = await start(settings, store=store, sandbox=sandbox)
        app.state.runtime = runtime
        app.state.services = runtime.services
        try:
            yield
        finally:
            await runtime.aclose()

    graphql = GatewayGraphQL(schema, dev=settings.is_dev)
    routes: list[BaseRoute] = [
        Route("/", landing),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        *auth_routes.routes,
        *downloads.routes,
    ]
    if sandbox is not None:
        routes.append(Mount("/sandbox", routes=sandbox.routes()))
    return Starlette(routes=routes, middleware=[Middleware(RequestIdMiddleware)], lifespan=lifespan)
