"""The permit registry over HTTP (``sandbox/UPSTREAM_API.md``, "Permit registry")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict

from adapters.http import HttpAdapter, path_of
from adapters.paging import Page
from adapters.permits.records import ApplicationRecord, PermitRecord, ReceiptRecord, StationRecord


class HttpPermits(HttpAdapter):
    """``PermitsPort`` on an ``UpstreamClient`` for the permit registry."""

    async def permits_by_ids(self, ids: Sequence[str]) -> Mapping[str, PermitRecord]:
        return await self._by_ids("/permits", ids, PermitRecord)

    async def permit_pages(
        self,
        holder_ids: Sequence[str],
        *,
        status: str | None,
        service_type: str | None,
        limit: int,
        after: str | None,
    ) -> Mapping[str, Page[PermitRecord]]:
        filters = {"status": status, "service_type": service_type, "limit": limit, "after": after}
        return await self._pages("/permits", "holder_ids", holder_ids, PermitRecord, filters)

    async def stations_by_ids(self, ids: Sequence[str]) -> Mapping[str, StationRecord]:
        return await self._by_ids("/stations", ids, StationRecord)

    async def stations_by_permit_ids(
        self, permit_ids: Sequence[str]
    ) -> Mapping[str, Sequence[StationRecord]]:
        return await self._groups("/stations", "permit_ids", permit_ids, StationRecord)

    async def applications_by_ids(self, ids: Sequence[str]) -> Mapping[str, ApplicationRecord]:
        return await self._by_ids("/applications", ids, ApplicationRecord)

    async def application_pages(
        self, client_ids: Sequence[str], *, limit: int, after: str | None
    ) -> Mapping[str, Page[ApplicationRecord]]:
        filters = {"limit": limit, "after": after}
        return await self._pages("/applications", "client_ids", client_ids, ApplicationRecord, filters)

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
        submission = {
            "client_id": client_id,
            "kind": kind,
            "subject": subject,
            "body": body,
            "permit_id": permit_id,
            "submitted_by": submitted_by,
            "receipt": asdict(receipt),  # signed_at goes out in ISO 8601 with its offset
        }
        return await self._write(
            "POST", "/applications", submission, ApplicationRecord, idempotency_key=idempotency_key
        )

    async def attach_receipt_document(
        self, application_id: str, document_id: str, *, idempotency_key: str
    ) -> ApplicationRecord:
        path = path_of("/applications/{}/receipt", application_id)
        body = {"document_id": document_id}
        return await self._write("PATCH", path, body, ApplicationRecord, idempotency_key=idempotency_key)
