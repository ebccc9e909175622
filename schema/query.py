"""The root query."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from gateway.errors import NotFound
from resolvers import applications as resolve_applications
from resolvers import bank as resolve_bank
from resolvers import billing as resolve_billing
from resolvers import clients as resolve_clients
from resolvers import documents as resolve_documents
from resolvers import permits as resolve_permits
from resolvers import representatives as resolve_representatives
from resolvers import staff as resolve_staff
from resolvers import viewer as resolve_viewer
from resolvers.context import Context
from schema.applications import Application
from schema.audit import AuditQuery
from schema.bank import SettlementStatus
from schema.base import Node, from_global_id, raw_id
from schema.billing import Invoice, Payment, PriceListItem
from schema.clients import Client, Representative, prefetch_clients
from schema.documents import Document
from schema.permits import Permit, Station
from schema.viewer import PortalUser, TermsOfUse, Viewer

Info = strawberry.Info[Context, None]


async def _portal_user(ctx: Context, user_id: str) -> Any:
    account = resolve_viewer.viewer_account(ctx)
    return account if account is not None and account.id == user_id else None


async def _client(ctx: Context, client_id: str) -> Any:
    return await resolve_clients.client(ctx, client_id)


# Every node type, with the resolver that authorises it and the conversion to its GraphQL type.
_NODES: dict[str, tuple[Callable[[Context, str], Awaitable[Any]], Callable[[Any], Node]]] = {
    "Client": (_client, Client.from_record),
    "Permit": (resolve_permits.permit, Permit.from_record),
    "Station": (resolve_permits.station, Station.from_record),
    "Invoice": (resolve_billing.invoice, Invoice.from_record),
    "Payment": (resolve_billing.payment, Payment.from_record),
    "Document": (resolve_documents.document, Document.from_record),
    "Application": (resolve_applications.application, Application.from_record),
    "Representative": (resolve_representatives.representative, Representative.from_row),
    "PortalUser": (_portal_user, PortalUser.from_account),
}


@strawberry.type(
    description="The entry points: you, your clients, any object by id, and public reference data."
)
class Query(AuditQuery):
    @strawberry.field(description="You, when logged in; null otherwise.")
    def viewer(self, info: Info) -> Viewer | None:
        account = resolve_viewer.viewer_account(info.context)
        return Viewer(account=account) if account is not None else None

    @strawberry.field(description="A client you may act for; null and NOT_FOUND for any other.")
    async def client(self, info: Info, id: strawberry.ID) -> Client | None:
        client_id = raw_id(id, "Client")
        prefetch_clients(info, [client_id])
        return Client.from_record(await resolve_clients.client(info.context, client_id))

    @strawberry.field(description="Any object by its global id, under the same rules as everywhere else.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, raw = from_global_id(id)
        entry = _NODES.get(type_name)
        if entry is None:
            raise NotFound("No such object within your reach.")
        info.context.principal.require_fresh_password()
        load, convert = entry
        record = await load(info.context, raw)
        if record is None:
            raise NotFound("No such object within your reach.")
        return convert(record)

    @strawberry.field(description="Staff: a portal user by e-mail, with the account's state.")
    async def portal_user(self, info: Info, email: str) -> PortalUser | None:
        account = await resolve_staff.portal_user(info.context, email)
        return PortalUser.from_account(account)

    @strawberry.field(description="The state price list for radio-frequency services (public).")
    async def price_list(self, info: Info) -> list[PriceListItem]:
        return [PriceListItem.from_record(r) for r in await resolve_billing.price_list(info.context)]

    @strawberry.field(
        description="Partner banks only: the settlement status of a client that has an agreement with your "
        "bank, by an invoice's RF payment reference or by the client's code. Anything else is NOT_FOUND."
    )
    async def settlement_status(
        self, info: Info, payment_reference: str | None = None, client_code: str | None = None
    ) -> SettlementStatus | None:
        settlement = await resolve_bank.settlement_status(info.context, payment_reference, client_code)
        return SettlementStatus.from_settlement(settlement)

    @strawberry.field(description="The terms of use: current version and history (public).")
    def terms_of_use(self) -> TermsOfUse:
        return TermsOfUse.current()
