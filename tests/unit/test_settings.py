"""Settings from the environment: connection budgets shared out among the workers of an instance."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gateway.settings import Settings
from gateway.wiring import start


def test_connection_budgets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_WORKERS", "4")
    monkeypatch.setenv("UPSTREAM_CONNECTIONS", "100")
    monkeypatch.setenv("DATABASE_CONNECTIONS", "30")
    settings = Settings.from_env(dotenv=False)
    assert (settings.workers, settings.upstream_connections, settings.database_connections) == (4, 100, 30)
    assert settings.per_worker(settings.upstream_connections) == 25
    assert settings.per_worker(settings.database_connections) == 8  # rounded up: 4 x 8 >= 30
    assert replace(settings, workers=64).per_worker(100) == 2  # never fewer than two per worker
    assert Settings().per_worker(100) == 100  # one worker has the whole budget


async def test_each_worker_sizes_its_upstream_pools_by_its_share(tmp_path: Path) -> None:
    settings = Settings(
        env="dev",
        secret_key="test-secret-for-pools",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        billing_url="http://127.0.0.1:9/billing",
        permits_url="http://127.0.0.1:9/permits",
        documents_url="http://127.0.0.1:9/documents",
        workers=3,
        upstream_connections=90,
        receipt_key_file=str(tmp_path / "receipt-key.json"),
        outbox_dir=str(tmp_path / "outbox"),
    )
    runtime = await start(settings)
    try:
        pools = {c.system: c.max_connections for c in runtime.upstreams}
        assert pools == {"billing": 30, "permits": 30, "documents": 30}
    finally:
        await runtime.aclose()
