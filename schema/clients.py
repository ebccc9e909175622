"""Clients (terms 2.3, 2.9), the viewer's access to them, and their representatives (terms 6)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import strawberry

from adapters.billing.records import ClientRecord
from auth.accounts import RepresentativeRow
from resolvers import applications as resolve_applications
from resolvers import billing as resolve_billing
from resolvers import clients as resolve
from resolvers import documents as resolve_documents
from resolvers import permits as resolve_permits
from resolvers import representatives as resolve_representatives
from resolvers import rows
from resolvers.clients import ClientAccessRow
from resolvers.context import Context
from schema.applications import Application
from schema.base import Connection, Node, to_global_id
from schema.billing import Balance, Invoice, Payment
from schema.documents import Document
from schema.enums import (
    AccessRole,
    BillingArrangement,
    DocumentKind,
    InvoiceStatus,
    PermitStatus,
    PersonKind,
    Scope,
    ServiceType,
)
from schema.permits import Permit
from schema.prefetch import ClientLoad, prefetch_client_fields, selects

Info = strawberry.Info[Context, None]


def _scopes(values: frozenset[str]) -> list[Scope]:
    return sorted((Scope(v) for v in values), key=lambda s: list(Scope).index(s))


def _value(enum_value: object | None) -> str | None:
    return None if enum_value is None else str(getattr(enum_value, "value", enum_value))


@strawberry.type(description="A representative of a client: a portal user acting under a mandate.")
class Representative(Node):
    full_name: str = strawberry.field(description="The representative's name.")
    email: str = strawberry.field(description="The representative's e-mail (user name).")
    scopes: list[Scope] = strawberry.field(description="What the mandate allows.")
    valid_until: date | None = strawberry.field(description="Last day of the mandate; null when open-ended.")
    revoked: bool = strawberry.field(description="True once the mandate was revoked.")

    @classmethod
    def from_row(cls, row: RepresentativeRow) -> Representative:
        return cls(
            id=to_global_id("Representative", row.mandate.id),
            full_name=row.full_name,
            email=row.email,
            scopes=_scopes(row.mandate.scopes),
            valid_until=row.mandate.valid_until,
            revoked=row.mandate.revoked_at is not None,
        )


@strawberry.type(description="A client of the company: a natural or a legal person.")
class Client(Node):
    kind: PersonKind = strawberry.field(description="Natural or legal person.")
    name: str = strawberry.field(description="Name, or company name.")
    vat_number: str | None = strawberry.field(description="VAT payer number.")
    address: str | None = strawberry.field(description="Address.")
    email: str | None = strawberry.field(description="Contact e-mail.")
    phone: str | None = strawberry.field(description="Contact phone.")
    billing_arrangement: BillingArrangement = strawberry.field(description="How the client pays (terms 3).")
    record: strawberry.Private[ClientRecord]

    @strawberry.field(
        description="Registration number of a legal person; a natural person's personal code, masked for "
        "everyone but that person."
    )
    def code(self, info: Info) -> str:
        if resolve.shows_personal_code(info.context, self.record):
            return self.record.code
        return resolve.mask_personal_code(self.record.code) or ""

    @strawberry.field(description="Your effective scopes on this client (terms 7, 8).")
    async def my_scopes(self, info: Info) -> list[Scope]:
        return _scopes(await resolve.my_scopes(info.context, self.record))

    @strawberry.field(description="Settlement status (needs BILLING_READ).")
    async def balance(self, info: Info) -> Balance | None:
        record = await resolve_billing.balance(info.context, self.record.id)
        return Balance.from_record(record) if record else None

    @strawberry.field(description="Invoices, newest first (needs BILLING_READ).")
    async def invoices(
        self,
        info: Info,
        status: InvoiceStatus | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Invoice] | None:
        page = await resolve_billing.invoices(info.context, self.record.id, _value(status), first, after)
        documents = None
        if selects(info, "edges", "node", "document"):
            documents = rows.documents_of_rows(info.context, [r.document_id for r in page.items])
            await documents.sent  # the rows are built while the documents are fetched
        return Connection.from_page(page, lambda r: Invoice.from_record(r, documents), after, documents)

    @strawberry.field(description="Payments received, newest first (needs BILLING_READ).")
    async def payments(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Payment] | None:
        page = await resolve_billing.payments(info.context, self.record.id, first, after)
        return Connection.from_page(page, Payment.from_record, after)

    @strawberry.field(description="Radio permits (needs PERMITS_READ).")
    async def permits(
        self,
        info: Info,
        status: PermitStatus | None = None,
        service_type: ServiceType | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Permit] | None:
        page = await resolve_permits.permits(
            info.context, self.record.id, _value(status), _value(service_type), first, after
        )
        stations = None
        if selects(info, "edges", "node", "stations"):
            stations = rows.stations_of_rows(info.context, [r.id for r in page.items])
            await stations.sent  # the rows are built while the stations are fetched
        return Connection.from_page(page, lambda r: Permit.from_record(r, stations), after, stations)

    @strawberry.field(description="Applications submitted, newest first (needs APPLICATIONS_SUBMIT).")
    async def applications(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Application] | None:
        page = await resolve_applications.applications(info.context, self.record.id, first, after)
        return Connection.from_page(page, Application.from_record, after)

    @strawberry.field(description="Documents, newest first (needs DOCUMENTS_READ).")
    async def documents(
        self, info: Info, kind: DocumentKind | None = None, first: int | None = 20, after: str | None = None
    ) -> Connection[Document] | None:
        page = await resolve_documents.documents(info.context, self.record.id, _value(kind), first, after)
        return Connection.from_page(page, Document.from_record, after)

    @strawberry.field(description="Representatives and their mandates (needs REPRESENTATIVES_MANAGE).")
    async def representatives(self, info: Info) -> list[Representative] | None:
        rows = await resolve_representatives.representatives(info.context, self.record.id)
        return [Representative.from_row(r) for r in rows]

    @classmethod
    def from_record(cls, r: ClientRecord) -> Client:
        return cls(
            id=to_global_id("Client", r.id),
            kind=PersonKind(r.kind),
            name=r.name,
            vat_number=r.vat_number,
            address=r.address,
            email=r.email,
            phone=r.phone,
            billing_arrangement=BillingArrangement(r.billing_arrangement),
            record=r,
        )


# The resolver calls of Client's fields that fetch from the company systems, for ``prefetch_client_fields``:
# the same calls as the fields above make, keyed by GraphQL field name, with the field's arguments.
CLIENT_LOADS: dict[str, ClientLoad] = {
    "balance": lambda ctx, cid, a: resolve_billing.balance(ctx, cid),
    "invoices": lambda ctx, cid, a: resolve_billing.invoices(
        ctx, cid, _value(a["status"]), a["first"], a["after"]
    ),
    "payments": lambda ctx, cid, a: resolve_billing.payments(ctx, cid, a["first"], a["after"]),
    "permits": lambda ctx, cid, a: resolve_permits.permits(
        ctx, cid, _value(a["status"]), _value(a["serviceType"]), a["first"], a["after"]
    ),
    "applications": lambda ctx, cid, a: resolve_applications.applications(ctx, cid, a["first"], a["after"]),
    "documents": lambda ctx, cid, a: resolve_documents.documents(
        ctx, cid, _value(a["kind"]), a["first"], a["after"]
    ),
}


def prefetch_clients(info: Info, client_ids: Iterable[str], path: Sequence[str] = ()) -> None:
    """Start what the selected client fields will load, while the clients' records are fetched."""
    prefetch_client_fields(info, client_ids, CLIENT_LOADS, path)


@strawberry.type(description="A client the viewer may act for, how, and with which scopes.")
class ClientAccess:
    client: Client = strawberry.field(description="The client.")
    role: AccessRole = strawberry.field(description="SELF, or REPRESENTATIVE through a mandate.")
    scopes: list[Scope] = strawberry.field(description="Effective scopes on this client.")
    valid_until: date | None = strawberry.field(description="Last day of the mandate; null when open-ended.")

    @classmethod
    def from_row(cls, row: ClientAccessRow) -> ClientAccess:
        return cls(
            client=Client.from_record(row.client),
            role=AccessRole(row.access.role),
            scopes=_scopes(row.scopes),
            valid_until=row.access.valid_until,
        )
