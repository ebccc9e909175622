"""What partner banks see: a client's settlement status, without personal data."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from adapters.billing.records import InvoiceRecord
from resolvers.bank import Settlement
from schema.base import Money, money
from schema.enums import SettlementState


@strawberry.type(description="An invoice still to be paid, as a bank needs it to pay it.")
class OpenInvoice:
    number: str = strawberry.field(description="Invoice number.")
    due_on: date = strawberry.field(description="Payment due date.")
    outstanding: Money = strawberry.field(description="What is still to pay.")
    payment_reference: str = strawberry.field(description="ISO 11649 RF creditor reference to pay with.")

    @classmethod
    def from_record(cls, r: InvoiceRecord) -> OpenInvoice:
        return cls(
            number=r.number,
            due_on=r.due_on,
            outstanding=money(r.outstanding, r.currency),
            payment_reference=r.payment_reference,
        )


@strawberry.type(description="Whether a client has settled with the company, for its partner bank.")
class SettlementStatus:
    state: SettlementState = strawberry.field(description="SETTLED, OUTSTANDING or OVERDUE.")
    outstanding: Money = strawberry.field(description="Sum still to pay on open invoices.")
    overdue: Money = strawberry.field(description="Part of it past the due date.")
    last_payment_at: datetime | None = strawberry.field(description="When the last payment arrived.")
    open_invoices: list[OpenInvoice] = strawberry.field(description="Open invoices, earliest due first.")

    @classmethod
    def from_settlement(cls, s: Settlement) -> SettlementStatus:
        return cls(
            state=SettlementState(s.state),
            outstanding=money(s.outstanding, s.currency),
            overdue=money(s.overdue, s.currency),
            last_payment_at=s.last_payment_at,
            open_invoices=[OpenInvoice.from_record(i) for i in s.open_invoices],
        )
