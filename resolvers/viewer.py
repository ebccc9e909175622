"""The viewer and the terms of use (terms 4, 30 and section VII)."""

from __future__ import annotations

from auth.accounts import Account
from auth.lockout import Lockout
from auth.terms import current_terms
from resolvers.context import Context


def viewer_account(ctx: Context) -> Account | None:
    """The logged-in account, or None for anyone else (``viewer`` is null, not an error, then)."""
    principal = ctx.principal
    return principal.account if principal.is_user else None


async def terms_accepted(ctx: Context, account: Account) -> bool:
    versions = await ctx.services.accounts.accepted_terms_versions(account.id)
    return current_terms().version in versions


async def account_state(ctx: Context, account: Account) -> str:
    """The stored state, or LOCKED while the lockout of terms 12.1 is running for an active account."""
    if account.state != "ACTIVE":
        return account.state
    settings = ctx.services.settings
    lockout = Lockout(ctx.services.store, settings.lockout_threshold, settings.lockout_seconds)
    return "LOCKED" if await lockout.retry_after(account.email) is not None else "ACTIVE"
