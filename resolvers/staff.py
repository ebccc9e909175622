"""Staff operations on portal accounts (terms 5, 10, 12.2, 15.4, 21): the same service as `gateway users`.

Each one is journalled with its outcome, refusals included (terms 23.3).
"""

from __future__ import annotations

from datetime import date

from adapters.errors import UpstreamError
from auth.accounts import Account
from auth.identity import AccountError, NewMandate
from gateway.db import utcnow
from gateway.errors import BadUserInput, NotFound, from_upstream
from resolvers.audit import audited, staff_account
from resolvers.context import Context

# The GraphQL mutation behind each state, so that the journal names operations as the graph does.
STATE_OPERATIONS = {"BLOCKED": "blockUser", "ACTIVE": "unblockUser", "TERMINATED": "terminateUser"}


async def _user(ctx: Context, email: str) -> Account:
    account = await ctx.services.accounts.by_email(email)
    if account is None:
        raise NotFound(f"No portal user with the e-mail {email}.")
    return account


async def portal_user(ctx: Context, email: str) -> Account:
    async with audited(ctx, "portalUser", {"email": email}) as note:
        staff_account(ctx)
        user = await _user(ctx, email)
        note.details["userId"] = user.id
    return user


async def set_state(ctx: Context, email: str, state: str, reason: str | None) -> Account:
    details = {"email": email, "state": state, "reason": reason}
    async with audited(ctx, STATE_OPERATIONS.get(state, "setUserState"), details) as note:
        staff_account(ctx)
        user = await _user(ctx, email)
        note.details["userId"] = user.id
        try:
            updated = await ctx.services.identity.set_state(user.id, state, reason)
        except AccountError as exc:
            raise BadUserInput(str(exc)) from exc
    return updated


async def require_password_change(ctx: Context, email: str) -> Account:
    async with audited(ctx, "requirePasswordChange", {"email": email}) as note:
        staff_account(ctx)
        user = await _user(ctx, email)
        note.details["userId"] = user.id
        updated = await ctx.services.identity.require_password_change(user.id)
    return updated


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
    details = {
        "email": email,
        "fullName": full_name,
        "phone": phone,
        "personalCode": personal_code,
        "selfClientId": self_client_id,
        "mandates": [{"clientId": c, "scopes": s, "validUntil": until} for c, s, until in mandates],
    }
    async with audited(ctx, "registerPortalUser", details, acting_for=self_client_id) as note:
        staff = staff_account(ctx)
        try:
            account = await ctx.services.identity.register(
                email=email,
                full_name=full_name,
                phone=phone,
                personal_code=personal_code,
                self_client_id=self_client_id,
                mandates=[NewMandate(c, s, until) for c, s, until in mandates],
                granted_by=staff.id,
                today=utcnow().date(),
                clients=ctx.services.billing.clients_by_ids,
            )
        except AccountError as exc:
            raise BadUserInput(str(exc)) from exc
        except UpstreamError as exc:
            raise from_upstream(exc) from exc
        note.details["userId"] = account.id
    return account
