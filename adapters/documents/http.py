"""The document store over HTTP (``sandbox/UPSTREAM_API.md``, "Document store")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from adapters.documents.records import ContentStream, DocumentRecord
from adapters.http import HttpAdapter
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
        # Quoted whole so an id can never reach another path of the store.
        return await self.client.stream(f"/documents/{quote(document_id, safe='')}/content")
