"""Portal accounts and mandates, read from and written to the gateway's database."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import DriverQuery, as_utc, mandates, portal_users, terms_acceptances, utcnow

PASSWORD_MAX_AGE = timedelta(days=90)


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


class Accounts:
    """The account and mandate queries the gateway makes, one method each."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._account_and_mandates = DriverQuery(engine, _ACCOUNT_AND_MANDATES)

    async def _one(self, where: sa.ColumnElement[bool]) -> Account | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(portal_users).where(where))).first()
        return _account(row._mapping) if row is not None else None

    async def by_id(self, user_id: str) -> Account | None:
        return await self._one(portal_users.c.id == user_id)

    async def by_email(self, email: str) -> Account | None:
        return await self._one(portal_users.c.email == email.strip().lower())

    async def with_mandates(self, user_id: str) -> tuple[Account, list[Mandate]] | None:
        """The account and its mandates, as they are now, in one statement."""
        rows = await self._account_and_mandates.all({"user_id": user_id})
        if not rows:
            return None
        found = [_mandate(row, _MANDATE) for row in rows if row[_MANDATE + "id"] is not None]
        return _account(rows[0]), found

    async def record_login(self, user_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                portal_users.update().where(portal_users.c.id == user_id).values(last_login_at=utcnow())
            )

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
            result = await conn.execute(
                mandates.update()
                .where(mandates.c.id == mandate_id, mandates.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        return bool(result.rowcount)
