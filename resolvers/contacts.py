"""Contact data (terms 15.7) and reports of portal defects (terms 16.3)."""

from __future__ import annotations

import re
import uuid

from adapters.billing.records import ClientRecord
from adapters.errors import UpstreamError
from auth.throttle import over_limit, refused
from gateway.db import portal_issues, utcnow
from gateway.errors import BadUserInput, RateLimited, from_upstream
from resolvers.audit import audited, queue_side_effect
from resolvers.context import Context

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
SUPPORT_ADDRESS = "atbalsts@radioatlaujas.lv"


def _problems(email: str | None, phone: str | None, address: str | None) -> list[str]:
    problems = []
    if email is not None and (len(email) > 254 or not _EMAIL.match(email)):
        problems.append("`email` is not an e-mail address")
    if phone is not None and not _E164.match(phone):
        problems.append("`phone` must be in the international form, e.g. +37129123456")
    if address is not None and not 1 <= len(address.strip()) <= 200:
        problems.append("`address` needs 1 to 200 characters")
    if email is None and phone is None and address is None:
        problems.append("give at least one of `email`, `phone`, `address`")
    return problems


async def update(
    ctx: Context, client_id: str, email: str | None, phone: str | None, address: str | None
) -> ClientRecord:
    """Journalled as `updateContactInfo` (terms 18, 23.3), whatever its outcome."""
    async with audited(
        ctx, "updateContactInfo", {"email": email, "phone": phone, "address": address}, acting_for=client_id
    ):
        return await _update(ctx, client_id, email, phone, address)


async def _update(
    ctx: Context, client_id: str, email: str | None, phone: str | None, address: str | None
) -> ClientRecord:
    client = await ctx.principal.require(client_id, "CONTACTS_UPDATE")
    ctx.principal.require_fresh_password()
    email = email.strip() if email is not None else None
    phone = phone.replace(" ", "") if phone is not None else None
    problems = _problems(email, phone, address)
    if problems:
        raise BadUserInput("; ".join(problems).capitalize() + ".", reasons=problems)
    try:
        updated = await ctx.services.billing.update_contact(
            client.id,
            email=email,
            phone=phone,
            address=address.strip() if address is not None else None,
            idempotency_key=f"updateContactInfo:{uuid.uuid4()}",
        )
    except UpstreamError as exc:
        raise from_upstream(exc) from exc
    ctx.loaders.client_by_id.clear(client.id).prime(client.id, updated)
    return updated


async def report_issue(ctx: Context, message: str, page: str | None) -> bool:
    """Journalled as `reportPortalIssue` (terms 18, 23.3), whatever its outcome."""
    async with audited(ctx, "reportPortalIssue", {"page": page, "length": len(message)}, acting_for=None):
        return await _report_issue(ctx, message, page)


async def _report_issue(ctx: Context, message: str, page: str | None) -> bool:
    """Kept in the database and mailed to support through the outbox, in one transaction."""
    account = ctx.principal.require_fresh_password()
    await _within_issue_limit(ctx, account.id)
    message = message.strip()
    if not 1 <= len(message) <= 4000 or (page is not None and len(page) > 500):
        raise BadUserInput("`message` needs 1 to 4000 characters and `page` at most 500.")
    issue_id = str(uuid.uuid4())
    services = ctx.services
    async with services.outbox.engine.begin() as conn:
        await conn.execute(
            portal_issues.insert().values(
                id=issue_id, user_id=account.id, page=page, message=message, created_at=utcnow()
            )
        )
        mail = {
            "to": SUPPORT_ADDRESS,
            "subject": f"Portal issue {issue_id[:8]} from {account.email}",
            "body": f"From: {account.full_name} <{account.email}>\nPage: {page or '-'}\n\n{message}\n",
        }
        await queue_side_effect(ctx, "mail", mail, f"portal-issue:{issue_id}", acting_for=None, conn=conn)
    return True


async def _within_issue_limit(ctx: Context, user_id: str) -> None:
    """Each report mails support: ``ISSUE_RATE_LIMIT`` (10 an hour) per user, or RATE_LIMITED (terms 12.2)."""
    limit = ctx.services.settings.issue_rate_limit
    retry_after = await over_limit(ctx.services.store, f"portal-issue:{user_id}", limit)
    if retry_after is not None:
        refused("portal_issue", f"user {user_id}", retry_after)
        raise RateLimited(
            f"You have reported {limit[0]} issues within {limit[1] // 60} minutes; try again in "
            f"{retry_after} s, or write to {SUPPORT_ADDRESS}.",
            retryAfter=retry_after,
        )
