"""Turning the company systems' JSON into records.

The records in ``adapters/*/records.py`` are plain dataclasses whose field names are the JSON names
(``sandbox/UPSTREAM_API.md``), so one decoder driven by the field annotations builds all of them: amounts are
decimal strings, dates ``YYYY-MM-DD``, times ISO 8601 with offset, nested records are JSON objects and
``tuple[X, ...]`` fields JSON arrays. Unknown JSON fields are ignored so a system may add fields freely.

Anything that does not fit raises ``MalformedAnswer``; the fetch helpers in ``adapters.http`` turn it into
``UpstreamUnavailable`` (a system that answers garbage is as good as down).

The batch answers (``{"items": [...]}`` and ``{"groups": [...]}``) are first read straight from their bytes
into the records by msgspec (``typed_items``, ``typed_groups``, ``typed_pages``): no dicts in between, and
several times cheaper than JSON and then ``decode``, which was the largest cost of a large page. Whatever
that reading refuses, and what it accepts but ``decode`` would not (a decimal that is not finite, a time
without offset), raises ``Refused``, and the answer goes the ``decode`` way, which accepts or names the
field as before. Differences remain only where a system breaks its documented formats: a JSON number for a
decimal keeps its digits (``1.10``, where ``decode`` reads it through a float: ``1.1``; the value is equal),
a time with a lower-case ``t`` or ``z`` is accepted, and a fraction of a second finer than microseconds is
rounded rather than cut.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import msgspec

from adapters.paging import Page

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")
T = TypeVar("T")


class MalformedAnswer(ValueError):
    """A JSON answer that does not have the documented shape."""


class Refused(Exception):
    """An answer the typed reading leaves to JSON and ``decode`` (which accept it or say what is wrong)."""


def parse_decimal(value: object) -> Decimal:
    """A decimal from its string form (``"36.85"``); integers are accepted too, floats via their repr."""
    if isinstance(value, bool):
        raise MalformedAnswer("expected a decimal, got a boolean")
    if isinstance(value, str | int | float):
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            raise MalformedAnswer(f"not a decimal: {_describe(value)}") from None
        if result.is_finite():
            return result
    raise MalformedAnswer(f"not a decimal: {_describe(value)}")


def parse_date(value: object) -> date:
    """A calendar date from ``YYYY-MM-DD``."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise MalformedAnswer(f"not a date: {_describe(value)}")


def parse_datetime(value: object) -> datetime:
    """An aware datetime from ISO 8601; a time without offset is taken as UTC rather than rejected."""
    if isinstance(value, str):
        try:
            result = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return result if result.tzinfo is not None else result.replace(tzinfo=UTC)
    raise MalformedAnswer(f"not a datetime: {_describe(value)}")


def expect_object(value: object, what: str) -> Mapping[str, Any]:
    """``value`` as a JSON object, or ``MalformedAnswer`` naming ``what`` was expected."""
    if not isinstance(value, dict):
        raise MalformedAnswer(f"{what}: expected an object, got {_describe(value)}")
    return value


def expect_list(value: object, what: str) -> list[Any]:
    """``value`` as a JSON array, or ``MalformedAnswer``."""
    if not isinstance(value, list):
        raise MalformedAnswer(f"{what}: expected an array, got {_describe(value)}")
    return value


def decode(record: type[R], data: object) -> R:
    """Build ``record`` (a records dataclass) from a JSON object, checking and converting every field."""
    obj = expect_object(data, record.__name__)
    values: dict[str, Any] = {}
    for name, convert in _converters(record):
        try:
            values[name] = convert(obj.get(name))
        except MalformedAnswer as exc:
            raise MalformedAnswer(f"{record.__name__}.{name}: {exc}") from None
    return record(**values)


def items_of(answer: object, record: type[R]) -> list[R]:
    """The records of an ``{"items": [...]}`` answer."""
    items = expect_list(expect_object(answer, "answer").get("items"), "items")
    return [decode(record, item) for item in items]


def groups_of(answer: object) -> list[Mapping[str, Any]]:
    """The group objects of a ``{"groups": [...]}`` answer."""
    groups = expect_list(expect_object(answer, "answer").get("groups"), "groups")
    return [expect_object(group, "group") for group in groups]


def owner_of(group: Mapping[str, Any]) -> str:
    """The ``owner_id`` of a group."""
    owner = group.get("owner_id")
    if not isinstance(owner, str):
        raise MalformedAnswer(f"group.owner_id: expected a string, got {_describe(owner)}")
    return owner


def page_of(group: Mapping[str, Any], record: type[R]) -> Page[R]:
    """A ``Page`` from a paged group (``total``, ``has_more``, ``edges`` of ``cursor`` + ``node``)."""
    total, has_more = group.get("total"), group.get("has_more")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise MalformedAnswer(f"group.total: expected a count, got {_describe(total)}")
    if not isinstance(has_more, bool):
        raise MalformedAnswer(f"group.has_more: expected a boolean, got {_describe(has_more)}")
    items: list[R] = []
    cursors: list[str] = []
    for edge in expect_list(group.get("edges"), "group.edges"):
        edge = expect_object(edge, "edge")
        cursor = edge.get("cursor")
        if not isinstance(cursor, str):
            raise MalformedAnswer(f"edge.cursor: expected a string, got {_describe(cursor)}")
        items.append(decode(record, edge.get("node")))
        cursors.append(cursor)
    return Page(items=tuple(items), cursors=tuple(cursors), total=total, has_more=has_more)


def group_items_of(group: Mapping[str, Any], record: type[R]) -> tuple[R, ...]:
    """The records of an unpaged group (``items``)."""
    return tuple(decode(record, item) for item in expect_list(group.get("items"), "group.items"))


Converter = Callable[[object], Any]


@cache
def _converters(record: type[Any]) -> tuple[tuple[str, Converter], ...]:
    # Resolved once per record class: get_type_hints evaluates the postponed annotations.
    hints = typing.get_type_hints(record)
    return tuple((f.name, _converter(hints[f.name])) for f in dataclasses.fields(record))


def _optional(hint: Any) -> Any | None:
    """``X`` of an ``X | None`` annotation; None for any other (a union of more is not a record field)."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) not in (types.UnionType, typing.Union) or type(None) not in args:
        return None
    others = [arg for arg in args if arg is not type(None)]
    if len(others) != 1:
        raise TypeError(f"unsupported annotation {hint!r}")
    return others[0]


def _converter(hint: Any) -> Converter:
    optional = _optional(hint)
    if optional is not None:
        inner = _converter(optional)
        return lambda value: None if value is None else inner(value)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        element = _converter(args[0])
        return lambda value: tuple(element(item) for item in expect_list(value, "array"))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        nested: type[Any] = hint
        return lambda value: decode(nested, value)
    simple = _SIMPLE.get(hint)
    if simple is None:
        raise TypeError(f"unsupported annotation {hint!r}")
    return simple


def _parse_str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise MalformedAnswer(f"expected a string, got {_describe(value)}")


def _parse_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise MalformedAnswer(f"expected an integer, got {_describe(value)}")


def _parse_float(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise MalformedAnswer(f"expected a number, got {_describe(value)}")


def _parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise MalformedAnswer(f"expected a boolean, got {_describe(value)}")


_SIMPLE: dict[Any, Converter] = {
    str: _parse_str,
    int: _parse_int,
    float: _parse_float,
    bool: _parse_bool,
    Decimal: parse_decimal,
    date: parse_date,
    datetime: parse_datetime,
}


def _describe(value: object) -> str:
    # Short and free of the value itself for strings: answers can carry personal data.
    if value is None:
        return "nothing"
    return type(value).__name__


# The typed reading of batch answers, straight from bytes.


class _Items(msgspec.Struct, Generic[T]):
    items: tuple[T, ...]


class _Group(msgspec.Struct, Generic[T]):
    owner_id: str
    items: tuple[T, ...]


class _Edge(msgspec.Struct, Generic[T]):
    cursor: str
    node: T


class _PagedGroup(msgspec.Struct, Generic[T]):
    owner_id: str
    total: Annotated[int, msgspec.Meta(ge=0)]
    has_more: bool
    edges: tuple[_Edge[T], ...]


class _Groups(msgspec.Struct, Generic[T]):
    groups: tuple[T, ...]


def typed_items(body: bytes, record: type[R]) -> tuple[R, ...]:
    """The records of an ``{"items": [...]}`` answer, read from its bytes; ``Refused`` as above."""
    items = _read(body, _Items[record]).items  # type: ignore[valid-type]
    _check_all(items)
    return items  # type: ignore[no-any-return]


def typed_groups(body: bytes, record: type[R]) -> list[tuple[str, tuple[R, ...]]]:
    """(owner, records) of an answer of unpaged groups, read from its bytes; ``Refused`` as above."""
    groups = _read(body, _Groups[_Group[record]]).groups  # type: ignore[valid-type]
    _check_all([item for group in groups for item in group.items])
    return [(group.owner_id, group.items) for group in groups]


def typed_pages(body: bytes, record: type[R]) -> list[tuple[str, Page[R]]]:
    """(owner, page) of an answer of paged groups, read from its bytes; ``Refused`` as above."""
    groups = _read(body, _Groups[_PagedGroup[record]]).groups  # type: ignore[valid-type]
    pages = []
    for group in groups:
        items = tuple(edge.node for edge in group.edges)
        cursors = tuple(edge.cursor for edge in group.edges)
        pages.append(
            (group.owner_id, Page(items=items, cursors=cursors, total=group.total, has_more=group.has_more))
        )
    _check_all([item for _, page in pages for item in page.items])
    return pages


def _read(body: bytes, answer_type: Any) -> Any:
    try:
        return _decoder(answer_type).decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise Refused from None


@cache
def _decoder(answer_type: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(answer_type)


def _check_all(records: Sequence[Any]) -> None:
    """``Refused`` unless ``decode`` would have built these records (all of one class) the same."""
    if not records:
        return
    record = type(records[0])
    checks = _CHECKS.get(record)
    if checks is None:
        checks = _CHECKS[record] = _checks(record)
    decimals, times, nested = checks
    # What msgspec accepts and decode refuses or changes: decimals that are not finite, times without offset.
    for name in decimals:
        for number in map(attrgetter(name), records):
            if number is not None and not number.is_finite():
                raise Refused
    for name in times:
        for moment in map(attrgetter(name), records):
            if moment is not None and moment.tzinfo is None:
                raise Refused
    for name, many in nested:
        inner = [value for value in map(attrgetter(name), records) if value is not None]
        _check_all([item for value in inner for item in value] if many else inner)


Checks = tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, bool], ...]]
_CHECKS: dict[type[Any], Checks] = {}


def _checks(record: type[Any]) -> Checks:
    """The decimal, datetime and record fields of a record class (the last: whether a tuple of records)."""
    hints = typing.get_type_hints(record)
    decimals: list[str] = []
    times: list[str] = []
    nested: list[tuple[str, bool]] = []
    for f in dataclasses.fields(record):
        base = _optional(hints[f.name]) or hints[f.name]
        if base is Decimal:
            decimals.append(f.name)
        elif base is datetime:
            times.append(f.name)
        elif typing.get_origin(base) is tuple:
            nested.append((f.name, True))
        elif isinstance(base, type) and dataclasses.is_dataclass(base):
            nested.append((f.name, False))
    return tuple(decimals), tuple(times), tuple(nested)
