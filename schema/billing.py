"""Invoices, payments, balance and the price list (terms 2.10, 2.11, 17)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from decimal import Decimal

import strawberry

from adapters.billing.records import (
    BalanceRecord,
    InvoiceLineRecord,
    InvoiceRecord,
    PaymentRecord,
    PriceListItemRecord,
)
from adapters.documents.records import DocumentRecord
from resolvers.context import Context
from resolvers.rows import Outcome, Rows
from schema.base import Money, Node, money, to_global_id
from schema.documents import Document, linked_document
from schema.enums import InvoiceStatus
from schema.execution import NOT_AHEAD, resolved_ahead
from schema.permits import Permit, linked_permit

Info = strawberry.Info[Context, None]


@strawberry.type(description="One line of an invoice.")
class InvoiceLine:
    description: str = strawberry.field(description="What is charged.")
    quantity: Decimal = strawberry.field(description="How many units.")
    unit_price: Money = strawberry.field(description="Price of one unit, without VAT.")
    vat_rate: Decimal = strawberry.field(description="VAT rate in percent.")
    vat_exemption_reason: str | None = strawberry.field(description="Legal ground when no VAT is charged.")
    total: Money = strawberry.field(description="Line total with VAT.")

    @classmethod
    def from_record(cls, r: InvoiceLineRecord, currency: str) -> InvoiceLine:
        return cls(
            description=r.description,
            quantity=r.quantity,
            unit_price=money(r.unit_price, currency),
            vat_rate=r.vat_rate,
            vat_exemption_reason=r.vat_exemption_reason,
            total=money(r.total, currency),
        )


@strawberry.type(description="An invoice of the billing system.")
class Invoice(Node):
    number: str = strawberry.field(description="Invoice number.")
    issued_on: date = strawberry.field(description="Date of issue.")
    due_on: date = strawberry.field(description="Payment due date.")
    total: Money = strawberry.field(description="Invoice total with VAT.")
    outstanding: Money = strawberry.field(description="What is still to pay.")
    status: InvoiceStatus = strawberry.field(description="Settlement state.")
    payment_reference: str = strawberry.field(description="ISO 11649 RF creditor reference to pay with.")
    record: strawberry.Private[InvoiceRecord]
    # Fetched with the other rows of its page (resolvers.rows), when the page's resolver did so.
    page_documents: strawberry.Private[Rows[DocumentRecord | None]] = None

    @strawberry.field(description="The invoice lines.")
    def lines(self) -> list[InvoiceLine]:
        # Built when asked for: most listings never show the lines.
        return [InvoiceLine.from_record(line, self.record.currency) for line in self.record.lines]

    def _document_outcome(self) -> Outcome[DocumentRecord | None] | None:
        """The document's outcome, when the page's resolver has fetched it."""
        rows, document_id = self.page_documents, self.record.document_id
        return rows.get(document_id) if rows is not None and document_id else None

    def _document_ahead(self) -> Document | None:
        """The document, when the page's resolver has fetched it without error (else ``NOT_AHEAD``)."""
        outcome = self._document_outcome()
        if outcome is None or outcome.error is not None:
            return NOT_AHEAD  # type: ignore[no-any-return]
        return Document.from_record(outcome.value) if outcome.value else None

    @strawberry.field(
        description="The invoice as a document (needs DOCUMENTS_READ).", graphql_type=Document | None
    )
    @resolved_ahead(_document_ahead)
    def document(self, info: Info) -> Document | Awaitable[Document | None] | None:
        outcome = self._document_outcome()
        if outcome is None:
            return self._document(info)
        record = outcome.get()
        return Document.from_record(record) if record else None

    async def _document(self, info: Info) -> Document | None:
        if self.page_documents is not None:
            await self.page_documents  # graphql-core's path may ask before the page's load is in
        outcome = self._document_outcome()
        if outcome is None:
            return await linked_document(info, self.record.document_id)
        record = outcome.get()
        return Document.from_record(record) if record else None

    @strawberry.field(description="The permit the invoice charges for (needs PERMITS_READ).")
    async def permit(self, info: Info) -> Permit | None:
        return await linked_permit(info, self.record.permit_id)

    @classmethod
    def from_record(cls, r: InvoiceRecord, documents: Rows[DocumentRecord | None] = None) -> Invoice:
        return cls(
            id=to_global_id("Invoice", r.id),
            number=r.number,
            issued_on=r.issued_on,
            due_on=r.due_on,
            total=money(r.total, r.currency),
            outstanding=money(r.outstanding, r.currency),
            status=InvoiceStatus(r.status),
            payment_reference=r.payment_reference,
            record=r,
            page_documents=documents,
        )


@strawberry.type(description="A payment received.")
class Payment(Node):
    amount: Money = strawberry.field(description="Amount received.")
    paid_at: datetime = strawberry.field(description="When it was received.")
    method: str = strawberry.field(description="BANK_TRANSFER, CARD, DIRECT_DEBIT or PREPAYMENT.")
    reference: str | None = strawberry.field(description="The payment reference it came with.")

    @classmethod
    def from_record(cls, r: PaymentRecord) -> Payment:
        return cls(
            id=to_global_id("Payment", r.id),
            amount=money(r.amount, r.currency),
            paid_at=r.paid_at,
            method=r.method,
            reference=r.reference,
        )


@strawberry.type(description="Settlement status of a client (terms 2.10).")
class Balance:
    outstanding: Money = strawberry.field(description="Sum still to pay on open invoices.")
    overdue: Money = strawberry.field(description="Part of it past the due date.")
    credit: Money = strawberry.field(description="Prepaid credit.")
    as_of: datetime = strawberry.field(description="When the billing system computed it.")

    @classmethod
    def from_record(cls, r: BalanceRecord) -> Balance:
        return cls(
            outstanding=money(r.outstanding, r.currency),
            overdue=money(r.overdue, r.currency),
            credit=money(r.credit, r.currency),
            as_of=r.as_of,
        )


@strawberry.type(description="An item of the state price list for radio-frequency services (terms 2.11).")
class PriceListItem:
    code: str = strawberry.field(description="Price list code.")
    description: str = strawberry.field(description="What the fee is for.")
    unit: str = strawberry.field(description="The unit the price is for.")
    price: Money = strawberry.field(description="Price per unit without VAT.")
    vat_rate: Decimal = strawberry.field(description="VAT rate in percent.")

    @classmethod
    def from_record(cls, r: PriceListItemRecord) -> PriceListItem:
        return cls(
            code=r.code,
            description=r.description,
            unit=r.unit,
            price=money(r.price, r.currency),
            vat_rate=r.vat_rate,
        )
