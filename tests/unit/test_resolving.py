"""The lean resolver calls give the same answers and errors as Strawberry's own wrappers, and only where
they may: fields with arguments, extensions or a ``root`` parameter keep Strawberry's."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission

from schema.build import create_schema
from schema.execution import ShortcutExecutionContext
from schema.resolving import lean_resolvers


class Refused(GraphQLError):
    def __init__(self) -> None:
        super().__init__("refused", extensions={"code": "FORBIDDEN"})


class Nobody(BasePermission):
    message = "nobody may"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return False


class Loud(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def plain(self) -> str:
        return f"plain {self.name}"

    @strawberry.field
    def path(self, info: strawberry.Info) -> str:
        return f"{self.name} at {info.path.as_list()} for {info.context['user']} as {info.field_name}"

    @strawberry.field
    async def later(self, info: strawberry.Info) -> str:
        await asyncio.sleep(0)
        return f"later {self.name} {info.python_name}"

    @strawberry.field
    def maybe_later(self) -> str | None:
        async def value() -> str | None:
            return None if self.name == "b" else f"maybe {self.name}"

        return value()  # type: ignore[return-value]

    @strawberry.field
    def refused(self) -> str | None:
        if self.name == "b":
            raise Refused
        return self.name

    @strawberry.field
    async def broken(self) -> str:
        if self.name == "b":
            raise ValueError("broken b")
        return self.name

    @strawberry.field
    def missing(self) -> str:
        return None if self.name == "b" else self.name  # type: ignore[return-value]

    @strawberry.field
    def child(self) -> Item | None:
        return Item(name=self.name + "!") if self.name == "a" else None

    @strawberry.field
    def greeting(self, word: str = "hello") -> str:
        return f"{word} {self.name}"

    @strawberry.field(permission_classes=[Nobody])
    def secret(self) -> str | None:
        return "secret"

    @strawberry.field(extensions=[Loud()])
    def loud(self) -> str:
        return self.name


def rooted(root: Item) -> str:
    return f"root {root.name}"


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return [Item(name="a"), Item(name="b")]

    @strawberry.field
    def user(self, info: strawberry.Info) -> str:
        return str(info.context["user"])

    @strawberry.field
    def constant(self) -> int:
        return 7


@strawberry.type
class RootedItem(Item):
    rooted: str = strawberry.field(resolver=rooted)


@strawberry.type
class RootedQuery(Query):
    @strawberry.field
    def rooted_items(self) -> list[RootedItem]:
        return [RootedItem(name="r")]


QUERY = """{
  user constant
  items {
    name plain path later maybeLater refused broken missing greeting(word: "hi") secret loud
    child { name path later child { name } }
  }
  rootedItems { rooted plain }
}"""


def answer(lean: bool) -> dict[str, Any]:
    schema = strawberry.Schema(query=RootedQuery, execution_context_class=ShortcutExecutionContext)
    if lean:
        lean_resolvers(schema)
    result = asyncio.run(schema.execute(QUERY, context_value={"user": "anna"}))
    return {
        "data": result.data,
        "errors": sorted(
            (e.message, tuple(e.path or ()), str(e.locations), str(e.extensions)) for e in result.errors or ()
        ),
    }


def test_lean_calls_answer_and_err_as_strawberry_does() -> None:
    lean, strawberrys = answer(True), answer(False)
    assert lean == strawberrys
    assert lean["data"]["user"] == "anna" and lean["data"]["constant"] == 7
    first = lean["data"]["items"][0]
    assert first["path"] == "a at ['items', 0, 'path'] for anna as path"
    assert first["later"] == "later a later" and first["maybeLater"] == "maybe a"
    assert first["greeting"] == "hi a" and first["loud"] == "A" and first["secret"] is None
    assert first["child"]["path"] == "a! at ['items', 0, 'child', 'path'] for anna as path"
    assert lean["data"]["items"][1] is None  # broken and missing are non-null: their errors null the item
    messages = {message for message, *_ in lean["errors"]}
    assert {"refused", "nobody may", "Cannot return null for non-nullable field Item.missing."} <= messages
    assert lean["data"]["rootedItems"] == [{"rooted": "root r", "plain": "plain r"}]


def test_only_fields_without_arguments_extensions_or_root_are_made_lean() -> None:
    schema = strawberry.Schema(query=RootedQuery)
    replaced = set(lean_resolvers(schema))
    lean = {"RootedQuery.user", "RootedQuery.constant", "Item.plain", "Item.path", "Item.later", "Item.child"}
    assert lean <= replaced
    kept = {"Item.greeting", "Item.secret", "Item.loud", "RootedItem.rooted", "Item.name"}
    assert kept.isdisjoint(replaced)


@strawberry.type
class Oops:
    reason: str


@strawberry.type
class Fine:
    value: str


class OopsHandler(strawberry.ExceptionHandler[ValueError, Oops]):
    def handle(self, exception: ValueError, *, field: Any, info: strawberry.Info) -> Oops:
        return Oops(reason=str(exception))


@strawberry.type
class HandledQuery:
    @strawberry.field
    def plain(self) -> str:
        return "plain"

    @strawberry.field
    def risky(self) -> Fine | Oops:
        raise ValueError("turned into a result")


def test_a_schema_with_exception_handlers_keeps_strawberrys_wrappers() -> None:
    schema = strawberry.Schema(query=HandledQuery, exception_handlers=[OopsHandler()])
    assert lean_resolvers(schema) == []
    result = schema.execute_sync("{ plain risky { ... on Oops { reason } } }")
    assert result.data == {"plain": "plain", "risky": {"reason": "turned into a result"}}


def test_the_gateway_schema_is_made_lean_where_it_may() -> None:
    schema = create_schema()
    invoice = schema._schema.type_map["Invoice"]
    assert invoice.fields["document"].resolve.__module__ == "schema.resolving"  # type: ignore[attr-defined]
    client = schema._schema.type_map["Client"]
    assert client.fields["invoices"].resolve.__module__ != "schema.resolving"  # type: ignore[attr-defined]
