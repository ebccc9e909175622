"""The sandbox billing system: clients, invoices, payments, balances, the price list and bank agreements."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.billing.records import (
    BalanceRecord,
    ClientRecord,
    InvoiceLineRecord,
    InvoiceRecord,
    PaymentRecord,
    PriceListItemRecord,
)
from sandbox.billing_writes import document_writes, write_routes
from sandbox.common import (
    PAGING_PARAMS_NAMES,
    Faults,
    InvalidRequest,
    NotFound,
    Ordering,
    build_system_app,
    check_params,
    enum_param,
    grouped_pages,
    id_list,
    limit_param,
    one_mode,
    to_json,
)
from sandbox.data import Dataset
from sandbox.openapi import PAGING_PARAMS, OpenApi, ids_param, items_of, pages_of, path_id, query_param, ref

INVOICE_STATUSES = ("UNPAID", "PARTIALLY_PAID", "PAID", "OVERDUE", "CANCELLED")
INVOICE_ORDER = Ordering(key=lambda i: i.issued_on.isoformat(), record_id=lambda i: i.id, descending=True)
PAYMENT_ORDER = Ordering(key=lambda p: p.paid_at.isoformat(), record_id=lambda p: p.id, descending=True)


def create_app(dataset: Dataset, faults: Faults | None = None) -> Starlette:
    """The billing system's Starlette app over ``dataset``."""
    ds = dataset

    async def clients(request: Request) -> Response:
        if one_mode(request, {"ids": (), "code": ()}) == "code":
            return JSONResponse(items_found(ds.client_by_code(request.query_params["code"])))
        ids = id_list(request, "ids") or []
        return JSONResponse({"items": [to_json(ds.clients[i]) for i in ids if i in ds.clients]})

    async def client(request: Request) -> Response:
        check_params(request, ())
        found = ds.clients.get(request.path_params["id"])
        if found is None:
            raise NotFound(f"no client {request.path_params['id']}")
        return JSONResponse(to_json(found))

    async def invoices(request: Request) -> Response:
        modes = {"ids": (), "payment_reference": (), "client_ids": ("status", *PAGING_PARAMS_NAMES)}
        mode = one_mode(request, modes)
        if mode == "payment_reference":
            return JSONResponse(items_found(ds.invoice_by_reference(request.query_params[mode])))
        if mode == "ids":
            ids = id_list(request, "ids") or []
            return JSONResponse({"items": [to_json(ds.invoices[i]) for i in ids if i in ds.invoices]})
        status = enum_param(request, "status", INVOICE_STATUSES)
        body = grouped_pages(
            id_list(request, "client_ids") or [],
            ds.invoices_of,
            INVOICE_ORDER,
            limit=limit_param(request),
            after=request.query_params.get("after"),
            keep=lambda i: status is None or i.status == status,
        )
        return JSONResponse(body)

    async def invoice(request: Request) -> Response:
        check_params(request, ())
        found = ds.invoices.get(request.path_params["id"])
        if found is None:
            raise NotFound(f"no invoice {request.path_params['id']}")
        return JSONResponse(to_json(found))

    async def payments(request: Request) -> Response:
        mode = one_mode(request, {"ids": (), "client_ids": PAGING_PARAMS_NAMES})
        if mode == "ids":
            ids = id_list(request, "ids") or []
            return JSONResponse({"items": [to_json(ds.payments[i]) for i in ids if i in ds.payments]})
        body = grouped_pages(
            id_list(request, "client_ids") or [],
            ds.payments_of,
            PAYMENT_ORDER,
            limit=limit_param(request),
            after=request.query_params.get("after"),
        )
        return JSONResponse(body)

    async def balances(request: Request) -> Response:
        check_params(request, {"client_ids"})
        ids = id_list(request, "client_ids")
        if ids is None:
            raise InvalidRequest("client_ids is required")
        found = [ds.balance(i) for i in ids]
        return JSONResponse({"items": [to_json(b) for b in found if b is not None]})

    async def price_list(request: Request) -> Response:
        check_params(request, ())
        return JSONResponse({"items": to_json(ds.price_list)})

    async def agreements(request: Request) -> Response:
        check_params(request, {"bank_id"})
        pairs = ds.agreements_of(request.query_params.get("bank_id"))
        return JSONResponse({"items": [{"bank_id": bank, "client_id": client} for bank, client in pairs]})

    routes: list[BaseRoute] = [
        Route("/clients", clients, methods=["GET"]),
        Route("/clients/{id}", client, methods=["GET"]),
        Route("/invoices", invoices, methods=["GET"]),
        Route("/invoices/{id}", invoice, methods=["GET"]),
        Route("/payments", payments, methods=["GET"]),
        Route("/balances", balances, methods=["GET"]),
        Route("/price-list", price_list, methods=["GET"]),
        Route("/agreements", agreements, methods=["GET"]),
        *write_routes(ds),
    ]
    return build_system_app(routes, faults=faults or Faults(), openapi=openapi_document())


def items_found(record: object | None) -> dict[str, Any]:
    """``{"items": [record]}``, or no items for ``None`` (the answer of a lookup by a unique key)."""
    return {"items": [] if record is None else [to_json(record)]}


def openapi_document() -> dict[str, Any]:
    """The billing system's OpenAPI 3.1 document."""
    api = OpenApi("Billing system (sandbox)", "Client master data, invoices, payments, balances, price list.")
    api.record(
        ClientRecord,
        enums={
            "kind": ("NATURAL_PERSON", "LEGAL_PERSON"),
            "billing_arrangement": ("INVOICE", "PREPAYMENT", "DIRECT_DEBIT"),
        },
    )
    api.record(InvoiceLineRecord)
    api.record(InvoiceRecord, enums={"status": INVOICE_STATUSES, "currency": ("EUR",)})
    api.record(PaymentRecord, enums={"method": ("BANK_TRANSFER", "CARD", "DIRECT_DEBIT", "PREPAYMENT")})
    api.record(BalanceRecord)
    api.record(PriceListItemRecord)
    api.schemas["Agreement"] = {
        "type": "object",
        "required": ["bank_id", "client_id"],
        "properties": {"bank_id": {"type": "string"}, "client_id": {"type": "string"}},
    }
    status = query_param(
        "status", {"type": "string", "enum": list(INVOICE_STATUSES)}, "Only invoices in this status."
    )
    either = "Give either `ids` (batch read) or `client_ids` (grouped pages)."
    api.operation(
        "GET",
        "/clients",
        summary="Clients by id (unknown ids are absent), or the client with a personal code or "
        "registration number (0 or 1 items). Give either `ids` or `code`.",
        params=[
            ids_param("ids", "Client ids."),
            query_param("code", {"type": "string"}, "Personal code (hyphen optional) or registration no."),
        ],
        ok=items_of("Client"),
    )
    api.operation(
        "GET",
        "/clients/{id}",
        summary="One client.",
        params=[path_id("Client id.")],
        ok=ref("Client"),
        errors=(404, 422, 503),
    )
    api.operation(
        "GET",
        "/invoices",
        summary="Invoices by id; the invoice with an RF payment reference (0 or 1 items); or newest first "
        "(issued_on desc, id) per client. Give exactly one of `ids`, `payment_reference`, `client_ids`.",
        params=[
            ids_param("ids", "Invoice ids."),
            query_param("payment_reference", {"type": "string"}, "RF creditor reference (ISO 11649)."),
            ids_param("client_ids", "Client ids (one group each)."),
            status,
            *PAGING_PARAMS,
        ],
        ok={"oneOf": [items_of("Invoice"), pages_of("Invoice")]},
    )
    api.operation(
        "GET",
        "/invoices/{id}",
        summary="One invoice.",
        params=[path_id("Invoice id.")],
        ok=ref("Invoice"),
        errors=(404, 422, 503),
    )
    api.operation(
        "GET",
        "/payments",
        summary=f"Payments by id, or newest first (paid_at desc, id) per client. {either}",
        params=[
            ids_param("ids", "Payment ids."),
            ids_param("client_ids", "Client ids (one group each)."),
            *PAGING_PARAMS,
        ],
        ok={"oneOf": [items_of("Payment"), pages_of("Payment")]},
    )
    api.operation(
        "GET",
        "/balances",
        summary="Balances, one per known client.",
        params=[ids_param("client_ids", "Client ids.", required=True)],
        ok=items_of("Balance"),
    )
    api.operation("GET", "/price-list", summary="The price list.", ok=items_of("PriceListItem"))
    api.operation(
        "GET",
        "/agreements",
        summary="Partner-bank agreements.",
        params=[query_param("bank_id", {"type": "string"}, "Only this bank's agreements.")],
        ok=items_of("Agreement"),
    )
    document_writes(api)
    return api.document()
