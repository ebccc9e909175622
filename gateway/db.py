"""The gateway's own database: SQLite by default, PostgreSQL in production, with versioned migrations.

Portal accounts, mandates and terms acceptances live here (the audit journal and the outbox arrive with later
migrations). SQLAlchemy Core only: the queries are few and explicit. The one statement every request makes is
compiled by SQLAlchemy and run on the driver's own connection from SQLAlchemy's pool (``DriverQuery``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

metadata = sa.MetaData()

portal_users = sa.Table(
    "portal_users",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(32)),
    sa.Column("personal_code", sa.String(16), unique=True),
    sa.Column("self_client_id", sa.String(32)),
    sa.Column("role", sa.String(16), nullable=False, server_default="USER"),
    sa.Column("password_hash", sa.String(255)),
    sa.Column("password_changed_at", sa.DateTime(timezone=True)),
    sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("state", sa.String(16), nullable=False, server_default="ACTIVE"),
    sa.Column("state_reason", sa.String(32)),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

mandates = sa.Table(
    "mandates",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("portal_users.id"), nullable=False, index=True),
    sa.Column("client_id", sa.String(32), nullable=False, index=True),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("granted_by", sa.String(36)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

terms_acceptances = sa.Table(
    "terms_acceptances",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("portal_users.id"), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ip", sa.String(64)),
)

# Terms 9, 18, 23.1, 23.3: append-only, each record's hash covers the one before (gateway.audit).
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("principal_kind", sa.String(16), nullable=False),  # anonymous | user | staff | bank | system
    sa.Column("principal", sa.String(254)),  # user id, bank id, or the e-mail tried at a failed login
    sa.Column("acting_for", sa.String(32)),  # the client id acted for, if any
    sa.Column("ip", sa.String(64)),
    sa.Column("user_agent", sa.String(400)),
    sa.Column("operation", sa.String(100), nullable=False),
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("request_id", sa.String(64)),
    sa.Column("details", sa.Text, nullable=False, server_default="{}"),  # JSON, secrets redacted
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# Side effects that may fail later (mails, archiving receipts): written with their cause, then delivered.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("delivered_at", sa.DateTime(timezone=True), index=True),
    sa.Column("last_error", sa.String(400)),
)

# The first answer to an idempotent mutation, so that a retry (on any instance, after a restart) repeats it.
idempotent_requests = sa.Table(
    "idempotent_requests",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),  # operation, user and the caller's key
    sa.Column("fingerprint", sa.String(64), nullable=False),  # SHA-256 of the canonical input
    sa.Column("state", sa.Text, nullable=False),  # JSON: what the retry must reuse (the receipt, ...)
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Terms 16.3: what users report about the portal; mailed to support through the outbox as well.
portal_issues = sa.Table(
    "portal_issues",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("portal_users.id"), nullable=False),
    sa.Column("page", sa.String(500)),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Terms 9, 22.4, 23.1: every request's caller, address and user agent (``gateway.access_log``); not part of
# the hash-chained journal, whose appends are serialised: one row per request, written in batches.
access_log = sa.Table(
    "access_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("request_id", sa.String(64)),
    sa.Column("principal_kind", sa.String(16), nullable=False),  # anonymous | user | staff | bank
    sa.Column("principal", sa.String(254), index=True),  # user id or bank id
    sa.Column("ip", sa.String(64)),
    sa.Column("user_agent", sa.String(400)),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("route", sa.String(100), nullable=False),  # the route's pattern, never a raw path
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("duration_ms", sa.Float, nullable=False),
)

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

Migration = tuple[int, str, Callable[[sa.Connection], None]]


def _initial(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=[portal_users, mandates, terms_acceptances])


def _audit(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=[audit_log])


def _outbox_and_idempotency(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=[outbox, idempotent_requests, portal_issues])


def _access_log(conn: sa.Connection) -> None:
    metadata.create_all(conn, tables=[access_log])


# Append only: a migration that has shipped is never edited; a change is a new entry.
MIGRATIONS: tuple[Migration, ...] = (
    (1, "accounts, mandates, terms acceptances", _initial),
    (2, "audit journal", _audit),
    (3, "outbox, idempotent requests, portal issues", _outbox_and_idempotency),
    (4, "access log", _access_log),
)

# Any constant works, as long as every instance uses the same one.
_PG_MIGRATION_LOCK = 7_402_310_907


def fit(table: sa.Table, name: str, value: str | None) -> str | None:
    """A text for a column: NUL characters (which PostgreSQL refuses in text) replaced and cut to the column's
    width, rather than refused: an over-long user agent or e-mail sent by a caller must never stop the record
    (or the login it records)."""
    if value is None:
        return None
    column_type = table.c[name].type
    assert isinstance(column_type, sa.String)  # a text column, with its width
    return value.replace("\x00", "\ufffd")[: column_type.length]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def create_engine(url: str, connections: int = 20) -> AsyncEngine:
    """The engine; on PostgreSQL a pool of at most ``connections`` (half kept open, half on demand), each
    connection pinged as it leaves the pool (with asyncpg, the gateway's driver, by ``_ping_on_checkout``)."""
    if url.startswith("sqlite"):
        return create_async_engine(url, connect_args={"timeout": 30})
    kept = max(1, connections // 2)
    asyncpg = sa.engine.make_url(url).get_driver_name() == "asyncpg"
    engine = create_async_engine(
        url, pool_size=kept, max_overflow=connections - kept, pool_pre_ping=not asyncpg
    )
    if asyncpg:
        sa.event.listen(engine.sync_engine, "checkout", _ping_on_checkout)
    return engine


def _ping_on_checkout(dbapi_connection: Any, record: object, proxy: object) -> None:
    """A connection the server has closed (a restart, a failover, an idle timeout) is replaced before use.

    What ``pool_pre_ping`` does, in one round trip instead of three: SQLAlchemy's asyncpg ping wraps its
    ``;`` in BEGIN and ROLLBACK, for pgbouncer's transaction mode, whose pooling the gateway's prepared
    statements do not suit anyway (connect directly, or through a pooler in session mode). Every request
    checks a connection out for the caller's account, so at concurrency 1 the two round trips are on each
    request's critical path. Any failure counts as a lost connection: the pool drops it and connects anew
    (at most twice, then the checkout fails). Not for a checkout of ``DriverQuery``'s first try, which finds
    a lost connection by its statement failing, and tries again with the ping.
    """
    if _UNPINGED.get():
        return
    try:
        dbapi_connection.run_async(lambda connection: connection.fetchrow(";"))
    except Exception as exc:
        raise sa.exc.DisconnectionError(f"ping failed: {exc!r}") from exc


# Set while ``DriverQuery`` checks a connection out for its first try: ``_ping_on_checkout`` leaves it be.
_UNPINGED: ContextVar[bool] = ContextVar("unpinged_checkout", default=False)

# How each async driver runs a statement with positional parameters and returns its rows as sequences.
_DriverFetch = Callable[[Any, str, Sequence[object]], Awaitable[Sequence[Sequence[object]]]]
_DRIVER_FETCH: dict[str, _DriverFetch] = {
    "asyncpg": lambda connection, sql, args: connection.fetch(sql, *args),
    "aiosqlite": lambda connection, sql, args: connection.execute_fetchall(sql, args),
}
# What each driver raises for a connection that is gone (the server closed it, restarted or failed over;
# the socket broke). SQLite's connections are files: none is ever lost.
_DRIVER_LOST: dict[str, tuple[type[BaseException], ...]] = {
    "asyncpg": (
        OSError,
        asyncpg.InterfaceError,  # among them ConnectionDoesNotExistError
        asyncpg.InternalClientError,  # a statement sent while the protocol takes in the server's goodbye
        asyncpg.PostgresConnectionError,
        asyncpg.exceptions.OperatorInterventionError,  # the server shutting down, the backend terminated
    ),
}


class DriverQuery:
    """A SELECT that runs on the driver's own connection, taken from and given back to the engine's pool.

    For the one statement every request makes (the caller's account and mandates). SQLAlchemy's execution
    around a statement costs more than the statement: on PostgreSQL a transaction begun and rolled back (two
    more round trips), on SQLite three more hops to aiosqlite's thread (bench/README.md, session 9). Here the
    statement is compiled once for the engine's dialect and sent as it is; the values are converted by the
    column types' own result processors, so a row reads as SQLAlchemy would read it. A driver not listed in
    ``_DRIVER_FETCH``, or a parameter whose type converts values, goes through SQLAlchemy as usual.

    Its connection is not pinged as it leaves the pool (``_ping_on_checkout``): a round trip on every
    request's critical path, for a statement that can simply be tried again. When the first try fails as a
    lost connection does (``_DRIVER_LOST``), the connection is dropped and the statement runs once more on a
    connection pinged as usual, so a pool the server has emptied is refilled as before.
    """

    def __init__(self, engine: AsyncEngine, statement: sa.Select[Any]) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self._engine = engine
        self._statement = statement
        self._sql = compiled.string
        self._order = tuple(compiled.positiontup or ())
        self._names = tuple(statement.selected_columns.keys())
        self._processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        )
        plain = all(
            b.type.dialect_impl(dialect).bind_processor(dialect) is None for b in compiled.binds.values()
        )
        self._fetch = _DRIVER_FETCH.get(dialect.driver) if compiled.positional and plain else None
        self._lost = _DRIVER_LOST.get(dialect.driver, ())

    async def all(self, params: Mapping[str, object]) -> list[dict[str, Any]]:
        """The rows as mappings of the selected columns' names to their values."""
        if self._fetch is None:
            async with self._engine.connect() as conn:
                return [dict(row._mapping) for row in await conn.execute(self._statement, dict(params))]
        args = [params[k] for k in self._order]
        try:
            rows = await self._rows(self._fetch, args, pinged=False)
        except self._lost:
            rows = await self._rows(self._fetch, args, pinged=True)
        names, processors = self._names, self._processors
        return [
            {
                name: value if process is None or value is None else process(value)
                for name, process, value in zip(names, processors, row, strict=True)
            }
            for row in rows
        ]

    async def _rows(
        self, fetch: _DriverFetch, args: list[object], *, pinged: bool
    ) -> Sequence[Sequence[object]]:
        """The statement's rows on a connection from the pool, checked out with its ping or without; a
        connection found lost by the statement is dropped from the pool."""
        unpinged = _UNPINGED.set(not pinged)
        try:
            conn = await self._engine.connect().start()
        finally:
            _UNPINGED.reset(unpinged)
        try:
            raw = await conn.get_raw_connection()
            return await fetch(raw.driver_connection, self._sql, args)
        except self._lost:
            await conn.invalidate()
            raise
        finally:
            await conn.close()


async def migrate(engine: AsyncEngine) -> list[int]:
    """Apply the migrations not yet applied, in order, under a lock that serialises concurrent instances."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        await conn.run_sync(lambda sync: schema_migrations.create(sync, checkfirst=True))
        applied = set((await conn.execute(sa.select(schema_migrations.c.version))).scalars())
        done: list[int] = []
        for version, name, step in MIGRATIONS:
            if version in applied:
                continue
            await conn.run_sync(step)
            await conn.execute(
                schema_migrations.insert().values(version=version, name=name, applied_at=utcnow())
            )
            done.append(version)
        return done


async def drop_all(conn: AsyncConnection) -> None:
    """Tests only: remove every table of the gateway."""
    await conn.run_sync(lambda sync: metadata.drop_all(sync))
