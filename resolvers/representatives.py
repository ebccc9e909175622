"""The representatives (mandates) of a client (terms 6); granting and revoking are journalled."""

from __future__ import annotations

from datetime import date

from auth.accounts import RepresentativeRow
from gateway.db import utcnow
from gateway.errors import BadUserInput, Forbidden, NotFound
from resolvers.audit import audited
from resolvers.context import Context


async def representatives(ctx: Context, client_id: str) -> list[RepresentativeRow]:
    await ctx.principal.allow(client_id, "REPRESENTATIVES_MANAGE")
    return await ctx.services.accounts.representatives_of(client_id)


async def representative(ctx: Context, mandate_id: str) -> RepresentativeRow | None:
    """One mandate, reached through its client like every other client datum."""
    mandate = await ctx.services.accounts.mandate_by_id(mandate_id)
    if mandate is None:
        return None
    rows = await representatives(ctx, mandate.client_id)
    return next((r for r in rows if r.mandate.id == mandate_id), None)


async def grant(
    ctx: Context, client_id: str, email: str, scopes: list[str], valid_until: date | None
) -> RepresentativeRow:
    """Terms 6: a user with REPRESENTATIVES_MANAGE gives a mandate, never with a scope it lacks itself.

    A user who holds a mandate for the client already gets the new one in its place.
    """
    details = {"clientId": client_id, "email": email, "scopes": scopes, "validUntil": valid_until}
    async with audited(ctx, "grantRepresentative", details, acting_for=client_id) as note:
        granted = await _grant(ctx, client_id, email, scopes, valid_until)
        note.details["representativeId"] = granted.mandate.id
    return granted


async def _grant(
    ctx: Context, client_id: str, email: str, scopes: list[str], valid_until: date | None
) -> RepresentativeRow:
    client = await ctx.principal.require(client_id, "REPRESENTATIVES_MANAGE")
    granter = ctx.principal.require_fresh_password()
    own = await ctx.principal.scopes_on(client)
    beyond = sorted(set(scopes) - own)
    if beyond:
        raise Forbidden(f"You cannot grant scopes you do not hold yourself: {', '.join(beyond)}.")
    if not scopes:
        raise BadUserInput("Grant at least one scope.")
    today = utcnow().date()
    if valid_until is not None and valid_until < today:
        raise BadUserInput("`validUntil` is in the past; give today or a later date, or none for no end.")
    accounts = ctx.services.accounts
    person = await accounts.by_email(email)
    if person is None or person.state != "ACTIVE":
        raise BadUserInput(
            "There is no active portal user with this e-mail. The person applies for an account first "
            "(terms 10); then grant the mandate."
        )
    if person.id == granter.id:
        raise BadUserInput("You cannot grant a mandate to yourself.")
    for existing in await accounts.representatives_of(client.id):
        if existing.mandate.user_id == person.id and existing.mandate.revoked_at is None:
            await accounts.revoke_mandate(existing.mandate.id)
    mandate_id = await accounts.add_mandate(
        user_id=person.id,
        client_id=client.id,
        scopes=scopes,
        valid_from=today,
        valid_until=valid_until,
        granted_by=granter.id,
    )
    granted = await representative(ctx, mandate_id)
    assert granted is not None
    return granted


async def revoke(ctx: Context, client_id: str, mandate_id: str) -> bool:
    """Felt on the next request of the representative, on every instance: mandates are read per request."""
    details = {"clientId": client_id, "representativeId": mandate_id}
    async with audited(ctx, "revokeRepresentative", details, acting_for=client_id):
        await ctx.principal.allow(client_id, "REPRESENTATIVES_MANAGE")
        ctx.principal.require_fresh_password()
        mandate = await ctx.services.accounts.mandate_by_id(mandate_id)
        if mandate is None or mandate.client_id != client_id:
            raise NotFound("No such representative of this client.")
        revoked = await ctx.services.accounts.revoke_mandate(mandate_id) or mandate.revoked_at is not None
    return revoked
