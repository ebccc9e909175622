"""The representatives (mandates) of a client (terms 6)."""

from __future__ import annotations

from auth.accounts import RepresentativeRow
from resolvers.context import Context


async def representatives(ctx: Context, client_id: str) -> list[RepresentativeRow]:
    await ctx.principal.require(client_id, "REPRESENTATIVES_MANAGE")
    return await ctx.services.accounts.representatives_of(client_id)


async def representative(ctx: Context, mandate_id: str) -> RepresentativeRow | None:
    """One mandate, reached through its client like every other client datum."""
    mandate = await ctx.services.accounts.mandate_by_id(mandate_id)
    if mandate is None:
        return None
    rows = await representatives(ctx, mandate.client_id)
    return next((r for r in rows if r.mandate.id == mandate_id), None)
