"""Accounts.with_mandates: the account and all its mandates, in one statement, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from auth.accounts import Accounts
from gateway.db import create_engine, migrate
from tests.conftest import fresh_postgres, service_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
async def accounts(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Accounts]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}"
    else:
        url = await fresh_postgres(service_url("DATABASE_URL"))
    engine = create_engine(url)
    await migrate(engine)
    yield Accounts(engine)
    await engine.dispose()


async def test_an_account_with_none_one_and_several_mandates(accounts: Accounts) -> None:
    lone = await accounts.create_user(email="lone@example.lv", full_name="Lone")
    busy = await accounts.create_user(email="Busy@example.lv", full_name="Busy")
    other = await accounts.create_user(email="other@example.lv", full_name="Other")
    start = date(2026, 1, 1)
    revoked = datetime(2026, 2, 1, tzinfo=UTC)
    granted = [
        await accounts.add_mandate(
            user_id=busy, client_id="K1", scopes=["BILLING_READ"], valid_from=start, valid_until=None
        ),
        await accounts.add_mandate(
            user_id=busy,
            client_id="K2",
            scopes=["PERMITS_READ", "DOCUMENTS_READ"],
            valid_from=start,
            valid_until=date(2026, 12, 31),
            revoked_at=revoked,
        ),
    ]
    await accounts.add_mandate(
        user_id=other, client_id="K1", scopes=["BILLING_READ"], valid_from=start, valid_until=None
    )

    found = await accounts.with_mandates(lone)
    assert found is not None and found[0].email == "lone@example.lv" and found[1] == []

    found = await accounts.with_mandates(busy)
    assert found is not None
    account, mandates = found
    assert account.id == busy and account.email == "busy@example.lv" and account.full_name == "Busy"
    by_id = {m.id: m for m in mandates}
    assert set(by_id) == set(granted)  # only this user's, each once
    assert by_id[granted[0]].client_id == "K1" and by_id[granted[0]].scopes == frozenset({"BILLING_READ"})
    second = by_id[granted[1]]
    assert second.scopes == frozenset({"PERMITS_READ", "DOCUMENTS_READ"})
    assert (
        second.valid_until == date(2026, 12, 31) and second.revoked_at == revoked and second.user_id == busy
    )
    assert second == await accounts.mandate_by_id(granted[1])  # the same as read on its own

    assert await accounts.with_mandates("no-such-user") is None
