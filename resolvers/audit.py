"""The audit journal from the resolvers: recording what a GraphQL operation did, and the staff's reading.

``audit_from_context`` fills in who (principal), from where (IP, user agent) and which request from the
per-request ``Context``; ``audited`` records an operation's outcome whether it succeeds or fails, so that a
refused attempt is evidence as much as a done one (terms 18, 23.3).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from auth.accounts import Account
from gateway.audit import AuditPage
from gateway.errors import BadUserInput, Forbidden, GatewayError
from resolvers.context import Context
from resolvers.paging import MAX_PAGE

log = logging.getLogger("gateway.audit")


def staff_account(ctx: Context) -> Account:
    """The caller's staff account; FORBIDDEN for anyone else (UNAUTHENTICATED when not logged in).

    Here rather than in ``resolvers.staff``, which journals through this module.
    """
    account = ctx.principal.require_fresh_password()
    if not account.is_staff:
        raise Forbidden("Only the company's staff may do this.")
    return account


def principal_of(ctx: Context) -> tuple[str, str | None]:
    """(principal_kind, principal) of the caller: the account's id, a bank's id, or no one."""
    p = ctx.principal
    if p.kind == "bank":
        return "bank", p.bank_id
    if p.account is not None and p.kind in ("user", "staff"):
        return p.kind, p.account.id
    return "anonymous", None


async def audit_from_context(
    ctx: Context,
    operation: str,
    outcome: str,
    details: Mapping[str, Any] | None = None,
    acting_for: str | None = None,
    conn: AsyncConnection | None = None,
) -> int:
    """Append a record about this request; ``details`` (the operation's inputs) are redacted by the journal.

    ``acting_for`` is the client id the caller acted for, when the operation concerns one; ``conn`` puts the
    record in the caller's transaction (a side effect and its record stand or fall together).
    """
    kind, principal = principal_of(ctx)
    return await ctx.services.audit.record(
        principal_kind=kind,
        principal=principal,
        acting_for=acting_for,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
        operation=operation,
        outcome=outcome,
        request_id=ctx.request_id,
        details=details,
        conn=conn,
    )


async def queue_side_effect(
    ctx: Context,
    kind: str,
    payload: dict[str, Any],
    key: str,
    *,
    acting_for: str | None,
    conn: AsyncConnection | None = None,
) -> None:
    """Put a side effect in the outbox and its record in the journal in one transaction (or the caller's)."""
    if conn is None:
        async with ctx.services.outbox.engine.begin() as own:
            await queue_side_effect(ctx, kind, payload, key, acting_for=acting_for, conn=own)
        return
    if await ctx.services.outbox.enqueue(kind, payload, key, conn=conn):
        await audit_from_context(
            ctx, f"outbox.{kind}", "queued", {"key": key, **payload}, acting_for=acting_for, conn=conn
        )


class AuditNote:
    """What the body of ``audited`` learns on the way and wants in the record (e.g. the target's id)."""

    def __init__(self, acting_for: str | None) -> None:
        self.acting_for = acting_for
        self.details: dict[str, Any] = {}


@asynccontextmanager
async def audited(
    ctx: Context, operation: str, details: Mapping[str, Any], acting_for: str | None = None
) -> AsyncIterator[AuditNote]:
    """Record ``operation`` once its body has run: outcome "ok", or the error's code in lower case.

    A failure to record a success propagates (the caller learns that its action left no evidence); a failure
    to record a refusal is only logged, so that the caller still gets the refusal's own message.
    """
    note = AuditNote(acting_for)
    try:
        yield note
    except GatewayError as exc:
        await _record_failure(ctx, operation, exc.code.lower(), {**details, "error": exc.message}, note)
        raise
    except Exception as exc:
        await _record_failure(ctx, operation, "error", {**details, "error": type(exc).__name__}, note)
        raise
    await audit_from_context(ctx, operation, "ok", {**details, **note.details}, note.acting_for)


async def _record_failure(
    ctx: Context, operation: str, outcome: str, details: Mapping[str, Any], note: AuditNote
) -> None:
    try:
        await audit_from_context(ctx, operation, outcome, {**details, **note.details}, note.acting_for)
    except Exception:
        log.exception("could not journal %s (%s), request %s", operation, outcome, ctx.request_id)


async def audit_log(
    ctx: Context,
    *,
    first: int,
    after: str | None,
    operation: str | None,
    principal: str | None,
    since: datetime | None,
) -> AuditPage:
    """Staff only: the journal, newest first. ``principal`` may be an e-mail: the account's records and the
    failed logins with that e-mail both match."""
    staff_account(ctx)
    if first < 1 or first > MAX_PAGE:
        raise BadUserInput(f"`first` must be between 1 and {MAX_PAGE}; page through more with `after`.")
    try:
        after_seq = int(after) if after else None
    except ValueError:
        raise BadUserInput("`after` is the cursor of a record of an earlier page.") from None
    principals: tuple[str, ...] | None = None
    if principal:
        principals = (principal,)
        if "@" in principal:
            account = await ctx.services.accounts.by_email(principal.strip().lower())
            principals = (principal, principal.strip().lower(), *((account.id,) if account else ()))
    return await ctx.services.audit.page(
        first=first, after_seq=after_seq, operation=operation or None, principals=principals, since=since
    )
