"""The leaf shortcut in the executor gives the same answers and errors as graphql-core's own path."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from schema.execution import LeafShortcutExecutionContext, leaf_plan


@strawberry.enum
class Colour(Enum):
    RED = "RED"


@strawberry.type
class Thing:
    name: str
    amount: Decimal
    colour: Colour
    note: str | None
    count: int

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        good = Thing(name="a", amount=Decimal("1.50"), colour=Colour.RED, note=None, count=3)
        # What broken records could hold: null for a non-null field, values the types refuse.
        broken: list[Any] = [
            Thing(name=None, amount=Decimal("2"), colour=Colour.RED, note="n", count=1),  # type: ignore[arg-type]
            Thing(name="c", amount=Decimal("2"), colour="BLUE", note="n", count=1),  # type: ignore[arg-type]
            Thing(name="d", amount=Decimal("2"), colour=Colour.RED, note="n", count="many"),  # type: ignore[arg-type]
        ]
        return [good, *broken]


QUERY = "{ things { name amount colour note count shout } }"


def answer(shortcut: bool) -> dict[str, Any]:
    schema = strawberry.Schema(
        query=Query, execution_context_class=LeafShortcutExecutionContext if shortcut else None
    )
    result = schema.execute_sync(QUERY)
    return {
        "data": result.data,
        "errors": sorted((e.message, tuple(e.path or ())) for e in result.errors or ()),
    }


def test_basic_leaves_are_planned_and_resolved_fields_are_not() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=LeafShortcutExecutionContext)
    plan = leaf_plan(schema._schema)
    assert {name for type_name, name in plan if type_name == "Thing"} == {
        "name",
        "amount",
        "colour",
        "note",
        "count",
    }


def test_same_data_and_errors_as_graphql_core() -> None:
    fast, plain = answer(True), answer(False)
    assert fast == plain
    # name null, colour unknown, count not an int: each nulls its own row
    assert [path for _, path in plain["errors"]] == [
        ("things", 1, "name"),
        ("things", 2, "colour"),
        ("things", 3, "count"),
    ]


def test_good_values_are_serialised_by_their_types() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=LeafShortcutExecutionContext)
    result = schema.execute_sync("{ things { amount colour note count } }")
    assert result.errors  # the broken rows
    plain = strawberry.Schema(query=Query).execute_sync("{ things { amount colour note count } }")
    assert result.data == plain.data
