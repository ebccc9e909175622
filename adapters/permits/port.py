"""The permit registry as the gateway sees it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from adapters.paging import Page
from adapters.permits.records import ApplicationRecord, PermitRecord, ReceiptRecord, StationRecord


class PermitsPort(Protocol):
    """Permits, their stations with frequency assignments, and applications.

    Batch methods return a mapping without the keys the registry does not know; list-by-owner methods return
    an entry (possibly empty) for every key asked for.
    """

    async def permits_by_ids(self, ids: Sequence[str]) -> Mapping[str, PermitRecord]: ...

    async def permit_pages(
        self,
        holder_ids: Sequence[str],
        *,
        status: str | None,
        service_type: str | None,
        limit: int,
        after: str | None,
    ) -> Mapping[str, Page[PermitRecord]]: ...

    async def stations_by_ids(self, ids: Sequence[str]) -> Mapping[str, StationRecord]: ...

    async def stations_by_permit_ids(
        self, permit_ids: Sequence[str]
    ) -> Mapping[str, Sequence[StationRecord]]: ...

    async def applications_by_ids(self, ids: Sequence[str]) -> Mapping[str, ApplicationRecord]: ...

    async def application_pages(
        self, client_ids: Sequence[str], *, limit: int, after: str | None
    ) -> Mapping[str, Page[ApplicationRecord]]: ...

    # Writes are sent once; a caller that retries must reuse the same ``idempotency_key``.

    async def create_application(
        self,
        *,
        client_id: str,
        kind: str,
        subject: str,
        body: str,
        permit_id: str | None,
        submitted_by: str,
        receipt: ReceiptRecord,
        idempotency_key: str,
    ) -> ApplicationRecord:
        """Submit an application with its signed receipt; answers it SUBMITTED (``UpstreamRejected`` if
        invalid, e.g. an unknown kind or a permit of another client)."""
        ...

    async def attach_receipt_document(
        self, application_id: str, document_id: str, *, idempotency_key: str
    ) -> ApplicationRecord:
        """Record the archived receipt PDF on the application's receipt; ``UpstreamNotFound`` if unknown."""
        ...

    async def ping(self) -> None:
        """Raise ``UpstreamUnavailable`` unless the registry answers its health check."""
        ...
