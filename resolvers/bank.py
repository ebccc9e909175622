"""Settlement status for partner banks (the design card's "partner banks fetching settlement status").

A bank reaches only the clients that have an agreement with it in the billing system; any other client, and
a reference or code that does not exist, is the same ``NOT_FOUND``. Nothing personal beyond the amounts, the
last payment and the open invoices leaves here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from adapters.billing.port import BillingPort
from adapters.billing.records import BalanceRecord, InvoiceRecord
from adapters.errors import UpstreamError
from gateway.errors import BadUserInput, Forbidden, NotFound, Unauthenticated, from_upstream
from resolvers.context import Context

OPEN_STATUSES = ("OVERDUE", "UNPAID", "PARTIALLY_PAID")
_NOT_FOUND = "No settlement status for this reference or client code."


@dataclass(frozen=True, slots=True)
class Settlement:
    state: str
    currency: str
    outstanding: Decimal
    overdue: Decimal
    last_payment_at: datetime | None
    open_invoices: list[InvoiceRecord]


def require_bank(ctx: Context) -> str:
    principal = ctx.principal
    if principal.kind == "bank" and principal.bank_id:
        return principal.bank_id
    if principal.kind == "anonymous":
        raise Unauthenticated(
            "Send a partner bank's access token: Authorization: Bearer <token> from the identity broker's "
            "client-credentials grant with the scope settlement:read."
        )
    raise Forbidden("Settlement status is for partner banks; portal users see their balance under `client`.")


async def settlement_status(
    ctx: Context, payment_reference: str | None, client_code: str | None
) -> Settlement:
    bank_id = require_bank(ctx)
    if (payment_reference is None) == (client_code is None):
        raise BadUserInput("Give exactly one of `paymentReference` and `clientCode`.")
    billing = ctx.services.billing
    try:
        # The bank's agreements are fetched alongside the lookup: one round trip, not two.
        if payment_reference is not None:
            reference = payment_reference.strip().upper().replace(" ", "")
            invoice, agreed = await asyncio.gather(
                billing.invoice_by_reference(reference), billing.agreements(bank_id)
            )
            client_id = invoice.client_id if invoice else None
        else:
            code = (client_code or "").strip()
            client, agreed = await asyncio.gather(billing.client_by_code(code), billing.agreements(bank_id))
            client_id = client.id if client else None
        if client_id is None or client_id not in agreed:
            raise NotFound(_NOT_FOUND)
        return await _settlement(ctx, client_id)
    except UpstreamError as exc:
        raise from_upstream(exc) from exc


async def _settlement(ctx: Context, client_id: str) -> Settlement:
    billing = ctx.services.billing
    open_lists_future = asyncio.gather(*(_all_invoices(billing, client_id, s) for s in OPEN_STATUSES))
    balances, payments, open_lists = await asyncio.gather(
        billing.balances([client_id]),
        billing.payment_pages([client_id], limit=1, after=None),
        open_lists_future,
    )
    balance: BalanceRecord | None = balances.get(client_id)
    if balance is None:
        raise NotFound(_NOT_FOUND)
    invoices = [i for listed in open_lists for i in listed if i.outstanding > 0]
    invoices.sort(key=lambda i: (i.due_on, i.number))
    last = payments[client_id].items
    state = "OVERDUE" if balance.overdue > 0 else "OUTSTANDING" if balance.outstanding > 0 else "SETTLED"
    return Settlement(
        state=state,
        currency=balance.currency,
        outstanding=balance.outstanding,
        overdue=balance.overdue,
        last_payment_at=last[0].paid_at if last else None,
        open_invoices=invoices,
    )


async def _all_invoices(billing: BillingPort, client_id: str, status: str) -> list[InvoiceRecord]:
    """Every invoice of the client in ``status``, page after page (one call for up to 100, the usual case):
    a bank sees every open invoice, however many."""
    invoices: list[InvoiceRecord] = []
    after: str | None = None
    while True:
        page = (await billing.invoice_pages([client_id], status=status, limit=100, after=after))[client_id]
        invoices += page.items
        if not page.has_more or not page.cursors:
            return invoices
        after = page.cursors[-1]
