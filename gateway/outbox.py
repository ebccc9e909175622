"""The outbox: side effects that may fail later (mails, archiving receipts) are written as rows first, then
delivered by a worker with retries and backoff, so that an outage or a restart delays them and loses none.

Each row carries an idempotency key, which is also what the delivery sends downstream, so a delivery that
succeeded but was not marked (a crash in between) repeats harmlessly. Any instance may deliver: a row is
claimed by moving its next attempt into the future, on the condition that nobody moved it first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.db import outbox, utcnow

log = logging.getLogger("gateway.outbox")

Handler = Callable[[dict[str, Any], str], Awaitable[None]]  # (payload, idempotency key)

CLAIM_SECONDS = 60  # how long a claimed row is left to its deliverer before another may try
MAX_BACKOFF = 15 * 60


class Outbox:
    def __init__(self, engine: AsyncEngine, handlers: Mapping[str, Handler] | None = None) -> None:
        self.engine = engine
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self._wake = asyncio.Event()

    async def enqueue(
        self, kind: str, payload: dict[str, Any], key: str, *, conn: AsyncConnection | None = None
    ) -> bool:
        """Add a side effect (in the caller's transaction with ``conn``); False when the key exists."""
        row = {
            "id": str(uuid.uuid4()),
            "kind": kind,
            "payload": json.dumps(payload, default=str),
            "idempotency_key": key,
            "created_at": utcnow(),
            "next_attempt_at": utcnow(),
        }
        try:
            if conn is not None:
                async with conn.begin_nested():
                    await conn.execute(outbox.insert().values(**row))
            else:
                async with self.engine.begin() as own:
                    await own.execute(outbox.insert().values(**row))
        except IntegrityError:
            return False
        self._wake.set()
        return True

    async def _claim(self) -> list[sa.Row[Any]]:
        """Due rows of the kinds this caller delivers that it now owns: each is taken by a conditional update
        that only one of several racing deliverers (tasks or instances) can win. A kind without a handler
        here is left to a deliverer that has one (``gateway users`` delivers only its password links)."""
        now = utcnow()
        async with self.engine.connect() as conn:
            query = (
                sa.select(outbox)
                .where(
                    outbox.c.delivered_at.is_(None),
                    outbox.c.next_attempt_at <= now,
                    outbox.c.kind.in_(list(self.handlers)),
                )
                .order_by(outbox.c.next_attempt_at)
                .limit(20)
            )
            candidates = list((await conn.execute(query)).fetchall())
        claimed = []
        for row in candidates:
            async with self.engine.begin() as conn:
                taken = await conn.execute(
                    outbox.update()
                    .where(
                        outbox.c.id == row._mapping["id"],
                        outbox.c.next_attempt_at == row._mapping["next_attempt_at"],
                        outbox.c.delivered_at.is_(None),
                    )
                    .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
                )
            if taken.rowcount == 1:
                claimed.append(row)
        return claimed

    async def deliver_due(self) -> int:
        """Try every due row once; returns how many were delivered."""
        delivered = 0
        for row in await self._claim():
            m = row._mapping
            handler = self.handlers.get(m["kind"])
            try:
                if handler is None:
                    raise LookupError(f"no handler for {m['kind']}")
                await handler(json.loads(m["payload"]), m["idempotency_key"])
            except Exception as exc:  # every failure is retried later; none may stop the others
                attempts = int(m["attempts"]) + 1
                delay = min(MAX_BACKOFF, 2**attempts) * random.uniform(0.5, 1.0)
                log.warning("outbox %s %s failed (attempt %d): %s", m["kind"], m["id"], attempts, exc)
                values: dict[str, Any] = {
                    "attempts": attempts,
                    "next_attempt_at": utcnow() + timedelta(seconds=delay),
                    "last_error": str(exc)[:400],
                }
            else:
                delivered += 1
                values = {"delivered_at": utcnow(), "attempts": int(m["attempts"]) + 1, "last_error": None}
            async with self.engine.begin() as conn:
                await conn.execute(outbox.update().where(outbox.c.id == m["id"]).values(**values))
        return delivered

    async def pending(self) -> int:
        async with self.engine.connect() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count()).select_from(outbox).where(outbox.c.delivered_at.is_(None))
            )
        return int(count or 0)

    async def run(self, interval: float = 2.0) -> None:
        """The worker: deliver what is due, then sleep until woken by an enqueue or the interval passes."""
        while True:
            try:
                await self.deliver_due()
            except Exception:  # the database may be away for a moment; the loop must survive it
                log.exception("outbox round failed")
            self._wake.clear()
            # asyncio.wait, unlike wait_for, gives up at once when the worker is cancelled at shutdown.
            sleeper = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper}, timeout=interval)
            finally:
                sleeper.cancel()
