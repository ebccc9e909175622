"""Inputs and results of the portal's write side (terms 2.10, 2.11, 15.7, 20, 31)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from adapters.billing.records import PaymentSessionRecord
from schema.base import Money, money
from schema.enums import ApplicationKind


@strawberry.input(description="An application or request to the company.")
class ApplicationInput:
    kind: ApplicationKind = strawberry.field(description="What is applied for.")
    subject: str = strawberry.field(description="Subject line, 1 to 200 characters.")
    body: str = strawberry.field(description="The text, 1 to 20,000 characters.")
    permit_id: strawberry.ID | None = strawberry.field(
        default=None, description="The permit it concerns (global id), if any."
    )


@strawberry.input(description="New contact data of a client (terms 15.7); give only what changes.")
class ContactInfoInput:
    email: str | None = strawberry.field(default=None, description="E-mail address.")
    phone: str | None = strawberry.field(default=None, description="Phone in international form, +371...")
    address: str | None = strawberry.field(default=None, description="Postal address, up to 200 characters.")


@strawberry.type(description="A payment opened at the partner bank: send the payer to `redirectUrl`.")
class PaymentSession:
    id: strawberry.ID = strawberry.field(description="The session's id at the billing system.")
    redirect_url: str = strawberry.field(description="The bank's payment page for this session.")
    amount: Money = strawberry.field(description="What will be paid.")
    expires_at: datetime = strawberry.field(description="The session must be paid before this.")

    @classmethod
    def from_record(cls, r: PaymentSessionRecord) -> PaymentSession:
        return cls(
            id=strawberry.ID(r.id),
            redirect_url=r.redirect_url,
            amount=money(r.amount, r.currency),
            expires_at=r.expires_at,
        )
