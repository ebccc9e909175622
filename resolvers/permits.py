"""Permits, their stations and frequency assignments."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.paging import Page
from adapters.permits.records import PermitRecord, StationRecord
from resolvers.context import Context
from resolvers.paging import page_key


async def permits(
    ctx: Context,
    client_id: str,
    status: str | None,
    service_type: str | None,
    first: int | None,
    after: str | None,
) -> Page[PermitRecord]:
    await ctx.principal.allow(client_id, "PERMITS_READ")
    key = page_key(client_id, first, after, status=status, service_type=service_type)
    return await ctx.loaders.permits_by_holder_id.load(key)


async def permit(ctx: Context, permit_id: str) -> PermitRecord | None:
    """A permit by id, when its holder is within reach with PERMITS_READ."""
    record = await ctx.loaders.permit_by_id.load(permit_id)
    if record is None:
        return None
    await ctx.principal.allow(record.holder_id, "PERMITS_READ")
    return record


async def stations(ctx: Context, permit: PermitRecord) -> Sequence[StationRecord]:
    """The permit was authorised where it entered the graph; its stations come with it."""
    return await ctx.loaders.stations_by_permit_id.load(permit.id)


async def station(ctx: Context, station_id: str) -> StationRecord | None:
    record = await ctx.loaders.station_by_id.load(station_id)
    if record is None or await permit(ctx, record.permit_id) is None:
        return None
    return record
