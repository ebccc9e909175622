"""The outbox delivers only the kinds it has handlers for: ``gateway users add`` delivers its password link at
once and leaves the gateway's other side effects (support mails, receipts) to a running gateway, untried."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db import outbox
from gateway.outbox import Outbox


async def test_a_kind_without_a_handler_is_left_untried_for_another_deliverer(engine: AsyncEngine) -> None:
    delivered: list[dict[str, Any]] = []

    async def handle(payload: dict[str, Any], key: str) -> None:
        delivered.append(payload)

    links = Outbox(engine, {"password_link": handle})
    await links.enqueue("mail", {"to": "atbalsts@radioatlaujas.lv"}, "issue-1")
    await links.enqueue("password_link", {"user_id": "u1", "purpose": "first"}, "link-1")
    assert await links.deliver_due() == 1
    assert delivered == [{"user_id": "u1", "purpose": "first"}]
    async with engine.begin() as conn:
        rows = {r.kind: r for r in await conn.execute(sa.select(outbox))}
    untried = rows["mail"]
    assert untried.attempts == 0 and untried.last_error is None and untried.delivered_at is None
    everything = Outbox(engine, {"mail": handle, "password_link": handle})
    assert await everything.deliver_due() == 1 and await everything.pending() == 0
