"""Billing: balance, invoices, payments, the price list."""

from __future__ import annotations

import time
from collections.abc import Sequence

from adapters.billing.records import BalanceRecord, InvoiceRecord, PaymentRecord, PriceListItemRecord
from adapters.errors import UpstreamError
from adapters.paging import Page
from gateway.errors import from_upstream
from resolvers.context import Context
from resolvers.paging import page_key

_PRICE_LIST_TTL = 300.0
_price_list_cache: tuple[float, Sequence[PriceListItemRecord]] | None = None


async def balance(ctx: Context, client_id: str) -> BalanceRecord | None:
    await ctx.principal.allow(client_id, "BILLING_READ")
    return await ctx.loaders.balance_by_client_id.load(client_id)


async def invoices(
    ctx: Context, client_id: str, status: str | None, first: int | None, after: str | None
) -> Page[InvoiceRecord]:
    await ctx.principal.allow(client_id, "BILLING_READ")
    return await ctx.loaders.invoices_by_client_id.load(page_key(client_id, first, after, status=status))


async def payments(ctx: Context, client_id: str, first: int | None, after: str | None) -> Page[PaymentRecord]:
    await ctx.principal.allow(client_id, "BILLING_READ")
    return await ctx.loaders.payments_by_client_id.load(page_key(client_id, first, after))


async def price_list(ctx: Context) -> Sequence[PriceListItemRecord]:
    """Public reference data, cached for minutes in the process: it changes with a government decree."""
    global _price_list_cache
    now = time.monotonic()
    if _price_list_cache is not None and now - _price_list_cache[0] < _PRICE_LIST_TTL:
        return _price_list_cache[1]
    try:
        items = await ctx.services.billing.price_list()
    except UpstreamError as exc:
        raise from_upstream(exc) from exc
    _price_list_cache = (now, items)
    return items


async def invoice(ctx: Context, invoice_id: str) -> InvoiceRecord | None:
    record = await ctx.loaders.invoice_by_id.load(invoice_id)
    if record is None:
        return None
    await ctx.principal.allow(record.client_id, "BILLING_READ")
    return record


async def payment(ctx: Context, payment_id: str) -> PaymentRecord | None:
    record = await ctx.loaders.payment_by_id.load(payment_id)
    if record is None:
        return None
    await ctx.principal.allow(record.client_id, "BILLING_READ")
    return record
