"""Documents: lists, single documents, signed download links."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.documents.records import DocumentRecord
from adapters.paging import Page
from resolvers.context import Context
from resolvers.paging import page_key
from resolvers.rows import documents_of_rows


async def documents(
    ctx: Context, client_id: str, kind: str | None, first: int | None, after: str | None
) -> Page[DocumentRecord]:
    await ctx.principal.allow(client_id, "DOCUMENTS_READ")
    return await ctx.loaders.documents_by_owner_id.load(page_key(client_id, first, after, kind=kind))


async def documents_of_permit(ctx: Context, holder_id: str, permit_id: str) -> Sequence[DocumentRecord]:
    await ctx.principal.allow(holder_id, "DOCUMENTS_READ")
    return await ctx.loaders.documents_by_permit_id.load(permit_id)


async def document(ctx: Context, document_id: str) -> DocumentRecord | None:
    """A document by id, when its owner is within reach with DOCUMENTS_READ (the rule of a page's rows)."""
    return (await documents_of_rows(ctx, [document_id]))[document_id].get()


def download_url(ctx: Context, record: DocumentRecord) -> str:
    """A link bound to this document and this user, valid for minutes; checked again when used."""
    account = ctx.principal.require_user()
    return ctx.services.links.url(record.id, account.id)
