"""The sandbox permit registry: permits, stations with frequency assignments, and applications."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.permits.records import (
    ApplicationRecord,
    AssignmentRecord,
    PermitRecord,
    ReceiptRecord,
    StationRecord,
)
from sandbox.bodies import SHA256_HEX, Body, read_body
from sandbox.common import (
    PAGING_PARAMS_NAMES,
    Faults,
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
    unpaged_groups,
)
from sandbox.data import Dataset
from sandbox.idempotency import write_route
from sandbox.openapi import (
    PAGING_PARAMS,
    OpenApi,
    body_of,
    groups_of,
    ids_param,
    items_of,
    pages_of,
    path_id,
    query_param,
    ref,
    text,
)
from sandbox.seed_content import ACCEPTED_APPLICATION_KINDS, SERVICE_TYPES

PERMIT_STATUSES = ("VALID", "SUSPENDED", "EXPIRED", "CANCELLED")
PERMIT_ORDER = Ordering(key=lambda p: p.number, record_id=lambda p: p.id, descending=False)
STATION_ORDER = Ordering(key=lambda s: s.name, record_id=lambda s: s.id, descending=False)
SUBMISSION_FIELDS = ("client_id", "kind", "subject", "body", "submitted_by", "receipt")
RECEIPT_FIELDS = ("number", "content_sha256", "signed_at", "signature")
APPLICATION_ORDER = Ordering(
    key=lambda a: a.submitted_at.isoformat(), record_id=lambda a: a.id, descending=True
)


def create_app(dataset: Dataset, faults: Faults | None = None) -> Starlette:
    """The permit registry's Starlette app over ``dataset``."""
    ds = dataset

    async def permits(request: Request) -> Response:
        mode = one_mode(request, {"ids": (), "holder_ids": ("status", "service_type", *PAGING_PARAMS_NAMES)})
        if mode == "ids":
            ids = id_list(request, "ids") or []
            return JSONResponse({"items": [to_json(ds.permits[i]) for i in ids if i in ds.permits]})
        status = enum_param(request, "status", PERMIT_STATUSES)
        service = enum_param(request, "service_type", SERVICE_TYPES)
        body = grouped_pages(
            id_list(request, "holder_ids") or [],
            ds.permits_of,
            PERMIT_ORDER,
            limit=limit_param(request),
            after=request.query_params.get("after"),
            keep=lambda p: (
                (status is None or p.status == status) and (service is None or p.service_type == service)
            ),
        )
        return JSONResponse(body)

    async def permit(request: Request) -> Response:
        check_params(request, ())
        found = ds.permits.get(request.path_params["id"])
        if found is None:
            raise NotFound(f"no permit {request.path_params['id']}")
        return JSONResponse(to_json(found))

    async def stations(request: Request) -> Response:
        mode = one_mode(request, {"ids": (), "permit_ids": ()})
        ids = id_list(request, mode) or []
        if mode == "ids":
            return JSONResponse({"items": [to_json(ds.stations[i]) for i in ids if i in ds.stations]})
        return JSONResponse(unpaged_groups(ids, ds.stations_of, STATION_ORDER))

    async def applications(request: Request) -> Response:
        mode = one_mode(request, {"ids": (), "client_ids": PAGING_PARAMS_NAMES})
        if mode == "ids":
            ids = id_list(request, "ids") or []
            return JSONResponse({"items": [to_json(ds.applications[i]) for i in ids if i in ds.applications]})
        body = grouped_pages(
            id_list(request, "client_ids") or [],
            ds.applications_of,
            APPLICATION_ORDER,
            limit=limit_param(request),
            after=request.query_params.get("after"),
        )
        return JSONResponse(body)

    async def submit(request: Request) -> Response:
        body = await read_body(request, required=SUBMISSION_FIELDS, optional=("permit_id",))
        application = ds.submit_application(
            client_id=body.text("client_id", max_length=64),
            kind=body.choice("kind", ACCEPTED_APPLICATION_KINDS),
            subject=body.text("subject", max_length=200),
            body=body.text("body", max_length=20000),
            permit_id=body.optional_text("permit_id", max_length=64),
            submitted_by=body.text("submitted_by", max_length=200),
            receipt=receipt_of(body.nested("receipt", required=RECEIPT_FIELDS, optional=("document_id",))),
        )
        return JSONResponse(to_json(application), status_code=201)

    async def attach_receipt(request: Request) -> Response:
        body = await read_body(request, required=("document_id",))
        document_id = body.text("document_id", max_length=64)
        return JSONResponse(to_json(ds.attach_receipt_document(request.path_params["id"], document_id)))

    routes: list[BaseRoute] = [
        Route("/permits", permits, methods=["GET"]),
        Route("/permits/{id}", permit, methods=["GET"]),
        Route("/stations", stations, methods=["GET"]),
        Route("/applications", applications, methods=["GET"]),
        write_route("/applications", submit),
        write_route("/applications/{id}/receipt", attach_receipt, "PATCH"),
    ]
    return build_system_app(routes, faults=faults or Faults(), openapi=openapi_document())


def receipt_of(body: Body) -> ReceiptRecord:
    """The signed receipt of a submission (made and signed by the gateway, kept as given)."""
    return ReceiptRecord(
        number=body.text("number", max_length=64),
        content_sha256=body.text(
            "content_sha256", max_length=64, pattern=SHA256_HEX, expected="64 hex digits"
        ),
        signed_at=body.instant("signed_at"),
        signature=body.text("signature", max_length=1024),
        document_id=body.optional_text("document_id", max_length=64),
    )


def openapi_document() -> dict[str, Any]:
    """The permit registry's OpenAPI 3.1 document."""
    api = OpenApi("Permit registry (sandbox)", "Permits, stations with frequency assignments, applications.")
    api.record(PermitRecord, enums={"service_type": SERVICE_TYPES, "status": PERMIT_STATUSES})
    api.record(AssignmentRecord, enums={"direction": ("TX", "RX", "TXRX")})
    api.record(
        StationRecord, description="A station; `station_class` is the ITU class (FB, ML, FX, BC, MS, AT...)."
    )
    api.record(ReceiptRecord)
    api.record(
        ApplicationRecord,
        enums={
            "kind": ACCEPTED_APPLICATION_KINDS,
            "status": ("SUBMITTED", "IN_REVIEW", "APPROVED", "REJECTED"),
        },
    )
    either = "Give either `ids` (batch read) or `{owner}` (grouped pages)."
    api.operation(
        "GET",
        "/permits",
        summary="Permits by id, or per holder by number. " + either.format(owner="holder_ids"),
        params=[
            ids_param("ids", "Permit ids."),
            ids_param("holder_ids", "Holder (client) ids, one group each."),
            query_param(
                "status", {"type": "string", "enum": list(PERMIT_STATUSES)}, "Only permits in this status."
            ),
            query_param(
                "service_type", {"type": "string", "enum": list(SERVICE_TYPES)}, "Only this service."
            ),
            *PAGING_PARAMS,
        ],
        ok={"oneOf": [items_of("Permit"), pages_of("Permit")]},
    )
    api.operation(
        "GET",
        "/permits/{id}",
        summary="One permit.",
        params=[path_id("Permit id.")],
        ok=ref("Permit"),
        errors=(404, 422, 503),
    )
    api.operation(
        "GET",
        "/stations",
        summary="Stations by id, or all stations of each permit (name asc, not paged).",
        params=[ids_param("ids", "Station ids."), ids_param("permit_ids", "Permit ids, one group each.")],
        ok={"oneOf": [items_of("Station"), groups_of("Station")]},
    )
    api.operation(
        "GET",
        "/applications",
        summary="Applications by id, or newest first per client. " + either.format(owner="client_ids"),
        params=[
            ids_param("ids", "Application ids."),
            ids_param("client_ids", "Client ids, one group each."),
            *PAGING_PARAMS,
        ],
        ok={"oneOf": [items_of("Application"), pages_of("Application")]},
    )
    receipt = body_of(
        {
            "number": text(64),
            "content_sha256": text(64, pattern="^[0-9a-f]{64}$"),
            "signed_at": {"type": "string", "format": "date-time"},
            "signature": text(1024),
        },
        {"document_id": {"type": ["string", "null"], "maxLength": 64}},
    )
    api.write(
        "POST",
        "/applications",
        summary="Submit an application (status SUBMITTED, submitted_at now) with its signed receipt. "
        "`permit_id`, when given, must be a permit of the client.",
        body=body_of(
            {
                "client_id": text(64),
                "kind": {"type": "string", "enum": list(ACCEPTED_APPLICATION_KINDS)},
                "subject": text(200),
                "body": text(20000),
                "submitted_by": text(200),
                "receipt": receipt,
            },
            {"permit_id": {"type": ["string", "null"], "maxLength": 64}},
        ),
        ok=ref("Application"),
        created=True,
        errors=(422, 503),
    )
    api.write(
        "PATCH",
        "/applications/{id}/receipt",
        summary="Record the archived receipt PDF's document id on the application's receipt "
        "(409 when the application has no receipt).",
        params=[path_id("Application id.")],
        body=body_of({"document_id": text(64)}),
        ok=ref("Application"),
    )
    return api.document()
