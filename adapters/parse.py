"""Turning the company systems' JSON into records.

The records in ``adapters/*/records.py`` are plain dataclasses whose field names are the JSON names
(``sandbox/UPSTREAM_API.md``), so one decoder driven by the field annotations builds all of them: amounts are
decimal strings, dates ``YYYY-MM-DD``, times ISO 8601 with offset, nested records are JSON objects and
``tuple[X, ...]`` fields JSON arrays. Unknown JSON fields are ignored so a system may add fields freely.

Anything that does not fit raises ``MalformedAnswer``; the fetch helpers in ``adapters.http`` turn it into
``UpstreamUnavailable`` (a system that answers garbage is as good as down).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from adapters.paging import Page

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


class MalformedAnswer(ValueError):
    """A JSON answer that does not have the documented shape."""


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


def _converter(hint: Any) -> Converter:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union) and type(None) in args:
        others = [arg for arg in args if arg is not type(None)]
        if len(others) != 1:
            raise TypeError(f"unsupported annotation {hint!r}")
        inner = _converter(others[0])
        return lambda value: None if value is None else inner(value)
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
