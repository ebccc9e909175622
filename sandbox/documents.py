"""The sandbox document store: document metadata, lists by owner or permit, and the bytes."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.documents.records import DocumentRecord
from sandbox.bodies import MEDIA_TYPE, read_body
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
from sandbox.generate import DocumentDraft
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

DOCUMENT_KINDS = ("INVOICE", "PERMIT", "APPLICATION", "RECEIPT", "REPORT", "CORRESPONDENCE")
MAX_CONTENT_BYTES = 10 * 1024 * 1024
_MAX_ENCODED = 4 * -(-MAX_CONTENT_BYTES // 3)  # base64 length of the largest allowed document
UPLOAD_FIELDS = ("owner_id", "kind", "title", "mime_type", "content_base64")
UPLOAD_LINKS = ("permit_id", "invoice_id", "application_id")
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

    async def upload(request: Request) -> Response:
        body = await read_body(request, required=UPLOAD_FIELDS, optional=UPLOAD_LINKS)
        stored = ds.store_document(
            owner_id=body.text("owner_id", max_length=64),
            kind=body.choice("kind", DOCUMENT_KINDS),
            title=body.text("title", max_length=200),
            mime_type=body.text("mime_type", max_length=100, pattern=MEDIA_TYPE, expected="a media type"),
            content=decoded_content(body.data.get("content_base64")),
            permit_id=body.optional_text("permit_id", max_length=64),
            invoice_id=body.optional_text("invoice_id", max_length=64),
            application_id=body.optional_text("application_id", max_length=64),
        )
        return JSONResponse(to_json(stored), status_code=201)

    routes: list[BaseRoute] = [
        write_route("/documents", upload),
        Route("/documents", documents, methods=["GET"]),
        Route("/documents/{id}", document, methods=["GET"]),
        Route("/documents/{id}/content", content, methods=["GET"]),
    ]
    return build_system_app(routes, faults=faults or Faults(), openapi=openapi_document())


def decoded_content(value: object) -> bytes:
    """The bytes of ``content_base64`` (standard alphabet, padded); over 10 MiB is 413, bad base64 422."""
    if not isinstance(value, str) or not value:
        raise InvalidRequest("content_base64: must be a non-empty base64 string")
    # Checked on the encoded length first so that a huge upload is refused without decoding it.
    if len(value) > _MAX_ENCODED:
        raise InvalidRequest(f"content_base64: the document exceeds {MAX_CONTENT_BYTES} bytes", status=413)
    try:
        content = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise InvalidRequest("content_base64: not valid base64") from None
    if len(content) > MAX_CONTENT_BYTES:
        raise InvalidRequest(f"content_base64: the document exceeds {MAX_CONTENT_BYTES} bytes", status=413)
    return content


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
    link = {"type": ["string", "null"], "maxLength": 64}
    api.write(
        "POST",
        "/documents",
        summary="Store a document (at most 10 MiB, 413 beyond); its bytes are then served by "
        "GET /documents/{id}/content. Linked permit, invoice or application must be the owner's.",
        body=body_of(
            {
                "owner_id": text(64),
                "kind": {"type": "string", "enum": list(DOCUMENT_KINDS)},
                "title": text(200),
                "mime_type": text(100, examples=["application/pdf"]),
                "content_base64": {"type": "string", "contentEncoding": "base64", "minLength": 1},
            },
            {name: link for name in UPLOAD_LINKS},
        ),
        ok=ref("Document"),
        created=True,
        errors=(413, 422, 503),
    )
    return api.document()
