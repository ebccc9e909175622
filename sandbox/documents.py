"""The sandbox document store: document metadata, lists by owner or permit, and the bytes."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.documents.records import DocumentRecord
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
)
from sandbox.data import Dataset
from sandbox.generate import DocumentDraft
from sandbox.openapi import (
    PAGING_PARAMS,
    OpenApi,
    groups_of,
    ids_param,
    items_of,
    pages_of,
    path_id,
    query_param,
    ref,
)

DOCUMENT_KINDS = ("INVOICE", "PERMIT", "APPLICATION", "RECEIPT", "REPORT", "CORRESPONDENCE")
# Drafts and records share these fields, so one ordering serves both (a draft has no size yet).
DOCUMENT_ORDER = Ordering(key=lambda d: d.created_at.isoformat(), record_id=lambda d: d.id, descending=True)


def create_app(dataset: Dataset, faults: Faults | None = None) -> Starlette:
    """The document store's Starlette app over ``dataset``."""
    ds = dataset

    def record(draft: DocumentDraft) -> Any:
        # Rendering happens here, so only the documents actually answered are ever rendered.
        return to_json(ds.document(draft.id))

    def existing(ids: list[str]) -> list[DocumentRecord]:
        found = (ds.document(i) for i in ids)
        return [d for d in found if d is not None]

    async def documents(request: Request) -> Response:
        modes = {"ids": (), "owner_ids": ("kind", *PAGING_PARAMS_NAMES), "permit_ids": ()}
        mode = one_mode(request, modes)
        ids = id_list(request, mode) or []
        if mode == "ids":
            return JSONResponse({"items": [to_json(d) for d in existing(ids)]})
        if mode == "permit_ids":
            groups = [
                {
                    "owner_id": pid,
                    "items": [record(d) for d in DOCUMENT_ORDER.sort(ds.document_drafts_of_permit(pid))],
                }
                for pid in ids
            ]
            return JSONResponse({"groups": groups})
        kind = enum_param(request, "kind", DOCUMENT_KINDS)
        body = grouped_pages(
            ids,
            ds.document_drafts_of,
            DOCUMENT_ORDER,
            limit=limit_param(request),
            after=request.query_params.get("after"),
            keep=lambda d: kind is None or d.kind == kind,
            render=record,
        )
        return JSONResponse(body)

    async def document(request: Request) -> Response:
        check_params(request, ())
        found = ds.document(request.path_params["id"])
        if found is None:
            raise NotFound(f"no document {request.path_params['id']}")
        return JSONResponse(to_json(found))

    async def content(request: Request) -> Response:
        check_params(request, ())
        doc_id = request.path_params["id"]
        found, data = ds.document(doc_id), ds.document_content(doc_id)
        if found is None or data is None:
            raise NotFound(f"no document {doc_id}")
        # The exact mime type, without the charset Starlette would append to text/* types.
        return Response(data, headers={"content-type": found.mime_type})

    routes: list[BaseRoute] = [
        Route("/documents", documents, methods=["GET"]),
        Route("/documents/{id}", document, methods=["GET"]),
        Route("/documents/{id}/content", content, methods=["GET"]),
    ]
    return build_system_app(routes, faults=faults or Faults(), openapi=openapi_document())


def openapi_document() -> dict[str, Any]:
    """The document store's OpenAPI 3.1 document."""
    api = OpenApi("Document store (sandbox)", "Document metadata, lists by owner or permit, and the bytes.")
    api.record(DocumentRecord, enums={"kind": DOCUMENT_KINDS})
    api.operation(
        "GET",
        "/documents",
        summary="Documents by id; newest first per owner (paged); or all documents of each permit "
        "(created_at desc, not paged). Give exactly one of `ids`, `owner_ids`, `permit_ids`.",
        params=[
            ids_param("ids", "Document ids."),
            ids_param("owner_ids", "Owner (client) ids, one group each."),
            ids_param("permit_ids", "Permit ids, one group each."),
            query_param(
                "kind", {"type": "string", "enum": list(DOCUMENT_KINDS)}, "Only this kind (with owner_ids)."
            ),
            *PAGING_PARAMS,
        ],
        ok={"oneOf": [items_of("Document"), pages_of("Document"), groups_of("Document")]},
    )
    api.operation(
        "GET",
        "/documents/{id}",
        summary="One document's metadata.",
        params=[path_id("Document id.")],
        ok=ref("Document"),
        errors=(404, 422, 503),
    )
    api.operation(
        "GET",
        "/documents/{id}/content",
        summary="The bytes; Content-Type is the document's mime type, Content-Length its size_bytes.",
        params=[path_id("Document id.")],
        ok={"type": "string", "contentMediaType": "application/octet-stream"},
        media_types=("application/pdf", "text/csv"),
        errors=(404, 422, 503),
    )
    return api.document()
