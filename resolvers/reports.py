"""Reports (terms 2.10, 17): a statement for any client, a reconciliation statement ("salīdzināšanas akts")
for legal persons; real PDFs from the billing data of the period, stored in the document store."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from adapters.billing.records import InvoiceRecord, PaymentRecord
from adapters.documents.records import DocumentRecord
from adapters.errors import UpstreamError
from adapters.paging import Page
from gateway.errors import BadUserInput, from_upstream
from gateway.pdf import report_pdf
from resolvers.audit import audited
from resolvers.context import Context

T = TypeVar("T")
MAX_PERIOD = timedelta(days=3 * 366)
MAX_PAGES = 50
TITLES = {"STATEMENT": "Konta izraksts / Statement", "RECONCILIATION": "Salidzinasanas akts / Reconciliation"}


async def _all(owner: str, fetch: Callable[[str | None], Awaitable[Mapping[str, Page[T]]]]) -> list[T]:
    """Every page of an owner's list, in order (bounded, so a runaway upstream cannot keep us here)."""
    items: list[T] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        page = (await fetch(after)).get(owner) or Page[T].empty()
        items.extend(page.items)
        if not page.has_more or not page.cursors:
            break
        after = page.cursors[-1]
    return items


async def generate(ctx: Context, client_id: str, kind: str, start: date, end: date) -> DocumentRecord:
    """Journalled as `generateReport` (terms 18, 23.3), whatever its outcome."""
    async with audited(ctx, "generateReport", {"kind": kind, "from": start, "to": end}, acting_for=client_id):
        return await _generate(ctx, client_id, kind, start, end)


async def _generate(ctx: Context, client_id: str, kind: str, start: date, end: date) -> DocumentRecord:
    client = await ctx.principal.require(client_id, "REPORTS_GENERATE")
    account = ctx.principal.require_fresh_password()
    if kind == "RECONCILIATION" and client.kind != "LEGAL_PERSON":
        raise BadUserInput("A reconciliation statement is for legal persons; ask for a STATEMENT instead.")
    if start > end or end - start > MAX_PERIOD or end > date.today() + timedelta(days=1):
        raise BadUserInput(
            "`from` must not be after `to`, the period at most 3 years, and not in the future."
        )
    billing = ctx.services.billing
    try:
        invoices: list[InvoiceRecord] = await _all(
            client.id, lambda after: billing.invoice_pages([client.id], status=None, limit=100, after=after)
        )
        payments: list[PaymentRecord] = await _all(
            client.id, lambda after: billing.payment_pages([client.id], limit=100, after=after)
        )
    except UpstreamError as exc:
        raise from_upstream(exc) from exc
    in_period = sorted((i for i in invoices if start <= i.issued_on <= end), key=lambda i: i.issued_on)
    paid = sorted((p for p in payments if start <= p.paid_at.date() <= end), key=lambda p: p.paid_at)
    rows = [[i.issued_on.isoformat(), i.number, f"{i.total} EUR", i.status] for i in in_period]
    rows += [
        [p.paid_at.date().isoformat(), p.reference or p.method, f"-{p.amount} EUR", "PAYMENT"] for p in paid
    ]
    invoiced = sum((i.total for i in in_period), Decimal(0))
    received = sum((p.amount for p in paid), Decimal(0))
    totals = [f"Izrakstits / Invoiced: {invoiced} EUR", f"Sanemts / Received: {received} EUR"]
    if kind == "RECONCILIATION":
        totals.append(f"Starpiba / Difference: {invoiced - received} EUR")
    content = report_pdf(
        title=TITLES[kind],
        client=f"{client.name} ({client.code})",
        period=(start, end),
        rows=rows,
        totals=totals,
    )
    # The same report asked twice the same day by the same person is stored once.
    key = hashlib.sha256(f"{account.id}:{client.id}:{kind}:{start}:{end}:{date.today()}".encode()).hexdigest()
    try:
        return await ctx.services.documents.create_document(
            owner_id=client.id,
            kind="REPORT",
            title=f"{TITLES[kind].split(' / ')[0]} {start.isoformat()}–{end.isoformat()}",
            mime_type="application/pdf",
            content=content,
            idempotency_key=f"generateReport:{key}",
        )
    except UpstreamError as exc:
        raise from_upstream(exc) from exc
