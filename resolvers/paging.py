"""Turning a connection field's arguments into a loader key."""

from __future__ import annotations

from typing import Any

from gateway.errors import BadUserInput
from resolvers.loaders import PageKey

MAX_PAGE = 100


def page_key(owner_id: str, first: int | None, after: str | None, **filters: Any) -> PageKey:
    """The key for `first` rows after `after`; filters left as None are not sent upstream."""
    limit = 20 if first is None else first
    if limit < 1 or limit > MAX_PAGE:
        raise BadUserInput(f"`first` must be between 1 and {MAX_PAGE}; page through more with `after`.")
    return PageKey(
        owner_id=owner_id, limit=limit, after=after or None, filters=tuple(sorted(filters.items()))
    )
