"""The benchmark's database: SQLite by default, a scratch PostgreSQL database when asked (as production)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from auth.accounts import Accounts
from bench.processes import (
    BENCH_EMAIL,
    LARGE_CLIENT,
    SMALL_CLIENT,
    DatabaseServer,
    database_kind,
    prepare_database,
)
from gateway.db import create_engine
from gateway.settings import normalise_database_url
from tests.conftest import service_url


async def _bench_user_clients(url: str) -> list[str]:
    engine = create_engine(normalise_database_url(url))
    try:
        accounts = Accounts(engine)
        user = await accounts.by_email(BENCH_EMAIL)
        assert user is not None
        found = await accounts.with_mandates(user.id)
        assert found is not None
        assert await accounts.by_email("janis.berzins@example.lv") is not None  # the personas too
        return sorted(m.client_id for m in found[1])
    finally:
        await engine.dispose()


def test_a_database_that_cannot_be_opened_stops_the_run_with_a_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-directory' / 'gateway.db'}"
    with pytest.raises(SystemExit) as stopped:
        prepare_database(tmp_path / "var", url)
    message = str(stopped.value)
    assert message.startswith("The sqlite database of --database-url cannot be prepared: unable to open")
    assert "must exist and be a scratch database" in message


def test_sqlite_by_default(tmp_path: Path) -> None:
    url = prepare_database(tmp_path / "var")
    assert url.startswith("sqlite:") and (tmp_path / "var" / "gateway.db").exists()
    assert asyncio.run(_bench_user_clients(url)) == sorted([LARGE_CLIENT, SMALL_CLIENT])


@pytest.mark.services
def test_a_postgresql_database_is_emptied_and_seeded_again(tmp_path: Path) -> None:
    url = service_url("DATABASE_URL")
    assert prepare_database(tmp_path / "one", url) == url
    # A second run starts from empty tables: one bench user with its two mandates, not two of each.
    prepare_database(tmp_path / "two", url)
    assert asyncio.run(_bench_user_clients(url)) == sorted([LARGE_CLIENT, SMALL_CLIENT])
    assert not (tmp_path / "two" / "gateway.db").exists()


def test_only_a_local_postgresql_server_is_counted() -> None:
    assert DatabaseServer.on_this_machine("sqlite+aiosqlite:///var/gateway.db") is None
    assert DatabaseServer.on_this_machine("postgresql+asyncpg://u:p@db.example.lv/gateway") is None


@pytest.mark.services
def test_a_local_postgresql_servers_cpu_is_counted() -> None:
    url = normalise_database_url(service_url("DATABASE_URL"))
    server = DatabaseServer.on_this_machine(url)
    assert server is not None and server.servers

    async def busy_backend() -> tuple[float, float]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                before = server.readings()  # this connection's backend is already running
                await conn.execute(sa.text("SELECT count(*) FROM generate_series(1, 2000000)"))
                busy = server.cpu_since(before)
            # Its backend ends with the engine: what it spent is then out of reach, but not taken off.
            before = server.readings()
        finally:
            await engine.dispose()
        return busy, server.cpu_since(before)

    busy, after_it_ended = asyncio.run(busy_backend())
    assert busy > 0.05  # counting two million rows costs the backend CPU, which is counted
    assert after_it_ended >= 0


def test_the_results_name_the_kind_of_database_never_its_url() -> None:
    assert database_kind(None) == database_kind("sqlite:///var/gateway.db") == "sqlite"
    assert database_kind("postgresql+asyncpg://bench:secret@127.0.0.1/scratch") == "postgresql"
