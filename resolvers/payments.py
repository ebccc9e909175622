"""Payments through the partner bank (terms 2.11)."""

from __future__ import annotations

from adapters.billing.records import PaymentSessionRecord
from adapters.errors import UpstreamError
from gateway.errors import BadUserInput, from_upstream
from resolvers.audit import audited
from resolvers.context import Context


async def initiate(
    ctx: Context, client_id: str, invoice_ids: list[str], idempotency_key: str
) -> PaymentSessionRecord:
    """Journalled as `initiatePayment` (terms 18, 23.3), whatever its outcome."""
    async with audited(
        ctx,
        "initiatePayment",
        {"invoiceIds": invoice_ids, "idempotencyKey": idempotency_key},
        acting_for=client_id,
    ):
        return await _initiate(ctx, client_id, invoice_ids, idempotency_key)


async def _initiate(
    ctx: Context, client_id: str, invoice_ids: list[str], idempotency_key: str
) -> PaymentSessionRecord:
    """A payment session at the billing system for invoices of this client with something outstanding.

    The key goes downstream as it is (per user and client), so a retry opens no second session.
    """
    client = await ctx.principal.require(client_id, "PAYMENTS_MAKE")
    account = ctx.principal.require_fresh_password()
    if not invoice_ids or len(invoice_ids) > 100:
        raise BadUserInput("Name 1 to 100 invoices to pay.")
    if not 8 <= len(idempotency_key) <= 100:
        raise BadUserInput("`idempotencyKey` needs 8 to 100 characters; use a new UUID per payment.")
    invoices = await ctx.loaders.invoice_by_id.load_many(invoice_ids)
    for invoice_id, invoice in zip(invoice_ids, invoices, strict=True):
        if invoice is None or invoice.client_id != client.id:
            raise BadUserInput(f"Invoice {invoice_id} is not an invoice of {client.name}.")
        if invoice.outstanding <= 0:
            raise BadUserInput(f"Invoice {invoice.number} has nothing outstanding.")
    return_url = ctx.services.settings.public_url.rstrip("/") + ctx.services.settings.frontend_url
    try:
        return await ctx.services.billing.create_payment_session(
            client.id,
            [i.id for i in invoices if i is not None],
            return_url=return_url,
            idempotency_key=f"initiatePayment:{account.id}:{client.id}:{idempotency_key}",
        )
    except UpstreamError as exc:
        raise from_upstream(exc) from exc
