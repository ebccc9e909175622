"""Terms 9, 22.4, 23.1: every request's caller, client address and user agent reach the access log, written in
batches so that no request waits for the database; none is lost while the database is away (within bounds),
and rows past the retention are deleted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Scope

from gateway import access_log as access_module
from gateway.access_log import AccessLog
from gateway.db import access_log, create_engine, migrate, utcnow
from tests.conftest import Gateway, GatewayFactory, gateway_settings
from tests.contract.test_personas import JANIS

BROWSER = {"User-Agent": "Mozilla/5.0 (portal test)", "X-Forwarded-For": "198.51.100.7"}


async def access_rows(gateway: Gateway) -> list[dict[str, Any]]:
    access: AccessLog = gateway.app.state.access_log
    await access.flush()
    async with access.engine.connect() as conn:
        rows = await conn.execute(sa.select(access_log).order_by(access_log.c.id))
        return [dict(row._mapping) for row in rows]


async def test_each_request_is_logged_with_caller_address_and_user_agent(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    gateway = await make_gateway(settings=gateway_settings(tmp_path, trusted_proxies=("127.0.0.1",)))
    login = await gateway.client.post(
        "/auth/login", json={"email": JANIS, "password": "Radio-2026"}, headers=BROWSER
    )
    token = login.json()["token"]
    gateway.client.cookies.clear()  # the bearer token below; the request after it is anonymous
    bearer = {**BROWSER, "Authorization": f"Bearer {token}"}
    viewer = await gateway.client.post(
        "/graphql", json={"query": "{ viewer { user { id } } }"}, headers=bearer
    )
    assert viewer.json()["data"]["viewer"]["user"]["id"]
    await gateway.client.post("/graphql", json={"query": "{ viewer { user { id } } }"})  # anonymous
    await gateway.client.get("/healthz")
    await gateway.client.get("/no/such/page")
    assert (await gateway.client.get("/sandbox/billing/health")).status_code == 200  # a mounted app
    rows = await access_rows(gateway)
    mounted = rows.pop()
    assert mounted["route"].startswith("/sandbox") and mounted["status"] == 200
    seen = [(r["method"], r["route"], r["status"], r["principal_kind"]) for r in rows]
    assert seen == [
        ("POST", "/auth/login", 200, "user"),
        ("POST", "/graphql", 200, "user"),
        ("POST", "/graphql", 200, "anonymous"),
        ("GET", "other", 404, "anonymous"),
    ]
    janis = await gateway.app.state.services.accounts.by_email(JANIS)
    assert [r["principal"] for r in rows] == [janis.id, janis.id, None, None]
    assert [r["ip"] for r in rows] == ["198.51.100.7", "198.51.100.7", "127.0.0.1", "127.0.0.1"]
    assert rows[1]["user_agent"] == "Mozilla/5.0 (portal test)" and rows[2]["user_agent"]
    assert rows[1]["request_id"] == viewer.headers["X-Request-Id"]
    assert all(r["duration_ms"] > 0 and r["at"] is not None for r in rows)


def scope(path: str = "/graphql") -> Scope:
    return {"type": "http", "method": "POST", "path": path, "headers": [], "client": ("192.0.2.1", 1)}


async def test_records_wait_while_the_database_is_away_and_the_oldest_go_beyond_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")  # no tables yet: "away"
    access = AccessLog(engine, retention_days=365)
    monkeypatch.setattr(access_module, "MAX_PENDING", 3)
    for n in range(5):
        access.observe(scope(), "/graphql", 200 + n, 0.001)
    with pytest.raises(sa.exc.OperationalError):
        await access.flush()
    await migrate(engine)  # back
    assert await access.flush() == 3
    async with engine.connect() as conn:
        statuses = (await conn.execute(sa.select(access_log.c.status))).scalars().all()
    assert sorted(statuses) == [202, 203, 204]  # the two oldest were dropped
    await engine.dispose()


async def test_a_nul_or_an_over_long_value_is_fitted_to_its_column_not_refused(engine: AsyncEngine) -> None:
    """PostgreSQL refuses NUL in text: one such user agent must not keep a batch (every request's record
    in it) from being written, nor may an over-long one."""
    access = AccessLog(engine, retention_days=365)
    odd = {**scope(), "headers": [(b"user-agent", b"bot\x00" + b"x" * 500)]}
    access.observe(odd, "/graphql", 200, 0.001)
    access.observe(scope(), "/graphql", 201, 0.001)
    assert await access.flush() == 2
    async with engine.connect() as conn:
        agents = (await conn.execute(sa.select(access_log.c.user_agent).order_by(access_log.c.id))).all()
    assert agents[0][0] == "bot\ufffd" + "x" * 396 and agents[1][0] is None


async def test_rows_past_the_retention_are_deleted(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}")
    await migrate(engine)
    access = AccessLog(engine, retention_days=30)
    access.observe(scope(), "/graphql", 200, 0.001)
    access.observe(scope(), "/graphql", 404, 0.001)
    await access.flush()
    async with engine.begin() as conn:  # the 404 is from 31 days ago
        old = access_log.update().where(access_log.c.status == 404)
        await conn.execute(old.values(at=utcnow() - timedelta(days=31)))
    assert await access.purge() == 1
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(access_log.c.status))).scalars().all() == [200]
    await engine.dispose()
