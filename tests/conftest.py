"""Shared fixtures: a gateway in process over the sandbox, logged-in clients per persona, service URLs."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import create_app
from gateway.db import create_engine, drop_all, migrate
from gateway.settings import Settings, normalise_database_url
from gateway.store import MemoryStore, RedisStore, Store
from sandbox.app import build_sandbox
from sandbox.data import build_dataset
from sandbox.personas import DEMO_PASSWORD

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def missing(what: str, needed: str, remedy: str) -> NoReturn:
    """Something a test needs is not here: skip with the reason, or, in CI (``REQUIRE_SERVICES=1``), fail."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} but REQUIRE_SERVICES=1: {remedy}.")
    pytest.skip(f"{what}: this test needs {needed} (see README, 'Tests').")


def service_url(name: str) -> str:
    """The URL of a service the test needs; skip (or, in CI, fail) when it is not configured."""
    url = os.environ.get(name)
    if not url:
        missing(f"{name} is not set", "a real service", f"start the service and set {name}")
    return url


@pytest.fixture
def redis_url() -> str:
    return service_url("REDIS_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The gateway's database, migrated: a SQLite file and (emptied first) the test PostgreSQL."""
    if request.param == "postgresql":
        url = await fresh_postgres(service_url("DATABASE_URL"))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    the_engine = create_engine(url)
    await migrate(the_engine)
    yield the_engine
    await the_engine.dispose()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.services)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """The shared store, in memory and in Redis (a key prefix of its own), for tests of either."""
    if request.param == "memory":
        yield MemoryStore()
        return
    redis = RedisStore(service_url("REDIS_URL"), prefix=f"test:{uuid.uuid4().hex}:")
    yield redis
    await redis.close()


@pytest.fixture
def database_url() -> str:
    return service_url("DATABASE_URL")


def gateway_settings(tmp_path: Path, **overrides: Any) -> Settings:
    base = Settings(
        env="dev",
        secret_key="test-secret-" + uuid.uuid4().hex,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        upstream_timeout_seconds=2.0,
        outbox_dir=str(tmp_path / "outbox"),
        public_url="http://gateway.test",  # the test client's base URL: redirects and links stay on it
        receipt_key_file=str(tmp_path / "receipt-key.json"),
    )
    return replace(base, **overrides)


@dataclass
class Gateway:
    """A running gateway in process, with its sandbox, and an HTTP client speaking to it."""

    app: Any
    client: httpx.AsyncClient
    sandbox: Any

    async def login(self, email: str, password: str = DEMO_PASSWORD) -> str:
        response = await self.client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        # Tests authenticate explicitly with the bearer token; the cookie path is tested on its own.
        self.client.cookies.clear()
        token: str = response.json()["token"]
        return token

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def as_persona(
        self, email: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self.gql(query, variables, token=await self.login(email))


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture(params=["embedded", pytest.param("services", marks=pytest.mark.services)])
def backend(request: pytest.FixtureRequest) -> str:
    """Every gateway test runs on the embedded defaults and, with REDIS_URL and DATABASE_URL, on both."""
    return str(request.param)


async def fresh_postgres(url: str) -> str:
    """The test database emptied of the gateway's tables; migrations run again when a gateway starts."""
    engine = create_engine(normalise_database_url(url))
    async with engine.begin() as conn:
        await drop_all(conn)
    await engine.dispose()
    return normalise_database_url(url)


@pytest.fixture
async def make_gateway(tmp_path: Path, backend: str) -> AsyncIterator[GatewayFactory]:
    """Start gateway instances; within one test they share one store and one database, like a deployment."""
    stack: list[tuple[Any, httpx.AsyncClient]] = []
    store: Store
    if backend == "services":
        database_url = await fresh_postgres(service_url("DATABASE_URL"))
        store = RedisStore(service_url("REDIS_URL"), prefix=f"test:{uuid.uuid4().hex}:")
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
        store = MemoryStore()
    secret = "test-secret-" + uuid.uuid4().hex

    async def start(*, settings: Settings | None = None, sandbox: Any | None = None) -> Gateway:
        sandbox = sandbox or build_sandbox(build_dataset())
        settings = replace(
            settings or gateway_settings(tmp_path), database_url=database_url, secret_key=secret
        )
        app = create_app(settings, store=store, sandbox=sandbox)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
        stack.append((lifespan, client))
        return Gateway(app=app, client=client, sandbox=sandbox)

    yield start
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)
    await store.close()


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    return await make_gateway()


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    yield store
    await store.close()
