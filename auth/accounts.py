"""Portal accounts and mandates, read from and written to the gateway's database.

Every request needs its caller's account and mandates as they are now (terms 5 and 6: a block or a revoked
mandate is felt on the next request, on every instance). Each write to them gives the user a new random
*stamp* in the shared store, after it is committed; a session's read brings the stamp back in the same round
trip to the store (``Sessions.resolve``), and a worker keeps what it read last for each user, with the stamp
read before it: while the stamp is unchanged, and for at most a few seconds (``ACCOUNT_CACHE_SECONDS``),
that is what the database would say, so it is not read again. The few seconds bound what no stamp
announces: a row changed by hand in the database, a stamp the store lost.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import DriverQuery, as_utc, mandates, portal_users, terms_acceptances, utcnow
from gateway.store import Store

PASSWORD_MAX_AGE = timedelta(days=90)
STAMP_PREFIX = "acct:"  # + user id: the account's stamp in the shared store
# A stamp outlives any cached read by far, so an absent stamp means no write since the read was cached.
STAMP_SECONDS = 24 * 3600
MAX_CACHE_SECONDS = 60.0
CACHE_SIZE = 10_000  # users whose last read a worker keeps


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    email: str
    full_name: str
    phone: str | None
    personal_code: str | None
    self_client_id: str | None
    role: str
    password_hash: str | None
    password_changed_at: datetime | None
    must_change_password: bool
    state: str
    state_reason: str | None
    last_login_at: datetime | None

    @property
    def is_staff(self) -> bool:
        return self.role == "STAFF"

    @property
    def password_expires_at(self) -> datetime | None:
        return None if self.password_changed_at is None else self.password_changed_at + PASSWORD_MAX_AGE

    def password_change_required(self, now: datetime) -> bool:
        """Terms 15.3: older than 90 days, or staff asked for a change."""
        expires = self.password_expires_at
        return self.must_change_password or (expires is not None and expires <= now)


@dataclass(frozen=True, slots=True)
class Mandate:
    id: str
    user_id: str
    client_id: str
    scopes: frozenset[str]
    valid_from: date
    valid_until: date | None
    revoked_at: datetime | None

    def in_force(self, today: date) -> bool:
        return (
            self.revoked_at is None
            and self.valid_from <= today
            and (self.valid_until is None or today <= self.valid_until)
        )


@dataclass(frozen=True, slots=True)
class RepresentativeRow:
    mandate: Mandate
    full_name: str
    email: str


def _account(m: Mapping[Any, Any]) -> Account:
    return Account(
        id=m["id"],
        email=m["email"],
        full_name=m["full_name"],
        phone=m["phone"],
        personal_code=m["personal_code"],
        self_client_id=m["self_client_id"],
        role=m["role"],
        password_hash=m["password_hash"],
        password_changed_at=as_utc(m["password_changed_at"]),
        must_change_password=bool(m["must_change_password"]),
        state=m["state"],
        state_reason=m["state_reason"],
        last_login_at=as_utc(m["last_login_at"]),
    )


def _mandate(m: Mapping[Any, Any], prefix: str = "") -> Mandate:
    return Mandate(
        id=m[prefix + "id"],
        user_id=m[prefix + "user_id"],
        client_id=m[prefix + "client_id"],
        scopes=frozenset(s for s in str(m[prefix + "scopes"]).split(",") if s),
        valid_from=m[prefix + "valid_from"],
        valid_until=m[prefix + "valid_until"],
        revoked_at=as_utc(m[prefix + "revoked_at"]),
    )


# The account and its mandates in one statement (a row per mandate, one with nulls for none): every request
# reads them, so it is built once, costs one round trip and runs on the driver's connection (DriverQuery).
_MANDATE = "mandate_"
_ACCOUNT_AND_MANDATES = (
    sa.select(portal_users, *(column.label(_MANDATE + column.name) for column in mandates.c))
    .select_from(portal_users.outerjoin(mandates, mandates.c.user_id == portal_users.c.id))
    .where(portal_users.c.id == sa.bindparam("user_id"))
)


@dataclass(frozen=True, slots=True)
class _Read:
    stamp: str
    at: float  # when it was asked for: after the stamp was read with the session, before the database
    account: Account
    mandates: tuple[Mandate, ...]


class Accounts:
    """The account and mandate queries the gateway makes, one method each.

    With a ``store`` every write stamps the user anew (see above); with ``cache_seconds`` too, reads given the
    stamp the caller's session brought are kept that long at most, per worker."""

    def __init__(
        self,
        engine: AsyncEngine,
        store: Store | None = None,
        *,
        cache_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= cache_seconds <= MAX_CACHE_SECONDS:
            raise ValueError(
                f"cache_seconds must be between 0 and {MAX_CACHE_SECONDS:g}, got {cache_seconds}"
            )
        if cache_seconds and store is None:
            raise ValueError("caching accounts needs the store that stamps their writes")
        self.engine = engine
        self.store = store
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._reads: dict[str, _Read] = {}
        self._account_and_mandates = DriverQuery(engine, _ACCOUNT_AND_MANDATES)

    async def _one(self, where: sa.ColumnElement[bool]) -> Account | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(portal_users).where(where))).first()
        return _account(row._mapping) if row is not None else None

    async def by_id(self, user_id: str) -> Account | None:
        return await self._one(portal_users.c.id == user_id)

    async def by_email(self, email: str) -> Account | None:
        return await self._one(portal_users.c.email == email.strip().lower())

    async def with_mandates(
        self, user_id: str, stamp: str | None = None
    ) -> tuple[Account, list[Mandate]] | None:
        """The account and its mandates, as they are now, in one statement; given the user's ``stamp`` as the
        store has it now ("" for none), the read this worker kept with the same stamp, if it is recent."""
        now = self._clock()
        if stamp is not None and self.cache_seconds:
            kept = self._reads.get(user_id)
            if kept is not None and kept.stamp == stamp and now - kept.at < self.cache_seconds:
                return kept.account, list(kept.mandates)
        rows = await self._account_and_mandates.all({"user_id": user_id})
        if not rows:
            return None
        account = _account(rows[0])
        found = [_mandate(row, _MANDATE) for row in rows if row[_MANDATE + "id"] is not None]
        if stamp is not None and self.cache_seconds:
            self._keep(user_id, _Read(stamp, now, account, tuple(found)))
        return account, found

    def _keep(self, user_id: str, read: _Read) -> None:
        self._reads.pop(user_id, None)
        if len(self._reads) >= CACHE_SIZE:  # the oldest kept goes first
            del self._reads[next(iter(self._reads))]
        self._reads[user_id] = read

    async def _stamp(self, user_id: str) -> None:
        """After a committed write: every worker's kept read of this user is out of date from now on."""
        if self.store is not None:
            await self.store.put(STAMP_PREFIX + user_id, secrets.token_urlsafe(16), ttl=STAMP_SECONDS)

    async def record_login(self, user_id: str) -> None:
        await self._update(user_id, last_login_at=utcnow())

    async def accepted_terms_versions(self, user_id: str) -> set[int]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(terms_acceptances.c.version).where(terms_acceptances.c.user_id == user_id)
            )
            return set(rows.scalars())

    async def create_user(
        self,
        *,
        email: str,
        full_name: str,
        phone: str | None = None,
        personal_code: str | None = None,
        self_client_id: str | None = None,
        role: str = "USER",
        password_hash: str | None = None,
        password_changed_at: datetime | None = None,
    ) -> str:
        user_id = str(uuid.uuid4())
        async with self.engine.begin() as conn:
            await conn.execute(
                portal_users.insert().values(
                    id=user_id,
                    email=email.strip().lower(),
                    full_name=full_name,
                    phone=phone,
                    personal_code=personal_code,
                    self_client_id=self_client_id,
                    role=role,
                    password_hash=password_hash,
                    password_changed_at=password_changed_at,
                    created_at=utcnow(),
                )
            )
        return user_id

    async def add_mandate(
        self,
        *,
        user_id: str,
        client_id: str,
        scopes: Sequence[str],
        valid_from: date,
        valid_until: date | None,
        revoked_at: datetime | None = None,
        granted_by: str | None = None,
    ) -> str:
        mandate_id = str(uuid.uuid4())
        async with self.engine.begin() as conn:
            await conn.execute(
                mandates.insert().values(
                    id=mandate_id,
                    user_id=user_id,
                    client_id=client_id,
                    scopes=",".join(sorted(scopes)),
                    valid_from=valid_from,
                    valid_until=valid_until,
                    revoked_at=revoked_at,
                    granted_by=granted_by,
                    created_at=utcnow(),
                )
            )
        await self._stamp(user_id)
        return mandate_id

    async def count_users(self) -> int:
        async with self.engine.connect() as conn:
            return int(
                (await conn.execute(sa.select(sa.func.count()).select_from(portal_users))).scalar_one()
            )

    async def representatives_of(self, client_id: str) -> list[RepresentativeRow]:
        """Every mandate ever given for the client (revoked and expired ones too), with the person's name."""
        query = (
            sa.select(mandates, portal_users.c.full_name, portal_users.c.email)
            .join(portal_users, portal_users.c.id == mandates.c.user_id)
            .where(mandates.c.client_id == client_id)
            .order_by(portal_users.c.full_name)
        )
        async with self.engine.connect() as conn:
            rows = await conn.execute(query)
            return [
                RepresentativeRow(_mandate(m), m["full_name"], m["email"]) for m in (r._mapping for r in rows)
            ]

    async def mandate_by_id(self, mandate_id: str) -> Mandate | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(mandates).where(mandates.c.id == mandate_id))).first()
        return _mandate(row._mapping) if row is not None else None

    async def _update(self, user_id: str, **values: object) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                portal_users.update().where(portal_users.c.id == user_id).values(**values)
            )
        await self._stamp(user_id)
        return bool(result.rowcount)

    async def set_password(self, user_id: str, password_hash: str) -> None:
        """A new password: its age starts now and any staff demand for a change is met."""
        await self._update(
            user_id, password_hash=password_hash, password_changed_at=utcnow(), must_change_password=False
        )

    async def set_state(self, user_id: str, state: str, reason: str | None) -> bool:
        return await self._update(user_id, state=state, state_reason=reason)

    async def require_password_change(self, user_id: str) -> bool:
        return await self._update(user_id, must_change_password=True)

    async def by_personal_code(self, personal_code: str) -> Account | None:
        return await self._one(portal_users.c.personal_code == personal_code)

    async def record_terms_acceptance(self, user_id: str, version: int, ip: str | None) -> None:
        """Clause 30: logging in or accepting explicitly records the version, the time and the IP address."""
        async with self.engine.begin() as conn:
            await conn.execute(
                terms_acceptances.insert().values(
                    user_id=user_id, version=version, accepted_at=utcnow(), ip=ip
                )
            )

    async def revoke_mandate(self, mandate_id: str) -> bool:
        async with self.engine.begin() as conn:
            revoked = (
                await conn.execute(
                    mandates.update()
                    .where(mandates.c.id == mandate_id, mandates.c.revoked_at.is_(None))
                    .values(revoked_at=utcnow())
                    .returning(mandates.c.user_id)
                )
            ).first()
        if revoked is None:
            return False
        await self._stamp(revoked.user_id)
        return True
