"""The billing system's writes: contact changes and payment sessions at the partner bank.

A payment session's ``redirect_url`` is the sandbox bank's payment page, ``/bank/pay/<id>`` next to where
billing is mounted: billing at ``/sandbox/billing`` gives ``<scheme>://<host>/sandbox/bank/pay/<id>``.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.billing.records import PaymentSessionRecord
from sandbox.bodies import E164, EMAIL, HTTP_URL, no_body, read_body
from sandbox.common import InvalidRequest, check_params, to_json
from sandbox.data import Dataset
from sandbox.idempotency import write_route
from sandbox.openapi import OpenApi, body_of, path_id, ref, text

SESSION_STATUSES = ("OPEN", "COMPLETED", "CANCELLED", "EXPIRED")
# Per contact field: maximum length, pattern and what the pattern means (for the 422 detail).
CONTACT_CHECKS: dict[str, tuple[int, re.Pattern[str] | None, str]] = {
    "email": (254, EMAIL, "an e-mail address"),
    "phone": (16, E164, "an E.164 number (+ and 8-15 digits)"),
    "address": (200, None, "an address"),
}
CONTACT_FIELDS = tuple(CONTACT_CHECKS)
BANK_PAGE = "/bank/pay/"


def pay_page(request: Request) -> str:
    """The bank's payment page prefix: the billing mount point's parent + ``/bank/pay/``."""
    root = str(request.scope.get("root_path", "")).rstrip("/").removesuffix("/billing")
    return f"{request.url.scheme}://{request.url.netloc}{root}{BANK_PAGE}"


def write_routes(ds: Dataset) -> list[BaseRoute]:
    """PATCH /clients/{id} and the /payment-sessions routes over ``ds``."""

    async def update_contact(request: Request) -> Response:
        body = await read_body(request, required=(), optional=CONTACT_FIELDS)
        if not body.data:
            raise InvalidRequest(f"give at least one of: {', '.join(CONTACT_FIELDS)}")
        changes = {
            name: body.text(name, max_length=length, pattern=pattern, expected=expected)
            for name, (length, pattern, expected) in CONTACT_CHECKS.items()
            if name in body.data
        }
        return JSONResponse(to_json(ds.update_contact(request.path_params["id"], changes)))

    async def open_session(request: Request) -> Response:
        body = await read_body(request, required=("client_id", "invoice_ids", "return_url"))
        session = ds.open_payment_session(
            body.text("client_id", max_length=64),
            body.ids("invoice_ids"),
            return_url=body.text("return_url", max_length=2000, pattern=HTTP_URL, expected="an http(s) URL"),
            pay_page=pay_page(request),
        )
        return JSONResponse(to_json(session), status_code=201)

    async def session(request: Request) -> Response:
        check_params(request, ())
        return JSONResponse(to_json(ds.payment_session(request.path_params["id"])))

    async def complete(request: Request) -> Response:
        await no_body(request)
        return JSONResponse(to_json(ds.complete_payment_session(request.path_params["id"])))

    async def cancel(request: Request) -> Response:
        await no_body(request)
        return JSONResponse(to_json(ds.cancel_payment_session(request.path_params["id"])))

    return [
        write_route("/clients/{id}", update_contact, "PATCH"),
        write_route("/payment-sessions", open_session),
        Route("/payment-sessions/{id}", session, methods=["GET"]),
        write_route("/payment-sessions/{id}/complete", complete),
        write_route("/payment-sessions/{id}/cancel", cancel),
    ]


def document_writes(api: OpenApi) -> None:
    """Add the writes' schemas and operations to the billing system's OpenAPI document."""
    api.record(
        PaymentSessionRecord,
        enums={"status": SESSION_STATUSES, "currency": ("EUR",)},
        description="A payment of invoices at the partner bank. `redirect_url` is the bank's payment page "
        "(`/bank/pay/{id}` beside the billing system's mount point); an OPEN session past `expires_at` "
        "(30 minutes after `created_at`) reads as EXPIRED.",
    )
    contact = body_of(
        {},
        {
            "email": text(254, format="email"),
            "phone": text(16, pattern=r"^\+[0-9]{8,15}$", description="E.164."),
            "address": text(200),
        },
    )
    contact["minProperties"] = 1
    api.write(
        "PATCH",
        "/clients/{id}",
        summary="Change some of a client's contact details; answers the updated client.",
        params=[path_id("Client id.")],
        body=contact,
        ok=ref("Client"),
        errors=(404, 422, 503),
    )
    api.write(
        "POST",
        "/payment-sessions",
        summary="Open a payment session for invoices of one client, each with something outstanding; "
        "amount is the sum of their outstanding amounts.",
        body=body_of(
            {
                "client_id": text(64),
                "invoice_ids": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 1,
                    "maxItems": 500,
                    "uniqueItems": True,
                },
                "return_url": text(2000, format="uri", description="Where the bank sends the payer back."),
            }
        ),
        ok=ref("PaymentSession"),
        created=True,
        errors=(422, 503),
    )
    api.operation(
        "GET",
        "/payment-sessions/{id}",
        summary="One payment session.",
        params=[path_id("Payment session id.")],
        ok=ref("PaymentSession"),
        errors=(404, 422, 503),
    )
    api.write(
        "POST",
        "/payment-sessions/{id}/complete",
        summary="The bank confirms payment: every invoice of the session becomes PAID (one BANK_TRANSFER "
        "payment each, with the invoice's RF reference). Completing again is harmless; an EXPIRED or "
        "CANCELLED session is 409.",
        params=[path_id("Payment session id.")],
        body=None,
        ok=ref("PaymentSession"),
    )
    api.write(
        "POST",
        "/payment-sessions/{id}/cancel",
        summary="Cancel an open session. Cancelling again is harmless; a COMPLETED or EXPIRED one is 409.",
        params=[path_id("Payment session id.")],
        body=None,
        ok=ref("PaymentSession"),
    )
