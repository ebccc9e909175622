"""Settings from the environment: connection budgets shared out among the workers, the collector's tuning."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import uvicorn

from gateway import app as app_module
from gateway import cli
from gateway.settings import Settings
from gateway.wiring import start
from tests.conftest import GatewayFactory, gateway_settings

ROOT = Path(__file__).resolve().parents[2]


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


def test_the_account_cache_seconds_are_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env(dotenv=False).account_cache_seconds == 5.0
    monkeypatch.setenv("ACCOUNT_CACHE_SECONDS", "0")
    assert Settings.from_env(dotenv=False).account_cache_seconds == 0.0
    monkeypatch.setenv("ACCOUNT_CACHE_SECONDS", "2.5")
    assert Settings.from_env(dotenv=False).account_cache_seconds == 2.5
    for bad in ("61", "-1", "five", "nan"):
        monkeypatch.setenv("ACCOUNT_CACHE_SECONDS", bad)
        with pytest.raises(
            SystemExit, match=f"ACCOUNT_CACHE_SECONDS must be a number of seconds from 0 to 60, got '{bad}'"
        ):
            Settings.from_env(dotenv=False)


def test_the_request_body_limit_is_checked_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env(dotenv=False).max_request_bytes == 1_048_576
    monkeypatch.setenv("MAX_REQUEST_BYTES", "65536")
    assert Settings.from_env(dotenv=False).max_request_bytes == 65_536
    for bad in ("0", "-5", "1MB"):
        monkeypatch.setenv("MAX_REQUEST_BYTES", bad)
        with pytest.raises(
            SystemExit, match=f"MAX_REQUEST_BYTES must be a whole number of bytes, 1 or more, got '{bad}'"
        ):
            Settings.from_env(dotenv=False)


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


def test_a_served_worker_tunes_its_collector_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: served.append(os.environ["GATEWAY_GC_THRESHOLD"]))
    args = argparse.Namespace(
        workers=2, host="127.0.0.1", port=0, log_level="warning", tls_cert=None, tls_key=None
    )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/nonexistent")  # given: left as it is
    monkeypatch.delenv("GATEWAY_GC_THRESHOLD", raising=False)
    cli._serve(args)
    monkeypatch.setenv("GATEWAY_GC_THRESHOLD", "0")  # the operator's word wins
    cli._serve(args)
    assert served == [str(cli.SERVE_GC_THRESHOLD), "0"]
    assert Settings.from_env(dotenv=False).gc_threshold == 0
    monkeypatch.setenv("GATEWAY_GC_THRESHOLD", "10000")
    assert Settings.from_env(dotenv=False).gc_threshold == 10000
    monkeypatch.delenv("GATEWAY_GC_THRESHOLD")
    assert Settings.from_env(dotenv=False).gc_threshold == 0  # in process (tests, embedded): untouched


def test_served_workers_share_a_fresh_metrics_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(tmp_path))
    # set here, so that what _serve sets is undone afterwards (an absent variable's delenv is not)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    monkeypatch.setenv("GATEWAY_WORKERS", "1")
    stale, unnamed = tmp_path / "prometheus" / "999999999", tmp_path / "prometheus" / "old"
    for directory in (stale, unnamed):
        directory.mkdir(parents=True)
        (directory / "counter_1.db").write_bytes(b"")
    cli._serve(
        argparse.Namespace(
            workers=2, host="127.0.0.1", port=0, log_level="warning", tls_cert=None, tls_key=None
        )
    )
    shared = tmp_path / "prometheus" / str(os.getpid())
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(shared) and shared.is_dir()
    assert not stale.exists() and not unnamed.exists()  # files of servers that stopped are gone
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    cli._serve(
        argparse.Namespace(
            workers=1, host="127.0.0.1", port=0, log_level="warning", tls_cert=None, tls_key=None
        )
    )
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == ""  # one worker keeps its figures in memory


async def test_the_app_tunes_the_collector_at_start_only_when_set(
    make_gateway: GatewayFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tuned: list[int] = []
    monkeypatch.setattr(app_module, "tune_gc", tuned.append)
    await make_gateway()
    await make_gateway(settings=gateway_settings(tmp_path, gc_threshold=4321))
    assert tuned == [4321]


def test_tune_gc_freezes_what_is_alive_and_raises_the_first_threshold() -> None:
    # In a process of its own: freezing is for good.
    code = (
        "import gc; from gateway.app import tune_gc; gc.set_threshold(700, 10, 10); tune_gc(12345); "
        "print(gc.get_threshold(), gc.get_freeze_count() > 1000)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["(12345,", "10,", "10)", "True"]
