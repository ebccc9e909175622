"""Maintenance mode (terms 24, 27, 33): switched on in the shared store, observed by every instance."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.db import audit_log, create_engine
from gateway.maintenance import KEY, RETRY_WITHOUT_END, MaintenanceMode, Window
from gateway.settings import normalise_database_url
from gateway.store import MemoryStore
from tests.conftest import Gateway, GatewayFactory, service_url
from tests.contract.test_personas import JANIS

VIEWER = "{ viewer { user { email } } }"


async def graphql(gateway: Gateway, token: str) -> Any:
    return await gateway.client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
    )


async def test_every_instance_answers_maintenance_until_it_is_switched_off(
    make_gateway: GatewayFactory,
) -> None:
    one, two = await make_gateway(), await make_gateway()
    token = await two.login(JANIS)
    await one.app.state.maintenance.switch_on("Planned works until 18:00.", None)
    await asyncio.sleep(1.2)  # the other instance reads the switch every second

    refused = await graphql(two, token)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == str(RETRY_WITHOUT_END) and refused.headers["x-request-id"]
    assert refused.json() == {
        "errors": [{"message": "Planned works until 18:00.", "extensions": {"code": "MAINTENANCE"}}]
    }
    login = await two.client.post("/auth/login", json={"email": JANIS, "password": "Radio-2026"})
    assert login.status_code == 503
    assert login.json() == {"error": "maintenance", "message": "Planned works until 18:00."}
    for path in ("/healthz", "/.well-known/jwks.json"):
        assert (await two.client.get(path)).status_code == 200, path

    await one.app.state.maintenance.switch_off()
    await asyncio.sleep(1.2)
    served = await graphql(two, token)
    assert served.status_code == 200 and served.json()["data"]["viewer"]["user"]["email"] == JANIS


async def test_a_maintenance_with_an_end_says_when_and_ends_by_itself() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    window = Window("Back at noon.", now - timedelta(hours=1), now + timedelta(seconds=90))
    assert window.retry_after(now) == 91 and not window.over(now)
    assert window.over(now + timedelta(seconds=90))
    mode = MaintenanceMode(MemoryStore())
    mode._window = window
    assert mode.current(now) == window and mode.current(now + timedelta(seconds=91)) is None
    store = MemoryStore()
    switched = await MaintenanceMode(store).switch_on(None, 1)
    assert switched.until is not None and switched.message.startswith("The portal is closed for maintenance")
    remaining = await store.ttl(KEY)
    assert remaining is not None and 55 <= remaining <= 61  # the switch leaves the store at its end too


async def test_a_malformed_switch_counts_as_on_and_a_failing_store_keeps_the_last_view() -> None:
    store = MemoryStore()
    mode = MaintenanceMode(store, check_every=0.01)
    await store.put(KEY, "{not json")
    assert (await mode.refresh()) is not None and mode.current() is not None

    class Failing(MemoryStore):
        async def get(self, key: str) -> str | None:
            raise ConnectionError("store down")

    seen = MaintenanceMode(Failing(), check_every=0.01)
    seen._window = Window("On.", datetime.now(UTC))
    watching = asyncio.create_task(seen.watch())
    await asyncio.sleep(0.05)
    assert not watching.done() and seen.current() is not None
    watching.cancel()


def maintenance(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "maintenance", *args],
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
            "GATEWAY_VAR_DIR": str(tmp_path),
            "REDIS_URL": "",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.services
async def test_the_shell_switches_it_for_the_instances_and_the_journal_records_who(tmp_path: Path) -> None:
    shared = {"REDIS_URL": service_url("REDIS_URL"), "REDIS_PREFIX": f"test:{uuid.uuid4().hex}:"}
    assert maintenance(tmp_path, "status", **shared).stdout == "off\n"
    on = maintenance(tmp_path, "on", "--message", "Database upgrade.", "--minutes", "30", **shared)
    assert on.returncode == 0, on.stderr
    status = maintenance(tmp_path, "status", **shared).stdout
    assert status.startswith("on since ") and " until " in status and status.endswith(": Database upgrade.\n")
    assert maintenance(tmp_path, "off", **shared).returncode == 0
    assert maintenance(tmp_path, "status", **shared).stdout == "off\n"
    engine = create_engine(normalise_database_url(f"sqlite:///{tmp_path / 'gateway.db'}"))
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(audit_log.c.operation, audit_log.c.principal))).all()
    finally:
        await engine.dispose()
    assert [r.operation for r in rows] == ["maintenanceOn", "maintenanceOff"]
    assert all(r.principal.startswith("cli:") for r in rows)


def test_bad_arguments_are_explained(tmp_path: Path) -> None:
    for minutes in ("0", "-5", "soon", "20000"):
        bad = maintenance(tmp_path, "on", "--minutes", minutes)
        assert bad.returncode == 2 and "minutes from above 0 to a week" in bad.stderr, minutes
    unset = maintenance(tmp_path, "status")
    assert unset.returncode == 0 and "REDIS_URL is not set" in unset.stdout
