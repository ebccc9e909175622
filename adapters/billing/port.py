"""The billing system as the gateway sees it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from adapters.billing.records import (
    BalanceRecord,
    ClientRecord,
    InvoiceRecord,
    PaymentRecord,
    PriceListItemRecord,
)
from adapters.paging import Page


class BillingPort(Protocol):
    """Client master data, invoices, payments, balances and the price list.

    Batch methods take many keys and return a mapping; a key the system does not know is absent from it.
    Page methods return one ``Page`` per owner id asked for (an empty page for an owner with nothing).
    """

    async def clients_by_ids(self, ids: Sequence[str]) -> Mapping[str, ClientRecord]: ...

    async def invoices_by_ids(self, ids: Sequence[str]) -> Mapping[str, InvoiceRecord]: ...

    async def invoice_pages(
        self, client_ids: Sequence[str], *, status: str | None, limit: int, after: str | None
    ) -> Mapping[str, Page[InvoiceRecord]]: ...

    async def payments_by_ids(self, ids: Sequence[str]) -> Mapping[str, PaymentRecord]: ...

    async def payment_pages(
        self, client_ids: Sequence[str], *, limit: int, after: str | None
    ) -> Mapping[str, Page[PaymentRecord]]: ...

    async def balances(self, client_ids: Sequence[str]) -> Mapping[str, BalanceRecord]: ...

    async def price_list(self) -> Sequence[PriceListItemRecord]: ...

    async def ping(self) -> None:
        """Raise ``UpstreamUnavailable`` unless the system answers its health check."""
        ...
