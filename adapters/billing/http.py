"""The billing system over HTTP (``sandbox/UPSTREAM_API.md``, "Billing system")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from adapters.billing.records import (
    BalanceRecord,
    ClientRecord,
    InvoiceRecord,
    PaymentRecord,
    PaymentSessionRecord,
    PriceListItemRecord,
)
from adapters.http import HttpAdapter, path_of
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

    async def client_by_code(self, code: str) -> ClientRecord | None:
        return await self._lookup("/clients", ClientRecord, {"code": code})

    async def invoice_by_reference(self, reference: str) -> InvoiceRecord | None:
        return await self._lookup("/invoices", InvoiceRecord, {"payment_reference": reference})

    async def payment_session(self, session_id: str) -> PaymentSessionRecord:
        return await self._one(path_of("/payment-sessions/{}", session_id), PaymentSessionRecord)

    async def update_contact(
        self,
        client_id: str,
        *,
        email: str | None,
        phone: str | None,
        address: str | None,
        idempotency_key: str,
    ) -> ClientRecord:
        fields = {"email": email, "phone": phone, "address": address}
        body = {name: value for name, value in fields.items() if value is not None}
        path = path_of("/clients/{}", client_id)
        return await self._write("PATCH", path, body, ClientRecord, idempotency_key=idempotency_key)

    async def create_payment_session(
        self, client_id: str, invoice_ids: Sequence[str], *, return_url: str, idempotency_key: str
    ) -> PaymentSessionRecord:
        body = {"client_id": client_id, "invoice_ids": list(invoice_ids), "return_url": return_url}
        return await self._write(
            "POST", "/payment-sessions", body, PaymentSessionRecord, idempotency_key=idempotency_key
        )
