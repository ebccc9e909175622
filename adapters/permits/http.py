"""The permit registry over HTTP (``sandbox/UPSTREAM_API.md``, "Permit registry")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from adapters.http import HttpAdapter
from adapters.paging import Page
from adapters.permits.records import ApplicationRecord, PermitRecord, StationRecord


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
