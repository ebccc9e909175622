"""Two gateway processes sharing Redis and PostgreSQL, as in production: lockout, logout and revocation
done through one are felt through the other at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bench.processes import free_port, wait_ready
from gateway.db import create_engine, mandates, portal_users, utcnow
from gateway.settings import normalise_database_url
from sandbox.personas import BALTIJAS_RADIO_CLIENT
from tests.conftest import fresh_postgres, service_url
from tests.contract.test_personas import ILZE, JANIS, PETERIS, gid
from tests.integration.test_http import spawn

pytestmark = pytest.mark.services

VIEWER = {"query": "{ viewer { user { email } } }"}


@pytest.fixture(scope="module")
def two_gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    redis_url, database_url = service_url("REDIS_URL"), service_url("DATABASE_URL")
    asyncio.run(fresh_postgres(database_url))
    var: Path = tmp_path_factory.mktemp("var")
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    processes = [spawn(["sandbox", "--port", str(sandbox_port)], {})]
    env = {
        "BILLING_URL": f"{sandbox_url}/billing",
        "PERMITS_URL": f"{sandbox_url}/permits",
        "DOCUMENTS_URL": f"{sandbox_url}/documents",
        "GATEWAY_VAR_DIR": str(var),
        "GATEWAY_SECRET": "shared-" + uuid.uuid4().hex,
        "GATEWAY_SEED_PERSONAS": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": f"test-{uuid.uuid4().hex}:",
    }
    ports = [free_port(), free_port()]
    processes += [spawn(["serve", "--port", str(p), "--log-level", "warning"], env) for p in ports]
    try:
        wait_ready(f"{sandbox_url}/billing/health", processes[0])
        for port, process in zip(ports, processes[1:], strict=True):
            wait_ready(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}", database_url
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=60)


def login(base: str, email: str, password: str = "Radio-2026") -> httpx.Response:
    return httpx.post(f"{base}/auth/login", json={"email": email, "password": password}, timeout=60)


def viewer(base: str, token: str) -> object:
    body = httpx.post(
        f"{base}/graphql", json=VIEWER, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    return body.json()["data"]["viewer"]


def test_lockout_counts_failures_on_both_processes(two_gateways: tuple[str, str, str]) -> None:
    one, two, _ = two_gateways
    for attempt in range(5):
        assert login(one if attempt % 2 else two, ILZE, "wrong-123").status_code == 401
    assert login(one, ILZE).status_code == 423
    assert login(two, ILZE).status_code == 423


def test_logout_on_one_ends_the_session_on_the_other(two_gateways: tuple[str, str, str]) -> None:
    one, two, _ = two_gateways
    token = login(one, JANIS).json()["token"]
    assert viewer(two, token) is not None
    assert httpx.post(f"{two}/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    assert viewer(one, token) is None


def test_a_revocation_through_one_refuses_on_the_other(two_gateways: tuple[str, str, str]) -> None:
    one, two, database_url = two_gateways
    anna = login(one, "anna.ozola@example.lv").json()["token"]
    peteris = login(two, PETERIS).json()["token"]
    query = {
        "query": "query($id: ID!) { client(id: $id) { name representatives { id email revoked } } }",
        "variables": {"id": gid(BALTIJAS_RADIO_CLIENT)},
    }
    reps = httpx.post(f"{one}/graphql", json=query, headers={"Authorization": f"Bearer {anna}"}).json()
    rep = next(
        r for r in reps["data"]["client"]["representatives"] if r["email"] == PETERIS and not r["revoked"]
    )
    revoke = {
        "query": "mutation($c: ID!, $r: ID!) { revokeRepresentative(clientId: $c, representativeId: $r) }",
        "variables": {"c": gid(BALTIJAS_RADIO_CLIENT), "r": rep["id"]},
    }
    done = httpx.post(f"{one}/graphql", json=revoke, headers={"Authorization": f"Bearer {anna}"}).json()
    assert done["data"]["revokeRepresentative"] is True
    refused = httpx.post(f"{two}/graphql", json=query, headers={"Authorization": f"Bearer {peteris}"}).json()
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    async def revoked_in_database() -> int:
        engine = create_engine(normalise_database_url(database_url))
        async with engine.connect() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(mandates.join(portal_users, portal_users.c.id == mandates.c.user_id))
                .where(portal_users.c.email == PETERIS, mandates.c.revoked_at <= utcnow())
            )
        await engine.dispose()
        return int(count or 0)

    assert asyncio.run(revoked_in_database()) == 1
