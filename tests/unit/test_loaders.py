"""A request's loaders: made on first use, one of each; a page primes the by-id loader of its records; keys
share batches as with aiodataloader's own dispatch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from aiodataloader import DataLoader

from adapters.paging import Page
from resolvers.loaders import Loaders, PageKey, _Loader


class Permits:
    """The two calls of a permit registry that these tests need, recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.records = {f"P{n}": SimpleNamespace(id=f"P{n}", holder_id="K1") for n in range(3)}

    async def permit_pages(self, owners: Sequence[str], **_: Any) -> dict[str, Page[Any]]:
        self.calls.append(("permit_pages", tuple(owners)))
        items = tuple(self.records.values())
        return {"K1": Page(items, tuple(r.id for r in items), len(items), False)}

    async def permits_by_ids(self, ids: Sequence[str]) -> dict[str, Any]:
        self.calls.append(("permits_by_ids", tuple(ids)))
        return {i: self.records[i] for i in ids if i in self.records}


def loaders_of(permits: Permits) -> Loaders:
    return Loaders(SimpleNamespace(), permits, SimpleNamespace())  # type: ignore[arg-type]


async def test_no_loader_is_made_before_a_resolver_asks_for_it() -> None:
    loaders = loaders_of(Permits())
    assert not [name for name in vars(loaders) if not name.startswith("_")]
    first = loaders.permit_by_id
    assert loaders.permit_by_id is first
    assert [name for name in vars(loaders) if not name.startswith("_")] == ["permit_by_id"]


async def test_a_page_primes_the_by_id_loader_so_a_lookup_after_it_calls_nothing() -> None:
    permits = Permits()
    loaders = loaders_of(permits)
    page = await loaders.permits_by_holder_id.load(PageKey("K1", 20))
    assert [p.id for p in page.items] == ["P0", "P1", "P2"]
    assert (await loaders.permit_by_id.load("P1")).id == "P1"
    assert permits.calls == [("permit_pages", ("K1",))]
    # an id the page did not hold still goes upstream, through the same loader
    assert await loaders.permit_by_id.load("P9") is None
    assert permits.calls[-1] == ("permits_by_ids", ("P9",))


async def _batches(loader_class: type[Any], turns_between: int, keys: Sequence[str]) -> list[list[str]]:
    """The batches a loader sends when ``keys`` are asked for ``turns_between`` loop turns apart."""
    batches: list[list[str]] = []

    class Recorded(loader_class):  # type: ignore[misc, valid-type]
        async def batch_load_fn(self, asked: list[str]) -> list[str]:
            batches.append(list(asked))
            return [k.upper() for k in asked]

    loader = Recorded()
    futures = []
    for key in keys:
        futures.append(loader.load(key))
        for _ in range(turns_between):
            await asyncio.sleep(0)
    assert [await f for f in futures] == [k.upper() for k in keys]
    return batches


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
async def test_keys_go_in_the_same_batches_as_with_aiodataloaders_own_dispatch(turns: int) -> None:
    """The loaders dispatch with loop callbacks instead of a task; the window stays aiodataloader's."""
    ours = await _batches(_Loader, turns, ["a", "b", "c"])
    theirs = await _batches(DataLoader, turns, ["a", "b", "c"])
    assert ours == theirs
    # A key asked for within one turn of the batch's first joins it; two turns later it starts a new one.
    expected = {0: [["a", "b", "c"]], 1: [["a", "b"], ["c"]]}.get(turns, [["a"], ["b"], ["c"]])
    assert ours == expected


async def test_sent_is_done_once_the_batch_has_started_and_not_before() -> None:
    """What a page waits for before it builds its rows: their field's request is out, not yet answered."""
    events: list[str] = []
    answer = asyncio.Event()

    class Upstream(_Loader[str, str]):
        async def batch_load_fn(self, keys: list[str]) -> list[str]:
            events.append(f"sent {','.join(keys)}")  # all an adapter does before its request is written
            await answer.wait()
            return [k.upper() for k in keys]

    loader = Upstream()
    loading = loader.load_many(["a", "b"])
    sent = loader.sent()
    later = loader.load("c")  # asked for in the same window: in the same batch, before ``sent``
    await sent
    assert events == ["sent a,b,c"] and not loading.done()
    events.append("rows built")
    answer.set()
    assert await loading == ["A", "B"] and await later == "C"
    # Nothing waiting to go out: done within the turn, after any batch this step dispatched.
    quiet = loader.sent()
    await asyncio.sleep(0)
    assert quiet.done()
    assert events == ["sent a,b,c", "rows built"]


@pytest.mark.parametrize("options", [{"max_batch_size": 1}, {"batch": False}])
async def test_sent_waits_for_every_call_of_a_key_at_a_time(options: dict[str, Any]) -> None:
    """One call per key: as the ``naive`` baseline's loaders make them (``max_batch_size=1``), or dispatched
    as each key is asked for (``batch=False``)."""
    events: list[str] = []

    class Naive(_Loader[str, str]):
        async def batch_load_fn(self, keys: list[str]) -> list[str]:
            events.append(f"sent {','.join(keys)}")
            await asyncio.sleep(0)
            return keys

    loader = Naive(**options)
    loading = loader.load_many(["a", "b"])
    await loader.sent()
    assert events == ["sent a", "sent b"]
    assert await loading == ["a", "b"]
