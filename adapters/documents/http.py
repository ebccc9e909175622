"""The document store over HTTP (``sandbox/UPSTREAM_API.md``, "Document store")."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence

from adapters.documents.records import ContentStream, DocumentRecord
from adapters.http import HttpAdapter, path_of
from adapters.paging import Page


class HttpDocuments(HttpAdapter):
    """``DocumentsPort`` on an ``UpstreamClient`` for the document store."""

    async def documents_by_ids(self, ids: Sequence[str]) -> Mapping[str, DocumentRecord]:
        return await self._by_ids("/documents", ids, DocumentRecord)

    async def document_pages(
        self, owner_ids: Sequence[str], *, kind: str | None, limit: int, after: str | None
    ) -> Mapping[str, Page[DocumentRecord]]:
        filters = {"kind": kind, "limit": limit, "after": after}
        return await self._pages("/documents", "owner_ids", owner_ids, DocumentRecord, filters)

    async def documents_by_permit_ids(
        self, permit_ids: Sequence[str]
    ) -> Mapping[str, Sequence[DocumentRecord]]:
        return await self._groups("/documents", "permit_ids", permit_ids, DocumentRecord)

    async def open_content(self, document_id: str) -> ContentStream:
        """Start the download of a document's bytes; ``UpstreamNotFound`` when there is no such document."""
        return await self.client.stream(path_of("/documents/{}/content", document_id))

    async def create_document(
        self,
        *,
        owner_id: str,
        kind: str,
        title: str,
        mime_type: str,
        content: bytes,
        permit_id: str | None = None,
        invoice_id: str | None = None,
        application_id: str | None = None,
        idempotency_key: str,
    ) -> DocumentRecord:
        body = {
            "owner_id": owner_id,
            "kind": kind,
            "title": title,
            "mime_type": mime_type,
            "content_base64": base64.b64encode(content).decode("ascii"),
        }
        links = {"permit_id": permit_id, "invoice_id": invoice_id, "application_id": application_id}
        body.update({name: value for name, value in links.items() if value is not None})
        return await self._write("POST", "/documents", body, DocumentRecord, idempotency_key=idempotency_key)
