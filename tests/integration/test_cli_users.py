"""`gateway users ...` from a shell: register, block, unblock, terminate, force a password change."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from auth.accounts import STAMP_PREFIX, Account, Accounts
from gateway.db import create_engine
from gateway.settings import normalise_database_url
from gateway.store import RedisStore
from tests.conftest import service_url


def users(tmp_path: Path, *args: str, **env_vars: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "GATEWAY_VAR_DIR": str(tmp_path),
        "REDIS_URL": "",
        "PUBLIC_URL": "https://portal.example",
        **env_vars,
    }
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "users", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def account_of(tmp_path: Path, email: str) -> Account:
    engine = create_engine(normalise_database_url(f"sqlite:///{tmp_path / 'gateway.db'}"))
    try:
        account = await Accounts(engine).by_email(email)
        assert account is not None
        return account
    finally:
        await engine.dispose()


async def account_state(tmp_path: Path, email: str) -> tuple[str, str | None, bool]:
    account = await account_of(tmp_path, email)
    return account.state, account.state_reason, account.must_change_password


async def test_users_life_cycle_from_the_shell(tmp_path: Path) -> None:
    email = "karlis.kalns@example.lv"
    added = users(
        tmp_path, "add", "--email", email, "--name", "Kārlis Kalns", "--mandate", "K200001:billing_read"
    )
    assert added.returncode == 0, added.stderr
    assert "registered karlis.kalns@example.lv" in added.stdout
    [mail] = list((tmp_path / "outbox").glob("*.eml"))
    assert "https://portal.example/auth/password/reset?token=" in mail.read_text()

    assert users(tmp_path, "add", "--email", email, "--name", "Again").returncode == 1
    assert users(tmp_path, "block", email, "--reason", "SUSPECTED_MISUSE").returncode == 0
    assert await account_state(tmp_path, email) == ("BLOCKED", "SUSPECTED_MISUSE", False)
    assert users(tmp_path, "unblock", email).returncode == 0
    assert users(tmp_path, "require-password-change", email).returncode == 0
    assert await account_state(tmp_path, email) == ("ACTIVE", None, True)
    assert users(tmp_path, "terminate", email, "--reason", "USER_REQUEST").returncode == 0
    refused = users(tmp_path, "unblock", email)
    assert refused.returncode == 1 and "stays terminated" in refused.stderr


def test_bad_arguments_are_explained(tmp_path: Path) -> None:
    bad_reason = users(tmp_path, "block", "a@b.lv", "--reason", "BORED")
    assert bad_reason.returncode == 2 and "invalid choice" in bad_reason.stderr
    bad_scope = users(tmp_path, "add", "--email", "a@b.lv", "--name", "A", "--mandate", "K1:FLY")
    assert bad_scope.returncode == 2 and "unknown or no scopes: FLY" in bad_scope.stderr
    unknown = users(tmp_path, "unblock", "nobody@example.lv")
    assert unknown.returncode == 1 and "no portal user" in unknown.stderr
    # Checked against the billing system's clients as the staff mutation is (terms 2.5), none registered.
    company = users(tmp_path, "add", "--email", "a@b.lv", "--name", "A", "--self-client", "K200001")
    assert company.returncode == 1 and "never logs in itself" in company.stderr
    nobody = users(tmp_path, "add", "--email", "a@b.lv", "--name", "A", "--mandate", "K999999:billing_read")
    assert nobody.returncode == 1 and "does not know" in nobody.stderr
    assert users(tmp_path, "unblock", "a@b.lv").returncode == 1  # a@b.lv was never registered


@pytest.mark.services
async def test_what_the_shell_changes_every_running_instance_feels_at_once(tmp_path: Path) -> None:
    """Each change gives the account a new stamp in the instances' Redis, so none keeps an old read of it."""
    prefix = f"test:{uuid.uuid4().hex}:"
    shared = {"REDIS_URL": service_url("REDIS_URL"), "REDIS_PREFIX": prefix}
    email = "liene.liepa@example.lv"
    assert users(tmp_path, "add", "--email", email, "--name", "Liene Liepa", **shared).returncode == 0
    key = STAMP_PREFIX + (await account_of(tmp_path, email)).id
    store = RedisStore(service_url("REDIS_URL"), prefix=prefix)
    try:
        stamps = [await store.get(key)]
        for change in (["require-password-change"], ["block", "--reason", "SUSPECTED_MISUSE"], ["unblock"]):
            done = users(tmp_path, change[0], email, *change[1:], **shared)
            assert done.returncode == 0, done.stderr
            stamps.append(await store.get(key))
        assert None not in stamps[1:] and len(set(stamps)) == len(stamps)
    finally:
        await store.close()
