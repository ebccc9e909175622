"""The viewer's own account: accepting the terms (4, 30), changing the password (15.3, 15.4). Journalled."""

from __future__ import annotations

from auth.accounts import Account
from auth.identity import WeakPassword
from auth.terms import current_terms
from gateway.errors import BadUserInput
from resolvers.audit import audited
from resolvers.context import Context


async def accept_terms(ctx: Context, version: int) -> Account:
    async with audited(ctx, "acceptTerms", {"version": version}):
        account = ctx.principal.require_fresh_password()
        current = current_terms().version
        if version != current:
            raise BadUserInput(f"Version {version} is not the terms in force; accept version {current}.")
        if current not in await ctx.services.accounts.accepted_terms_versions(account.id):
            await ctx.services.accounts.record_terms_acceptance(account.id, current, ctx.client_ip)
    return account


async def change_password(ctx: Context, current_password: str, new_password: str) -> Account:
    """Allowed even when the password has expired: it is the one way out of that state."""
    # Neither password goes to the journal, not even redacted: only that a change was asked and how it ended.
    async with audited(ctx, "changePassword", {}):
        account = ctx.principal.require_user()
        try:
            await ctx.services.identity.change_password(
                account, current_password, new_password, ctx.session_id
            )
        except WeakPassword as exc:
            raise BadUserInput(
                f"The new password needs: {'; '.join(exc.reasons)}.", reasons=exc.reasons
            ) from exc
    updated = await ctx.services.accounts.by_id(account.id)
    assert updated is not None
    ctx.principal.account = updated
    return updated
