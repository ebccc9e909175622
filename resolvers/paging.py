"""Turning a connection field's arguments into a loader key."""

from __future__ import annotations

from typing import Any

from gateway.errors import BadUserInput
from resolvers.loaders import PageKey

MAX_PAGE = 100


def page_key(owner_id: str, first: int | None, after: str | None, **filters: Any) -> PageKey:
    """The key for `first` rows after `after`; filters left as None are not sent upstream. `first` is capped
    at 100 (the contract's outline): more gives 100, with `hasNextPage` to page on."""
    limit = 20 if first is None else min(first, MAX_PAGE)
    if limit < 1:
        raise BadUserInput(f"`first` must be 1 or more (at most {MAX_PAGE} rows come back per page).")
    return PageKey(
        owner_id=owner_id, limit=limit, after=after or None, filters=tuple(sorted(filters.items()))
    )
