"""Records the billing system returns. Amounts are ``Decimal`` in ``currency`` (EUR)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ClientRecord:
    id: str
    kind: str  # NATURAL_PERSON | LEGAL_PERSON
    name: str
    code: str  # personal code (natural person) or registration number (legal person), unmasked
    vat_number: str | None
    address: str | None
    email: str | None
    phone: str | None
    billing_arrangement: str  # INVOICE | PREPAYMENT | DIRECT_DEBIT


@dataclass(frozen=True, slots=True)
class InvoiceLineRecord:
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal  # percent, e.g. Decimal("21")
    vat_exemption_reason: str | None
    total: Decimal


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
    id: str
    client_id: str
    number: str
    issued_on: date
    due_on: date
    currency: str
    total: Decimal
    outstanding: Decimal
    status: str  # UNPAID | PARTIALLY_PAID | PAID | OVERDUE | CANCELLED
    payment_reference: str  # ISO 11649 RF creditor reference
    lines: tuple[InvoiceLineRecord, ...]
    document_id: str | None
    permit_id: str | None


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: str
    client_id: str
    amount: Decimal
    currency: str
    paid_at: datetime
    method: str  # BANK_TRANSFER | CARD | DIRECT_DEBIT | PREPAYMENT
    reference: str | None


@dataclass(frozen=True, slots=True)
class BalanceRecord:
    client_id: str
    currency: str
    outstanding: Decimal
    overdue: Decimal
    credit: Decimal
    as_of: datetime


@dataclass(frozen=True, slots=True)
class PriceListItemRecord:
    code: str
    description: str
    unit: str
    price: Decimal
    currency: str
    vat_rate: Decimal


@dataclass(frozen=True, slots=True)
class PaymentSessionRecord:
    """A payment of some of a client's invoices at the partner bank, from opening to completion."""

    id: str
    client_id: str
    invoice_ids: tuple[str, ...]
    amount: Decimal  # sum of the invoices' outstanding amounts when the session was opened
    currency: str
    status: str  # OPEN | COMPLETED | CANCELLED | EXPIRED
    redirect_url: str  # the bank's payment page for this session
    return_url: str  # where the bank sends the payer back afterwards
    expires_at: datetime
    created_at: datetime
