"""The root mutation: the write side, the viewer's own account, representatives, staff operations."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from resolvers import applications as resolve_applications
from resolvers import contacts as resolve_contacts
from resolvers import identity as resolve_identity
from resolvers import payments as resolve_payments
from resolvers import reports as resolve_reports
from resolvers import representatives as resolve_representatives
from resolvers import staff as resolve_staff
from resolvers.context import Context
from schema.applications import Application
from schema.base import raw_id
from schema.clients import Client, Representative
from schema.documents import Document
from schema.enums import AccountStateReason, ReportKind, Scope
from schema.viewer import PortalUser, Viewer
from schema.writes import ApplicationInput, ContactInfoInput, PaymentSession

Info = strawberry.Info[Context, None]


@strawberry.input(description="A mandate given at registration.")
class MandateInput:
    client_id: strawberry.ID = strawberry.field(description="The client (global id) the user will act for.")
    scopes: list[Scope] = strawberry.field(description="What the user may do for it.")
    valid_until: date | None = strawberry.field(default=None, description="Last day; none for no end.")


@strawberry.input(
    description="A portal user to register after the company checked the application (terms 10)."
)
class RegisterPortalUserInput:
    email: str = strawberry.field(description="E-mail; also the user name.")
    full_name: str = strawberry.field(description="Given name and surname.")
    phone: str | None = strawberry.field(default=None, description="Contact phone.")
    personal_code: str | None = strawberry.field(
        default=None, description="Personal code; lets the person use the unified login."
    )
    self_client_id: strawberry.ID | None = strawberry.field(
        default=None, description="The client (global id) that is this person, when the person is a client."
    )
    mandates: list[MandateInput] = strawberry.field(
        default_factory=list, description="Clients the person will represent."
    )


def _values(scopes: list[Scope]) -> list[str]:
    return [s.value for s in scopes]


@strawberry.type(
    description="Changes: applications, payments, reports, contact data, accounts, representatives."
)
class Mutation:
    @strawberry.mutation(
        description="Submit an application for a client (APPLICATIONS_SUBMIT). `confirm: true` is required: "
        "it binds the client as if signed by hand (terms 20, 31). The same `idempotencyKey` returns the same "
        "application. The receipt is signed at once; its PDF arrives in the document store shortly after."
    )
    async def submit_application(
        self,
        info: Info,
        client_id: strawberry.ID,
        input: ApplicationInput,
        confirm: bool,
        idempotency_key: str,
    ) -> Application:
        record = await resolve_applications.submit(
            info.context,
            raw_id(client_id, "Client"),
            kind=input.kind.value,
            subject=input.subject,
            body=input.body,
            permit_id=raw_id(input.permit_id, "Permit") if input.permit_id else None,
            confirm=confirm,
            idempotency_key=idempotency_key,
        )
        return Application.from_record(record)

    @strawberry.mutation(
        description="Pay invoices of a client at the partner bank (PAYMENTS_MAKE; terms 2.11). The same "
        "`idempotencyKey` returns the same session."
    )
    async def initiate_payment(
        self, info: Info, client_id: strawberry.ID, invoice_ids: list[strawberry.ID], idempotency_key: str
    ) -> PaymentSession:
        record = await resolve_payments.initiate(
            info.context,
            raw_id(client_id, "Client"),
            [raw_id(i, "Invoice") for i in invoice_ids],
            idempotency_key,
        )
        return PaymentSession.from_record(record)

    @strawberry.mutation(
        description="Generate a PDF report for a period (REPORTS_GENERATE): a STATEMENT, or for legal "
        "persons a RECONCILIATION statement. It is stored with the client's documents."
    )
    async def generate_report(
        self,
        info: Info,
        client_id: strawberry.ID,
        kind: ReportKind,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
    ) -> Document:
        record = await resolve_reports.generate(
            info.context, raw_id(client_id, "Client"), kind.value, from_, to
        )
        return Document.from_record(record)

    @strawberry.mutation(description="Change a client's contact data (CONTACTS_UPDATE; terms 15.7).")
    async def update_contact_info(
        self, info: Info, client_id: strawberry.ID, input: ContactInfoInput
    ) -> Client:
        record = await resolve_contacts.update(
            info.context, raw_id(client_id, "Client"), input.email, input.phone, input.address
        )
        return Client.from_record(record)

    @strawberry.mutation(description="Report a defect or an inaccuracy of the portal (terms 16.3).")
    async def report_portal_issue(self, info: Info, message: str, page: str | None = None) -> bool:
        return await resolve_contacts.report_issue(info.context, message, page)

    @strawberry.mutation(
        description="Accept the terms of use in force (terms 4, 30); give its version number."
    )
    async def accept_terms(self, info: Info, version: int) -> Viewer:
        return Viewer(account=await resolve_identity.accept_terms(info.context, version))

    @strawberry.mutation(
        description="Change your password (terms 15.3); your other sessions end. Works when it has expired."
    )
    async def change_password(self, info: Info, current_password: str, new_password: str) -> Viewer:
        account = await resolve_identity.change_password(info.context, current_password, new_password)
        return Viewer(account=account)

    @strawberry.mutation(
        description="Give a portal user a mandate for a client (REPRESENTATIVES_MANAGE; scopes you hold)."
    )
    async def grant_representative(
        self,
        info: Info,
        client_id: strawberry.ID,
        email: str,
        scopes: list[Scope],
        valid_until: date | None = None,
    ) -> Representative:
        row = await resolve_representatives.grant(
            info.context, raw_id(client_id, "Client"), email, _values(scopes), valid_until
        )
        return Representative.from_row(row)

    @strawberry.mutation(
        description="End a representative's mandate at once (terms 6; needs REPRESENTATIVES_MANAGE)."
    )
    async def revoke_representative(
        self, info: Info, client_id: strawberry.ID, representative_id: strawberry.ID
    ) -> bool:
        return await resolve_representatives.revoke(
            info.context, raw_id(client_id, "Client"), raw_id(representative_id, "Representative")
        )

    @strawberry.mutation(
        description="Staff: register a portal user; a mail lets the person set a first password."
    )
    async def register_portal_user(self, info: Info, input: RegisterPortalUserInput) -> PortalUser:
        account = await resolve_staff.register(
            info.context,
            email=input.email,
            full_name=input.full_name,
            phone=input.phone,
            personal_code=input.personal_code,
            self_client_id=raw_id(input.self_client_id, "Client") if input.self_client_id else None,
            mandates=[
                (raw_id(m.client_id, "Client"), _values(m.scopes), m.valid_until) for m in input.mandates
            ],
        )
        return PortalUser.from_account(account)

    @strawberry.mutation(description="Staff: block an account (terms 5, 12.2); its sessions end at once.")
    async def block_user(self, info: Info, email: str, reason: AccountStateReason) -> PortalUser:
        return PortalUser.from_account(
            await resolve_staff.set_state(info.context, email, "BLOCKED", reason.value)
        )

    @strawberry.mutation(description="Staff: let a blocked account log in again.")
    async def unblock_user(self, info: Info, email: str) -> PortalUser:
        return PortalUser.from_account(await resolve_staff.set_state(info.context, email, "ACTIVE", None))

    @strawberry.mutation(
        description="Staff: end an account for good (terms 5, 21); its sessions end at once."
    )
    async def terminate_user(self, info: Info, email: str, reason: AccountStateReason) -> PortalUser:
        account = await resolve_staff.set_state(info.context, email, "TERMINATED", reason.value)
        return PortalUser.from_account(account)

    @strawberry.mutation(
        description="Staff: make the user change the password at the next login (terms 15.4)."
    )
    async def require_password_change(self, info: Info, email: str) -> PortalUser:
        return PortalUser.from_account(await resolve_staff.require_password_change(info.context, email))
