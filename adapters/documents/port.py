"""The document store as the gateway sees it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from adapters.documents.records import ContentStream, DocumentRecord
from adapters.paging import Page


class DocumentsPort(Protocol):
    """Document metadata, lists by owner or permit, and the bytes."""

    async def documents_by_ids(self, ids: Sequence[str]) -> Mapping[str, DocumentRecord]: ...

    async def document_pages(
        self, owner_ids: Sequence[str], *, kind: str | None, limit: int, after: str | None
    ) -> Mapping[str, Page[DocumentRecord]]: ...

    async def documents_by_permit_ids(
        self, permit_ids: Sequence[str]
    ) -> Mapping[str, Sequence[DocumentRecord]]: ...

    async def open_content(self, document_id: str) -> ContentStream:
        """Start streaming a document's bytes; ``UpstreamNotFound`` when there is no such document."""
        ...

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
        """Store a document (at most 10 MiB); sent once, so a caller that retries must reuse the key."""
        ...

    async def ping(self) -> None:
        """Raise ``UpstreamUnavailable`` unless the store answers its health check."""
        ...
