"""The first answer to an idempotent mutation, kept in the database so that any instance, even after a
restart, repeats it for a retry with the same key (and refuses the key for different content)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.receipts import content_sha256
from gateway.db import idempotent_requests, utcnow


class KeyReused(Exception):
    """The key was used before with other content."""


class IdempotentRequests:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def first_state(self, key: str, content: Any, state: dict[str, Any]) -> dict[str, Any]:
        """The state stored with the first use of ``key``: ``state`` itself when this is the first use.

        Of concurrent first uses (any instance) exactly one stores its state; the others get that one.
        """
        fingerprint = content_sha256(content)
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    idempotent_requests.insert().values(
                        key=key,
                        fingerprint=fingerprint,
                        state=json.dumps(state, default=str),
                        created_at=utcnow(),
                    )
                )
            return state
        except IntegrityError:
            pass
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(idempotent_requests).where(idempotent_requests.c.key == key))
            ).first()
        assert row is not None
        if row._mapping["fingerprint"] != fingerprint:
            raise KeyReused(key)
        stored: dict[str, Any] = json.loads(row._mapping["state"])
        return stored
