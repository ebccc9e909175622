"""Accounts.with_mandates: the account and all its mandates, in one statement, on both databases, read on the
driver's connection (DriverQuery) as SQLAlchemy would read them; a worker's kept read, used only while the
user's stamp is unchanged and for a few seconds at most, and a new stamp after every write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from auth import accounts as accounts_module
from auth.accounts import STAMP_PREFIX, Accounts
from gateway import db
from gateway.db import DriverQuery, create_engine, mandates, migrate
from gateway.store import MemoryStore
from tests.conftest import fresh_postgres, service_url
from tests.unit.test_sandbox_idp import Clock  # a settable clock


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


@pytest.fixture
async def cached(tmp_path: Path) -> AsyncIterator[tuple[Accounts, MemoryStore, Clock, list[str]]]:
    """Accounts over SQLite, a store and a 5-second cache; the list gets the user of every database read."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cached.db'}")
    await migrate(engine)
    store, clock = MemoryStore(), Clock()
    kept = Accounts(engine, store, cache_seconds=5, clock=clock)
    yield kept, store, clock, database_reads(kept)
    await engine.dispose()


def database_reads(accounts: Accounts) -> list[str]:
    """The users whose account ``accounts`` reads from the database from now on, in order."""
    reads: list[str] = []
    query = accounts._account_and_mandates
    read = query.all

    async def counted(params: dict[str, Any]) -> Sequence[Any]:
        reads.append(params["user_id"])
        return await read(params)

    query.all = counted  # type: ignore[method-assign]
    return reads


async def stamp(store: MemoryStore, user_id: str) -> str:
    return await store.get(STAMP_PREFIX + user_id) or ""


async def test_a_kept_read_serves_while_the_stamp_holds_for_the_cache_seconds_at_most(
    cached: tuple[Accounts, MemoryStore, Clock, list[str]],
) -> None:
    accounts, store, clock, reads = cached
    user = await accounts.create_user(email="kept@example.lv", full_name="Kept")
    now = await stamp(store, user)
    first = await accounts.with_mandates(user, now)
    assert await accounts.with_mandates(user, now) == first and reads == [user]
    clock.now += 4.9
    assert await accounts.with_mandates(user, now) == first and reads == [user]
    clock.now += 0.2  # 5.1 s after the read: read again, and kept from now
    assert await accounts.with_mandates(user, now) == first and reads == [user, user]
    assert await accounts.with_mandates(user, "another stamp") == first and reads == [user] * 3
    assert await accounts.with_mandates(user) == first and reads == [user] * 4  # no stamp: always read
    assert await accounts.with_mandates(user, "another stamp") == first and reads == [user] * 4
    # what a caller does to the mandates it gets does not reach the kept read
    found = await accounts.with_mandates(user, "another stamp")
    assert found is not None
    found[1].append(found[1][0] if found[1] else None)  # type: ignore[arg-type]
    assert await accounts.with_mandates(user, "another stamp") == first


async def test_reads_without_a_stamp_are_not_kept_and_no_cache_seconds_keeps_nothing(
    cached: tuple[Accounts, MemoryStore, Clock, list[str]],
) -> None:
    accounts, _, _, reads = cached
    user = await accounts.create_user(email="fresh@example.lv", full_name="Fresh")
    await accounts.with_mandates(user)
    await accounts.with_mandates(user, "")
    await accounts.with_mandates(user, "")
    assert reads == [user, user]
    assert await accounts.with_mandates("no-such-user", "") is None
    assert await accounts.with_mandates("no-such-user", "") is None
    assert reads == [user, user, "no-such-user", "no-such-user"]  # no account: nothing kept

    uncached = Accounts(accounts.engine, MemoryStore())
    plain = database_reads(uncached)
    await uncached.with_mandates(user, "")
    await uncached.with_mandates(user, "")
    assert plain == [user, user]


async def test_every_write_to_an_account_or_its_mandates_gives_it_a_new_stamp_after_the_commit(
    cached: tuple[Accounts, MemoryStore, Clock, list[str]],
) -> None:
    accounts, store, _, reads = cached
    user = await accounts.create_user(email="stamped@example.lv", full_name="Stamped")
    other = await accounts.create_user(email="other@example.lv", full_name="Other")
    mandate = await accounts.add_mandate(
        user_id=user, client_id="K1", scopes=["BILLING_READ"], valid_from=date(2026, 1, 1), valid_until=None
    )
    writes = {
        "set_password": lambda: accounts.set_password(user, "hash"),
        "set_state": lambda: accounts.set_state(user, "BLOCKED", "SUSPECTED_MISUSE"),
        "require_password_change": lambda: accounts.require_password_change(user),
        "record_login": lambda: accounts.record_login(user),
        "add_mandate": lambda: accounts.add_mandate(
            user_id=user,
            client_id="K2",
            scopes=["PERMITS_READ"],
            valid_from=date(2026, 1, 1),
            valid_until=None,
        ),
        "revoke_mandate": lambda: accounts.revoke_mandate(mandate),
    }
    for name, write in writes.items():
        before = await stamp(store, user)
        kept = await accounts.with_mandates(user, before)
        untouched = await stamp(store, other)
        await write()
        after = await stamp(store, user)
        assert after not in ("", before), name
        assert await stamp(store, other) == untouched, name  # one user's write leaves the others' reads kept
        found = await accounts.with_mandates(user, after)
        assert reads[-1] == user and found != kept, name  # read again, and the write is in it
    assert not await accounts.revoke_mandate(mandate)  # revoked already: nothing written, no new stamp
    assert not await accounts.revoke_mandate("no-such-mandate")


async def test_the_kept_reads_are_bounded(
    cached: tuple[Accounts, MemoryStore, Clock, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts, _, _, reads = cached
    monkeypatch.setattr(accounts_module, "CACHE_SIZE", 2)
    users = [await accounts.create_user(email=f"u{n}@example.lv", full_name=f"U{n}") for n in range(3)]
    for user in users:
        await accounts.with_mandates(user, "")
    await accounts.with_mandates(users[0], "")  # the oldest went first
    await accounts.with_mandates(users[2], "")
    assert reads == [*users, users[0]]


def test_a_cache_needs_the_store_and_a_few_seconds_at_most() -> None:
    engine = create_engine("sqlite+aiosqlite://")
    with pytest.raises(ValueError, match="between 0 and 60"):
        Accounts(engine, MemoryStore(), cache_seconds=61)
    with pytest.raises(ValueError, match="between 0 and 60"):
        Accounts(engine, MemoryStore(), cache_seconds=-1)
    with pytest.raises(ValueError, match="needs the store"):
        Accounts(engine, cache_seconds=5)


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


async def test_the_driver_path_reads_every_column_as_sqlalchemy_does(accounts: Accounts) -> None:
    """with_mandates runs on the driver's connection; its values equal SQLAlchemy's, type for type."""
    user = await accounts.create_user(
        email="typed@example.lv",
        full_name="Typed",
        password_changed_at=datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
    )
    await accounts.require_password_change(user)
    await accounts.record_login(user)
    await accounts.add_mandate(
        user_id=user,
        client_id="K9",
        scopes=["BILLING_READ"],
        valid_from=date(2026, 1, 2),
        valid_until=date(2026, 12, 30),
        revoked_at=datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
    )
    query = accounts._account_and_mandates
    assert query._fetch is not None  # aiosqlite and asyncpg take the driver path

    fast = await query.all({"user_id": user})
    async with accounts.engine.connect() as conn:
        slow = [dict(r._mapping) for r in await conn.execute(query._statement, {"user_id": user})]
    assert fast == slow and len(fast) == 1
    assert [type(v) for v in fast[0].values()] == [type(v) for v in slow[0].values()]
    found = await accounts.with_mandates(user)
    assert found is not None
    account, (mandate,) = found
    assert account == await accounts.by_id(user)
    assert account.must_change_password is True and account.last_login_at is not None
    assert account.password_changed_at == datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    assert (mandate.valid_from, mandate.valid_until) == (date(2026, 1, 2), date(2026, 12, 30))
    assert mandate.revoked_at == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def test_a_statement_whose_parameter_converts_values_goes_through_sqlalchemy(
    accounts: Accounts,
) -> None:
    user = await accounts.create_user(email="dated@example.lv", full_name="Dated")
    await accounts.add_mandate(
        user_id=user, client_id="K8", scopes=["BILLING_READ"], valid_from=date(2026, 1, 2), valid_until=None
    )
    statement = sa.select(mandates.c.client_id).where(
        mandates.c.valid_from == sa.bindparam("day", type_=sa.Date)
    )
    query = DriverQuery(accounts.engine, statement)
    sqlite = accounts.engine.dialect.name == "sqlite"
    assert (query._fetch is None) is sqlite  # SQLite stores dates as text: its Date type converts them
    assert await query.all({"day": date(2026, 1, 2)}) == [{"client_id": "K8"}]


@pytest.mark.services
async def test_a_read_cancelled_on_the_drivers_connection_leaves_the_pool_usable() -> None:
    """A request that goes away mid-read (its task cancelled) leaves a connection the next read can use."""
    engine = create_engine(await fresh_postgres(service_url("DATABASE_URL")), connections=2)
    try:
        await migrate(engine)
        accounts = Accounts(engine)
        user = await accounts.create_user(email="gone@example.lv", full_name="Gone")
        slow = DriverQuery(engine, sa.select(sa.func.pg_sleep(sa.bindparam("seconds", type_=sa.Float))))
        assert slow._fetch is not None
        for _ in range(3):  # more reads than the pool keeps connections
            task = asyncio.ensure_future(slow.all({"seconds": 5.0}))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            found = await asyncio.wait_for(accounts.with_mandates(user), 5)
            assert found is not None and found[0].email == "gone@example.lv"
    finally:
        await engine.dispose()


@pytest.mark.services
async def test_connections_the_server_closed_are_replaced_before_use() -> None:
    """After the server drops every connection (a restart, a failover), the next reads succeed: the pool pings
    each connection as it leaves and connects anew for one that is gone."""
    url = await fresh_postgres(service_url("DATABASE_URL"))
    engine = create_engine(url, connections=4)
    try:
        await migrate(engine)
        accounts = Accounts(engine)
        user = await accounts.create_user(email="kept@example.lv", full_name="Kept")
        # Fill the pool with open connections, then have the server end them all.
        await asyncio.gather(*(accounts.with_mandates(user) for _ in range(4)))
        pids = set()
        for _ in range(4):
            async with engine.connect() as conn:
                pids.add((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())
        admin = create_engine(url, connections=2)
        try:
            async with admin.connect() as conn:
                ended = await conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                assert len(ended.all()) >= len(pids)
        finally:
            await admin.dispose()
        for _ in range(4):  # each pooled connection is found dead on checkout and replaced
            found = await accounts.with_mandates(user)
            assert found is not None and found[0].email == "kept@example.lv"
            assert await accounts.by_id(user) == found[0]
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one() not in pids
    finally:
        await engine.dispose()


@pytest.mark.services
async def test_the_callers_account_is_read_without_a_ping_other_reads_with_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The read every request makes skips the checkout's ping (a lost connection fails it, and it is tried
    again with the ping: the test above); reads through SQLAlchemy keep it."""
    engine = create_engine(await fresh_postgres(service_url("DATABASE_URL")), connections=2)
    try:
        await migrate(engine)
        accounts = Accounts(engine)
        user = await accounts.create_user(email="quick@example.lv", full_name="Quick")
        pings: list[str] = []
        fetchrow = asyncpg.Connection.fetchrow

        async def counted(self: asyncpg.Connection, query: str, *args: object, **kwargs: object) -> object:
            if query == ";":
                pings.append(query)
            return await fetchrow(self, query, *args, **kwargs)

        monkeypatch.setattr(asyncpg.Connection, "fetchrow", counted)
        for _ in range(3):
            found = await accounts.with_mandates(user)
            assert found is not None and found[0].email == "quick@example.lv"
        assert pings == []
        assert await accounts.by_id(user) == found[0]
        assert pings == [";"]
    finally:
        await engine.dispose()


@pytest.mark.services
@pytest.mark.parametrize(
    "lost",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
        ConnectionResetError("reset by peer"),
    ],
)
async def test_a_read_that_finds_its_connection_lost_is_tried_again_on_another(
    monkeypatch: pytest.MonkeyPatch, lost: Exception
) -> None:
    """However asyncpg reports a connection the server has dropped, the read runs again on a connection
    pinged as it leaves the pool, and the lost one is not given back to it."""
    engine = create_engine(await fresh_postgres(service_url("DATABASE_URL")), connections=2)
    try:
        await migrate(engine)
        accounts = Accounts(engine)
        user = await accounts.create_user(email="again@example.lv", full_name="Again")
        fetch = db._DRIVER_FETCH["asyncpg"]
        used: list[object] = []

        async def failing_once(connection: object, sql: str, args: Sequence[object]) -> Any:
            used.append(connection)
            if len(used) == 1:
                raise lost
            return await fetch(connection, sql, args)

        monkeypatch.setitem(db._DRIVER_FETCH, "asyncpg", failing_once)
        found = await Accounts(engine).with_mandates(user)  # a new one: its query takes the patched fetch
        assert found is not None and found[0].email == "again@example.lv"
        assert len(used) == 2 and used[0] is not used[1]
        assert used[0].is_closed()  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
