"""The billing system over HTTP (``sandbox/UPSTREAM_API.md``, "Billing system")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from adapters.billing.records import (
    BalanceRecord,
    ClientRecord,
    InvoiceRecord,
    PaymentRecord,
    PriceListItemRecord,
)
from adapters.http import HttpAdapter
from adapters.paging import Page


@dataclass(frozen=True, slots=True)
class _Agreement:
    bank_id: str
    client_id: str


class HttpBilling(HttpAdapter):
    """``BillingPort`` on an ``UpstreamClient`` for the billing system."""

    async def clients_by_ids(self, ids: Sequence[str]) -> Mapping[str, ClientRecord]:
        return await self._by_ids("/clients", ids, ClientRecord)

    async def invoices_by_ids(self, ids: Sequence[str]) -> Mapping[str, InvoiceRecord]:
        return await self._by_ids("/invoices", ids, InvoiceRecord)

    async def invoice_pages(
        self, client_ids: Sequence[str], *, status: str | None, limit: int, after: str | None
    ) -> Mapping[str, Page[InvoiceRecord]]:
        filters = {"status": status, "limit": limit, "after": after}
        return await self._pages("/invoices", "client_ids", client_ids, InvoiceRecord, filters)

    async def payments_by_ids(self, ids: Sequence[str]) -> Mapping[str, PaymentRecord]:
        return await self._by_ids("/payments", ids, PaymentRecord)

    async def payment_pages(
        self, client_ids: Sequence[str], *, limit: int, after: str | None
    ) -> Mapping[str, Page[PaymentRecord]]:
        filters = {"limit": limit, "after": after}
        return await self._pages("/payments", "client_ids", client_ids, PaymentRecord, filters)

    async def balances(self, client_ids: Sequence[str]) -> Mapping[str, BalanceRecord]:
        return await self._by_ids("/balances", client_ids, BalanceRecord, param="client_ids", key="client_id")

    async def price_list(self) -> Sequence[PriceListItemRecord]:
        return await self._list("/price-list", PriceListItemRecord)

    async def agreements(self, bank_id: str) -> frozenset[str]:
        """The client ids that have an agreement with partner bank ``bank_id``."""
        agreements = await self._list("/agreements", _Agreement, {"bank_id": bank_id})
        return frozenset(agreement.client_id for agreement in agreements if agreement.bank_id == bank_id)
