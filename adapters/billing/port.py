"""The billing system as the gateway sees it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from adapters.billing.records import (
    BalanceRecord,
    ClientRecord,
    InvoiceRecord,
    PaymentRecord,
    PaymentSessionRecord,
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

    async def agreements(self, bank_id: str) -> frozenset[str]:
        """The client ids that have an agreement with partner bank ``bank_id``."""
        ...

    async def client_by_code(self, code: str) -> ClientRecord | None:
        """The client with that personal code or registration number, ``None`` if there is none."""
        ...

    async def invoice_by_reference(self, reference: str) -> InvoiceRecord | None:
        """The invoice with that RF payment reference, ``None`` if there is none."""
        ...

    async def payment_session(self, session_id: str) -> PaymentSessionRecord:
        """One payment session (an OPEN one past expiry reads EXPIRED); ``UpstreamNotFound`` if unknown."""
        ...

    # Writes are sent once and never retried here; a caller that retries (e.g. after UpstreamUnavailable)
    # must reuse the same ``idempotency_key`` so the system makes the change at most once.

    async def update_contact(
        self,
        client_id: str,
        *,
        email: str | None,
        phone: str | None,
        address: str | None,
        idempotency_key: str,
    ) -> ClientRecord:
        """Change the non-``None`` contact details; ``UpstreamRejected`` with the reason if invalid."""
        ...

    async def create_payment_session(
        self, client_id: str, invoice_ids: Sequence[str], *, return_url: str, idempotency_key: str
    ) -> PaymentSessionRecord:
        """Open a session paying those invoices in full at the partner bank (``redirect_url`` is its page)."""
        ...

    async def ping(self) -> None:
        """Raise ``UpstreamUnavailable`` unless the system answers its health check."""
        ...
