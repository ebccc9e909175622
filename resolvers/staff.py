"""Staff operations on portal accounts (terms 5, 10, 12.2, 15.4, 21): the same service as `gateway users`."""

from __future__ import annotations

from datetime import date

from auth.accounts import Account
from auth.identity import AccountError, NewMandate
from gateway.db import utcnow
from gateway.errors import BadUserInput, Forbidden, NotFound
from resolvers.context import Context


def _staff(ctx: Context) -> Account:
    account = ctx.principal.require_fresh_password()
    if not account.is_staff:
        raise Forbidden("Only the company's staff may do this.")
    return account


async def _user(ctx: Context, email: str) -> Account:
    account = await ctx.services.accounts.by_email(email)
    if account is None:
        raise NotFound(f"No portal user with the e-mail {email}.")
    return account


async def portal_user(ctx: Context, email: str) -> Account:
    _staff(ctx)
    return await _user(ctx, email)


async def set_state(ctx: Context, email: str, state: str, reason: str | None) -> Account:
    _staff(ctx)
    user = await _user(ctx, email)
    try:
        return await ctx.services.identity.set_state(user.id, state, reason)
    except AccountError as exc:
        raise BadUserInput(str(exc)) from exc


async def require_password_change(ctx: Context, email: str) -> Account:
    _staff(ctx)
    return await ctx.services.identity.require_password_change((await _user(ctx, email)).id)


async def register(
    ctx: Context,
    *,
    email: str,
    full_name: str,
    phone: str | None,
    personal_code: str | None,
    self_client_id: str | None,
    mandates: list[tuple[str, list[str], date | None]],
) -> Account:
    staff = _staff(ctx)
    try:
        return await ctx.services.identity.register(
            email=email,
            full_name=full_name,
            phone=phone,
            personal_code=personal_code,
            self_client_id=self_client_id,
            mandates=[NewMandate(c, s, until) for c, s, until in mandates],
            granted_by=staff.id,
            today=utcnow().date(),
        )
    except AccountError as exc:
        raise BadUserInput(str(exc)) from exc
