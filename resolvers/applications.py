"""Applications and their receipts."""

from __future__ import annotations

from adapters.paging import Page
from adapters.permits.records import ApplicationRecord
from resolvers.context import Context
from resolvers.paging import page_key


async def applications(
    ctx: Context, client_id: str, first: int | None, after: str | None
) -> Page[ApplicationRecord]:
    await ctx.principal.require(client_id, "APPLICATIONS_SUBMIT")
    return await ctx.loaders.applications_by_client_id.load(page_key(client_id, first, after))


async def application(ctx: Context, application_id: str) -> ApplicationRecord | None:
    record = await ctx.loaders.application_by_id.load(application_id)
    if record is None:
        return None
    await ctx.principal.require(record.client_id, "APPLICATIONS_SUBMIT")
    return record
