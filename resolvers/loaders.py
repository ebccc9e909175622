"""Per-request DataLoaders over the adapters' batch endpoints.

Three shapes cover every upstream resource:

- ``ByIdLoader``: one batch call for all ids asked for in a tick (``?ids=``), results in key order;
- ``PageByOwnerLoader``: pages of a list per owner, one call per distinct (filters, limit, after);
- ``ListByParentLoader``: unpaged children per parent (``?permit_ids=``).

So a query costs a fixed number of upstream calls per level, whatever the number of rows. Adapter errors
become the gateway's own errors here, once for the whole batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader, Loader, dispatch_queue

from adapters.billing.port import BillingPort
from adapters.billing.records import BalanceRecord, ClientRecord, InvoiceRecord, PaymentRecord
from adapters.documents.port import DocumentsPort
from adapters.documents.records import DocumentRecord
from adapters.errors import UpstreamError
from adapters.paging import Page
from adapters.permits.port import PermitsPort
from adapters.permits.records import ApplicationRecord, PermitRecord, StationRecord
from gateway.errors import from_upstream

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


async def _translated(call: Awaitable[R]) -> R:
    try:
        return await call
    except UpstreamError as exc:
        raise from_upstream(exc) from exc


class _Loader(DataLoader[K, V]):
    """aiodataloader's DataLoader, dispatching a tick's keys with two loop callbacks where it uses a coroutine
    and a task: the same window (the keys asked for until the loop's second turn go in one batch), one task
    per batch all the same, and a task and a coroutine fewer per batch (a dashboard makes six batches).

    ``sent()`` tells when the keys asked for so far have gone out: their batch's task has taken its first
    step, which for the adapters is the upstream request written (nothing before the write waits)."""

    _sent: list[asyncio.Future[None]] | None = None

    def do_resolve_reject(self, key: K, future: asyncio.Future[V]) -> None:
        self._queue.append(Loader(key=key, future=future))
        if len(self._queue) == 1:
            if self.batch:
                self.loop.call_soon(self.loop.call_soon, self._dispatch)
            else:
                dispatch_queue(self)

    def _dispatch(self) -> None:
        dispatch_queue(self)  # the batch's task: its first step is the next callback
        waiters, self._sent = self._sent, None
        for waiter in waiters or ():
            self.loop.call_soon(_release, waiter)  # after that first step

    def sent(self) -> asyncio.Future[None]:
        """Done once the keys asked for so far have gone to their batch and it has taken its first step."""
        waiter: asyncio.Future[None] = self.loop.create_future()
        if self._queue and self.batch:
            if self._sent is None:
                self._sent = []
            self._sent.append(waiter)
        else:  # dispatched already, in this step at the latest: its task's first step comes first
            self.loop.call_soon(_release, waiter)
        return waiter


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class ByIdLoader(_Loader[str, R | None], Generic[R]):
    """Records by id; an id the system does not know gives None."""

    def __init__(
        self, fetch: Callable[[Sequence[str]], Awaitable[Mapping[str, R]]], batch: bool = True
    ) -> None:
        super().__init__(max_batch_size=None if batch else 1)
        self._fetch = fetch

    async def batch_load_fn(self, keys: list[str]) -> list[R | None]:
        found = await _translated(self._fetch(keys))
        return [found.get(k) for k in keys]


@dataclass(frozen=True, slots=True)
class PageKey:
    """What one connection field asks for: an owner's page under some filters."""

    owner_id: str
    limit: int
    after: str | None = None
    filters: tuple[tuple[str, Any], ...] = ()


class PageByOwnerLoader(_Loader[PageKey, Page[R]], Generic[R]):
    """Pages by owner; keys sharing filters and position go in one call. Primes a by-id loader."""

    def __init__(
        self,
        fetch: Callable[..., Awaitable[Mapping[str, Page[R]]]],
        prime: ByIdLoader[R] | None = None,
        id_of: Callable[[R], str] | None = None,
        batch: bool = True,
    ) -> None:
        super().__init__(max_batch_size=None if batch else 1)
        self._fetch = fetch
        self._prime = prime
        self._id_of = id_of

    async def batch_load_fn(self, keys: list[PageKey]) -> list[Page[R]]:
        groups: dict[tuple[Hashable, ...], list[str]] = {}
        for key in keys:
            groups.setdefault((key.limit, key.after, key.filters), []).append(key.owner_id)

        async def one(spec: tuple[Hashable, ...], owners: list[str]) -> Mapping[str, Page[R]]:
            limit, after, filters = spec
            assert isinstance(filters, tuple)
            return await _translated(self._fetch(owners, limit=limit, after=after, **dict(filters)))

        if len(groups) == 1:  # the usual case: no task for a gather of one
            results = [await one(*next(iter(groups.items())))]
        else:
            results = await asyncio.gather(*(one(spec, owners) for spec, owners in groups.items()))
        by_spec = dict(zip(groups, results, strict=True))
        pages = [by_spec[(k.limit, k.after, k.filters)].get(k.owner_id, Page.empty()) for k in keys]
        if self._prime is not None and self._id_of is not None:
            for page in pages:
                for item in page.items:
                    self._prime.prime(self._id_of(item), item)
        return pages


class ListByParentLoader(_Loader[str, Sequence[R]], Generic[R]):
    """Unpaged children by parent id, in key order; a parent with none gives an empty list."""

    def __init__(
        self, fetch: Callable[[Sequence[str]], Awaitable[Mapping[str, Sequence[R]]]], batch: bool = True
    ) -> None:
        super().__init__(max_batch_size=None if batch else 1)
        self._fetch = fetch

    async def batch_load_fn(self, keys: list[str]) -> list[Sequence[R]]:
        found = await _translated(self._fetch(keys))
        return [found.get(k, ()) for k in keys]


class Loaders:
    """The loaders of one request. Created fresh per request, so nothing leaks between callers.

    Each loader is made when a resolver first asks for it: most requests need two or three of them.
    ``batch=False`` sends one upstream call per key: the benchmarks' ``naive`` baseline, never production.
    """

    def __init__(
        self, billing: BillingPort, permits: PermitsPort, documents: DocumentsPort, *, batch: bool = True
    ) -> None:
        self._billing = billing
        self._permits = permits
        self._documents = documents
        self._batch = batch

    def _by_id(self, fetch: Callable[[Sequence[str]], Awaitable[Mapping[str, R]]]) -> ByIdLoader[R]:
        return ByIdLoader(fetch, self._batch)

    def _pages(
        self, fetch: Callable[..., Awaitable[Mapping[str, Page[R]]]], prime: ByIdLoader[R]
    ) -> PageByOwnerLoader[R]:
        return PageByOwnerLoader(fetch, prime, _id, self._batch)

    @cached_property
    def client_by_id(self) -> ByIdLoader[ClientRecord]:
        return self._by_id(self._billing.clients_by_ids)

    @cached_property
    def invoice_by_id(self) -> ByIdLoader[InvoiceRecord]:
        return self._by_id(self._billing.invoices_by_ids)

    @cached_property
    def payment_by_id(self) -> ByIdLoader[PaymentRecord]:
        return self._by_id(self._billing.payments_by_ids)

    @cached_property
    def balance_by_client_id(self) -> ByIdLoader[BalanceRecord]:
        return self._by_id(self._billing.balances)

    @cached_property
    def invoices_by_client_id(self) -> PageByOwnerLoader[InvoiceRecord]:
        return self._pages(self._billing.invoice_pages, self.invoice_by_id)

    @cached_property
    def payments_by_client_id(self) -> PageByOwnerLoader[PaymentRecord]:
        return self._pages(self._billing.payment_pages, self.payment_by_id)

    @cached_property
    def permit_by_id(self) -> ByIdLoader[PermitRecord]:
        return self._by_id(self._permits.permits_by_ids)

    @cached_property
    def station_by_id(self) -> ByIdLoader[StationRecord]:
        return self._by_id(self._permits.stations_by_ids)

    @cached_property
    def application_by_id(self) -> ByIdLoader[ApplicationRecord]:
        return self._by_id(self._permits.applications_by_ids)

    @cached_property
    def permits_by_holder_id(self) -> PageByOwnerLoader[PermitRecord]:
        return self._pages(self._permits.permit_pages, self.permit_by_id)

    @cached_property
    def stations_by_permit_id(self) -> ListByParentLoader[StationRecord]:
        return ListByParentLoader(self._permits.stations_by_permit_ids, self._batch)

    @cached_property
    def applications_by_client_id(self) -> PageByOwnerLoader[ApplicationRecord]:
        return self._pages(self._permits.application_pages, self.application_by_id)

    @cached_property
    def document_by_id(self) -> ByIdLoader[DocumentRecord]:
        return self._by_id(self._documents.documents_by_ids)

    @cached_property
    def documents_by_owner_id(self) -> PageByOwnerLoader[DocumentRecord]:
        return self._pages(self._documents.document_pages, self.document_by_id)

    @cached_property
    def documents_by_permit_id(self) -> ListByParentLoader[DocumentRecord]:
        return ListByParentLoader(self._documents.documents_by_permit_ids, self._batch)


def _id(record: Any) -> str:
    return str(record.id)
