"""A page of records as the company systems return it (cursor paging, grouped by owner in batches)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of an owner's list: the records, their opaque cursors, the total, whether more follow."""

    items: tuple[T, ...]
    cursors: tuple[str, ...]
    total: int
    has_more: bool

    @classmethod
    def empty(cls) -> Page[T]:
        return cls(items=(), cursors=(), total=0, has_more=False)
