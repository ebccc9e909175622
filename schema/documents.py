"""Documents of the document store (terms 17)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from adapters.documents.records import DocumentRecord
from resolvers import documents as resolve
from resolvers.context import Context
from schema.base import Node, to_global_id
from schema.enums import DocumentKind
from schema.execution import resolved_inline


@strawberry.type(description="A document: an invoice, a permit, a receipt, a report or correspondence.")
class Document(Node):
    title: str = strawberry.field(description="Title as the document store names it.")
    kind: DocumentKind = strawberry.field(description="What the document is.")
    mime_type: str = strawberry.field(description="Media type of the content, e.g. application/pdf.")
    size_bytes: int = strawberry.field(description="Size of the content in bytes.")
    created_at: datetime = strawberry.field(description="When the document was created.")
    record: strawberry.Private[DocumentRecord]

    def _download_url(self, context: Context) -> str:
        return resolve.download_url(context, self.record)

    @strawberry.field(
        description="A signed link to the content, bound to this document and to you, valid for minutes. "
        "Open it in the browser or fetch it; the gateway checks again that you may see the document."
    )
    @resolved_inline(_download_url)
    def download_url(self, info: strawberry.Info[Context, None]) -> str:
        return self._download_url(info.context)

    @classmethod
    def from_record(cls, r: DocumentRecord) -> Document:
        return cls(
            id=to_global_id("Document", r.id),
            title=r.title,
            kind=DocumentKind(r.kind),
            mime_type=r.mime_type,
            size_bytes=r.size_bytes,
            created_at=r.created_at,
            record=r,
        )


async def linked_document(info: strawberry.Info[Context, None], document_id: str | None) -> Document | None:
    """A document another record points at, under the same rule as any other (DOCUMENTS_READ)."""
    if document_id is None:
        return None
    record = await resolve.document(info.context, document_id)
    return Document.from_record(record) if record else None
