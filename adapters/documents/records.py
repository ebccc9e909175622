"""Records the document store returns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    id: str
    owner_id: str  # the billing system's client id
    kind: str  # INVOICE | PERMIT | APPLICATION | RECEIPT | REPORT | CORRESPONDENCE
    title: str
    mime_type: str
    size_bytes: int
    created_at: datetime
    permit_id: str | None
    invoice_id: str | None


@dataclass(slots=True)
class ContentStream:
    """An open download: headers known, bytes still to come. Always ``await aclose()`` it."""

    media_type: str
    size_bytes: int | None
    chunks: AsyncIterator[bytes]

    async def aclose(self) -> None:
        aclose = getattr(self.chunks, "aclose", None)
        if aclose is not None:
            await aclose()
