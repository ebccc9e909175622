"""The lean resolver calls give the same answers and errors as Strawberry's own wrappers, and only where
they may: fields with an argument Strawberry converts (list, input, ``GlobalID``, ``Maybe``), with extensions
or with a ``root`` parameter keep Strawberry's."""

from __future__ import annotations

import asyncio
import enum
from datetime import date
from typing import Annotated, Any

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


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.input
class Window:
    start: int
    size: int = 2


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

    @strawberry.field
    def described(
        self,
        first: int | None = 10,
        after: str | None = None,
        colour: Colour | None = None,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        ident: strawberry.ID | None = None,
    ) -> str:
        shade = None if colour is None else (type(colour).__name__, colour.value)
        return f"{self.name} {first!r} {after!r} {shade!r} {from_!r} {ident!r}"

    @strawberry.field
    def joined(self, words: list[str]) -> str:
        words.append("!")  # Strawberry copies the list: a default must not grow from one request to the next
        return " ".join(words)

    @strawberry.field
    def windowed(self, window: Window) -> str:
        return f"{type(window).__name__} {window.start} {window.size}"

    @strawberry.field
    def global_id(self, id: strawberry.relay.GlobalID) -> str:
        return f"{id.type_name} {id.node_id}"

    @strawberry.field
    def perhaps(self, note: strawberry.Maybe[str] = None) -> str:
        return repr(note)

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


QUERY = """query Items($first: Int = 5) {
  user constant
  items {
    name plain path later maybeLater refused broken missing greeting(word: "hi") secret loud
    child { name path later child { name } }
    described
    set: described(first: $first, after: "c", colour: BLUE, from: "2026-11-26", ident: 42)
    nulls: described(first: null, colour: null, from: null)
    joined(words: ["a", "b"]) windowed(window: {start: 3}) globalId(id: "SXRlbTox")
    perhaps somePerhaps: perhaps(note: "n")
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
    assert first["described"] == "a 10 None None None None"
    assert first["set"] == "a 5 'c' ('Colour', 'blue') datetime.date(2026, 11, 26) '42'"
    assert first["nulls"] == "a None None None None None"
    assert first["joined"] == "a b !" and first["windowed"] == "Window 3 2" and first["globalId"] == "Item 1"
    assert (first["perhaps"], first["somePerhaps"]) == ("None", "Some('n')")
    assert first["child"]["path"] == "a! at ['items', 0, 'child', 'path'] for anna as path"
    assert lean["data"]["items"][1] is None  # broken and missing are non-null: their errors null the item
    messages = {message for message, *_ in lean["errors"]}
    assert {"refused", "nobody may", "Cannot return null for non-nullable field Item.missing."} <= messages
    assert lean["data"]["rootedItems"] == [{"rooted": "root r", "plain": "plain r"}]


def test_only_fields_whose_arguments_need_no_converting_are_made_lean() -> None:
    schema = strawberry.Schema(query=RootedQuery)
    replaced = set(lean_resolvers(schema))
    lean = {"RootedQuery.user", "RootedQuery.constant", "Item.plain", "Item.path", "Item.later", "Item.child"}
    assert lean | {"Item.greeting", "Item.described"} <= replaced
    kept = {"Item.secret", "Item.loud", "RootedItem.rooted", "Item.name"}
    converted = {"Item.joined", "Item.windowed", "Item.globalId", "Item.perhaps"}
    assert (kept | converted).isdisjoint(replaced)


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
    assert client.fields["invoices"].resolve.__module__ == "schema.resolving"  # type: ignore[attr-defined]
    mutation = schema._schema.type_map["Mutation"]
    for converted in ("submitApplication", "initiatePayment", "grantRepresentative"):  # input, list of IDs
        assert mutation.fields[converted].resolve.__module__ != "schema.resolving"  # type: ignore[attr-defined]
