"""Billing: balance, invoices, payments, the price list."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict

import orjson

from adapters.billing.records import BalanceRecord, InvoiceRecord, PaymentRecord, PriceListItemRecord
from adapters.errors import UpstreamError
from adapters.paging import Page
from adapters.parse import decode
from gateway.errors import from_upstream
from resolvers.context import Context
from resolvers.paging import page_key

log = logging.getLogger("resolvers.billing")

_PRICE_LIST_TTL = 300  # seconds
_PRICE_LIST_KEY = "cache:price-list"


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
    """Public reference data (it changes with a government decree), cached for 5 minutes in the shared
    store, so that every instance gives the same list and the billing system is asked once for all."""
    store = ctx.services.store
    cached = await store.get(_PRICE_LIST_KEY)
    if cached is not None:
        try:
            return [decode(PriceListItemRecord, item) for item in orjson.loads(cached)]
        except ValueError:  # not JSON, or not the records (MalformedAnswer)
            log.warning("the cached price list is malformed; reading it from the billing system again")
    try:
        items = await ctx.services.billing.price_list()
    except UpstreamError as exc:
        raise from_upstream(exc) from exc
    # Decimals as strings, as the billing system sends them and ``decode`` reads them back.
    kept = orjson.dumps([asdict(item) for item in items], default=str).decode()
    await store.put(_PRICE_LIST_KEY, kept, ttl=_PRICE_LIST_TTL)
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
