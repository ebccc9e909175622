"""A request's loaders: made on first use, one of each, and a page primes the by-id loader of its records."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from adapters.paging import Page
from resolvers.loaders import Loaders, PageKey


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
