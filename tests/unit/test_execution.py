"""The executor's shortcuts for basic fields give the same answers and errors as graphql-core's own path."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import ParserCache

from schema.execution import (
    _SHAPES,
    NOT_AHEAD,
    ShortcutExecutionContext,
    basic_fields,
    resolved_ahead,
    resolved_inline,
)


@strawberry.enum
class Colour(Enum):
    RED = "RED"
    GREEN = "green"  # a value that is not its name


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
        green = Thing(name="g", amount=Decimal("0"), colour=Colour.GREEN, note="n", count=0)
        by_value = Thing(name="v", amount=Decimal("0"), colour="green", note="n", count=0)  # type: ignore[arg-type]
        # What broken records could hold: null for a non-null field, values the types refuse.
        broken: list[Any] = [
            Thing(name=None, amount=Decimal("2"), colour=Colour.RED, note="n", count=1),  # type: ignore[arg-type]
            Thing(name="c", amount=Decimal("2"), colour="BLUE", note="n", count=1),  # type: ignore[arg-type]
            Thing(name="d", amount=Decimal("2"), colour=Colour.RED, note="n", count="many"),  # type: ignore[arg-type]
        ]
        return [good, *broken, green, by_value]


QUERY = "{ things { name amount colour note count shout } }"


def answer(shortcut: bool) -> dict[str, Any]:
    schema = strawberry.Schema(
        query=Query, execution_context_class=ShortcutExecutionContext if shortcut else None
    )
    result = schema.execute_sync(QUERY)
    return {
        "data": result.data,
        "errors": sorted((e.message, tuple(e.path or ())) for e in result.errors or ()),
    }


def test_basic_leaves_are_planned_and_resolved_fields_are_not() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=ShortcutExecutionContext)
    plan = basic_fields(schema._schema)
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
    schema = strawberry.Schema(query=Query, execution_context_class=ShortcutExecutionContext)
    result = schema.execute_sync("{ things { amount colour note count } }")
    assert result.errors  # the broken rows
    plain = strawberry.Schema(query=Query).execute_sync("{ things { amount colour note count } }")
    assert result.data == plain.data
    assert [thing and thing["colour"] for thing in result.data["things"]][-2:] == ["GREEN", "GREEN"]


# Objects and lists read off their parents: the shapes and the object shortcut.


@strawberry.type
class Amount:
    value: Decimal
    currency: str


@strawberry.interface
class Named:
    label: str


@strawberry.type
class Tag(Named):
    weight: int


@strawberry.type
class Row:
    number: str
    total: Amount
    refund: Amount | None
    tags: list[Tag]
    maybe_tags: list[Tag | None] | None
    any_named: Named | None

    @strawberry.field
    def checked(self) -> str:
        if self.number == "boom":
            raise ValueError("checked failed")
        return self.number

    @strawberry.field
    async def later(self) -> str:
        if self.number == "late-boom":
            raise ValueError("later failed")
        return self.number + "!"

    # Resolvers whose values have all-basic selections: completed by the value's shape.
    @strawberry.field
    def parts(self) -> list[Tag]:
        return self.tags

    @strawberry.field
    async def later_parts(self) -> list[Tag | None] | None:
        return self.maybe_tags

    @strawberry.field
    def best(self) -> Amount:
        return self.total


@dataclass
class LookAlike:
    label: str
    weight: int


@strawberry.type
class Edge:
    node: Row
    spare: Row | None


def row(number: str, **changes: Any) -> Row:
    base: dict[str, Any] = {
        "number": number,
        "total": Amount(value=Decimal("1.10"), currency="EUR"),
        "refund": None,
        "tags": [Tag(label="a", weight=1), Tag(label="b", weight=2)],
        "maybe_tags": [None, Tag(label="c", weight=3)],
        "any_named": Tag(label="n", weight=4),
    }
    base.update(changes)
    return Row(**base)


@strawberry.type
class RowsQuery:
    @strawberry.field
    def edges(self) -> list[Edge | None]:
        broken: list[Any] = [
            # what broken records could hold: a null total, a currency null, a tag list that is not a list,
            # a tag weight the type refuses, a row of the wrong type, a resolver that fails (also async)
            Edge(node=row("r2", total=None), spare=None),
            Edge(node=row("r3", total=Amount(value=Decimal("2"), currency=None)), spare=None),  # type: ignore[arg-type]
            Edge(node=row("r4", tags=7), spare=None),
            Edge(node=row("r5", tags=[Tag(label="x", weight="heavy")]), spare=None),  # type: ignore[arg-type]
            Edge(node=Amount(value=Decimal("1"), currency="EUR"), spare=None),  # type: ignore[arg-type]
            Edge(node=row("boom"), spare=row("boom")),
            Edge(node=row("late-boom"), spare=row("late-boom")),
        ]
        return [
            Edge(node=row("r1"), spare=row("s1", refund=Amount(value=Decimal("0.5"), currency="EUR"))),
            *broken,
        ]

    # Values of resolvers with all-basic selections, broken in ways that null only themselves or a row.
    @strawberry.field
    def loose_tags(self) -> list[Tag | None]:
        wrong: list[Any] = [Tag(label="m", weight="heavy"), Amount(value=Decimal("1"), currency="EUR")]  # type: ignore[arg-type]
        # Strings that are not str: graphql-core's serialiser turns them into strings.
        odd: list[Any] = [Tag(label=5, weight=2), Tag(label=True, weight=3)]  # type: ignore[arg-type]
        # A look-alike of another type (Tag's type check refuses it), a Tag that lacks a field's attribute.
        half = Tag(label="h", weight=9)
        del half.weight
        return [Tag(label="l", weight=1), *wrong, *odd, LookAlike(label="f", weight=1), half, None]

    @strawberry.field
    def no_tags(self) -> list[Tag] | None:
        return 7  # type: ignore[return-value]

    @strawberry.field
    async def late_amount(self) -> Amount | None:
        return Amount(value=Decimal("3"), currency=None)  # type: ignore[arg-type]


ROWS = """
query Rows($withTags: Boolean!) {
  edges {
    node {
      __typename
      number
      total { value currency @include(if: $withTags) }
      sum: total { currency ...AmountValue }
      refund { value }
      tags @include(if: $withTags) { label weight }
      maybeTags { label __typename }
      anyNamed { label ... on Tag { weight } }
      checked
      later
      parts { label weight __typename }
      laterParts { label }
      best { value currency }
    }
    spare { number later refund { value } parts { weight } }
  }
  looseTags { label weight }
  noTags { label }
  lateAmount { value currency }
}
fragment AmountValue on Amount { value }
"""


def rows_answer(shortcut: bool, variables: dict[str, Any]) -> dict[str, Any]:
    schema = strawberry.Schema(
        query=RowsQuery, execution_context_class=ShortcutExecutionContext if shortcut else None
    )
    result = asyncio.run(schema.execute(ROWS, variable_values=variables))
    return {
        "data": result.data,
        "errors": sorted((e.message, tuple(e.path or ())) for e in result.errors or ()),
    }


@pytest.mark.parametrize("with_tags", [True, False])
def test_objects_and_lists_give_the_same_data_and_errors_as_graphql_core(with_tags: bool) -> None:
    variables = {"withTags": with_tags}
    fast, plain = rows_answer(True, variables), rows_answer(False, variables)
    assert fast == plain
    paths = [path for _, path in plain["errors"]]
    assert ("edges", 1, "node", "total") in paths  # null for a non-null object nulls the edge
    assert any(path[:3] == ("edges", 2, "node") and path[-1] == "currency" for path in paths)
    assert ("edges", 6, "node", "checked") in paths and ("edges", 6, "spare", "later") not in paths
    assert ("edges", 7, "node", "later") in paths and ("edges", 7, "spare", "later") in paths
    assert (("edges", 3, "node", "tags") in paths) is with_tags
    good = plain["data"]["edges"][0]
    assert good["node"]["sum"] == {"currency": "EUR", "value": "1.10"}
    assert good["node"]["maybeTags"] == [None, {"label": "c", "__typename": "Tag"}]
    assert ("tags" in good["node"]) is with_tags
    assert good["node"]["total"] == ({"value": "1.10", "currency": "EUR"} if with_tags else {"value": "1.10"})
    assert good["spare"]["refund"] == {"value": "0.5"} and good["spare"]["later"] == "s1!"
    # Values of resolvers: lists and objects of basic fields; a broken one errs as graphql-core has it
    assert good["node"]["parts"] == [
        {"label": "a", "weight": 1, "__typename": "Tag"},
        {"label": "b", "weight": 2, "__typename": "Tag"},
    ]
    assert good["node"]["laterParts"] == [None, {"label": "c"}]
    assert good["node"]["best"] == {"value": "1.10", "currency": "EUR"}
    odd = [{"label": "5", "weight": 2}, {"label": "true", "weight": 3}]
    assert plain["data"]["looseTags"] == [{"label": "l", "weight": 1}, None, None, *odd, None, None, None]
    assert {
        ("looseTags", 1, "weight"),
        ("looseTags", 2),
        ("looseTags", 5),
        ("looseTags", 6, "weight"),
        ("noTags",),
        ("lateAmount", "currency"),
    } <= set(paths)
    assert plain["data"]["noTags"] is None and plain["data"]["lateAmount"] is None


def test_a_shape_is_kept_per_document_and_not_used_for_a_directive_that_depends_on_variables() -> None:
    # The same document (one parse, as with the gateway's parser cache) with opposite variables: a shape
    # must not carry the first request's selection over to the next.
    schema = strawberry.Schema(
        query=RowsQuery, execution_context_class=ShortcutExecutionContext, extensions=[ParserCache]
    )
    plain = strawberry.Schema(query=RowsQuery)
    for variables in ({"withTags": True}, {"withTags": False}, {"withTags": True}):
        fast = asyncio.run(schema.execute(ROWS, variable_values=variables))
        slow = asyncio.run(plain.execute(ROWS, variable_values=variables))
        assert fast.data == slow.data
    # Shapes were made and kept: for Row's refund, maybeTags... and an edge's spare (its Row's resolvers are
    # slots of the spare's own object); not for an edge's node (its anyNamed is an interface), anyNamed
    # itself, or a total with a directive on a variable.
    kept = _SHAPES[schema._schema].items()
    shapes = [(key[0], nodes[0].name.value, shape) for key, (nodes, shape) in kept if key[0] != "value"]
    assert {parent for parent, _, shape in shapes if shape is not None} == {"Row", "Edge"}
    assert {(parent, name) for parent, name, shape in shapes if shape is None} == {
        ("Row", "anyNamed"),
        ("Row", "total"),
        ("Edge", "node"),
    }
    assert [shape.deep for parent, name, shape in shapes if name == "spare"] == [True]
    # ... and for the values of the resolvers whose selections are all basic (a refused list is then
    # completed row by row, each row by its own shape), not for the edges' rows, which have resolvers.
    values = {nodes[0].name.value for key, (nodes, shape) in kept if key[0] == "value" and shape}
    # total and tags: basic fields whose shape refused a broken row, which graphql-core's path then completes
    assert values == {"parts", "laterParts", "best", "looseTags", "noTags", "lateAmount", "total", "tags"}
    assert any(key[0] == "value" and shape is None for key, (_, shape) in kept)


# Slots: nullable fields with resolvers inside a shape, executed by graphql-core once the basic fields are in.

CALLS: list[str] = []  # each resolver call of the slot schema, in order


@strawberry.type
class Doc:
    title: str

    @strawberry.field
    def link(self) -> str | None:
        CALLS.append(f"link {self.title}")
        if self.title == "bad":
            raise ValueError("no link")
        return f"/d/{self.title}"

    @strawberry.field
    async def later_link(self) -> str | None:
        CALLS.append(f"later_link {self.title}")
        await asyncio.sleep(0)
        if self.title == "late-bad":
            raise ValueError("no later link")
        return None if self.title == "none" else f"/l/{self.title}"

    # Non-null: a failure nulls the document around it (a slot of the document's own shape only).
    @strawberry.field
    def must_link(self) -> str:
        CALLS.append(f"must_link {self.title}")
        if self.title == "must-bad":
            raise ValueError("no must link")
        return f"/m/{self.title}"

    @strawberry.field
    async def later_must(self) -> str:
        CALLS.append(f"later_must {self.title}")
        await asyncio.sleep(0)
        if self.title == "late-must-bad":
            raise ValueError("no later must")
        return f"/lm/{self.title}"


@strawberry.type
class Item:
    number: str
    total: Amount
    doc_title: strawberry.Private[str | None]
    attachment: Doc | None = None  # a basic field

    @strawberry.field
    async def doc(self) -> Doc | None:
        CALLS.append(f"doc {self.number}")
        await asyncio.sleep(0)
        if self.doc_title == "boom":
            raise ValueError("doc failed")
        return None if self.doc_title is None else Doc(title=self.doc_title)

    @strawberry.field
    def size(self) -> int | None:
        CALLS.append(f"size {self.number}")
        return "large" if self.number == "odd" else len(self.number)  # type: ignore[return-value]

    @strawberry.field
    def parts(self) -> list[Tag] | None:
        CALLS.append(f"parts {self.number}")
        return [Tag(label=self.number, weight=1)]

    @strawberry.field
    def must(self) -> str:
        CALLS.append(f"must {self.number}")
        return self.number


@strawberry.type
class ItemEdge:
    cursor: str
    node: Item


@strawberry.type
class Page:
    total_count: int
    edges: list[ItemEdge]


def item(
    number: Any, doc_title: str | None = "t", total: Any = None, attached: str | None = None
) -> ItemEdge:
    amount = total if total is not None else Amount(value=Decimal("1"), currency="EUR")
    attachment = None if attached is None else Doc(title=attached)
    node = Item(number=number, total=amount, doc_title=doc_title, attachment=attachment)
    return ItemEdge(cursor=f"c-{number}", node=node)


@strawberry.type
class SlotsQuery:
    @strawberry.field
    def page(self) -> Page:
        # documents that fail (sync, async, their parent's resolver), a null document, a size its type
        # refuses: each nulls only its own field; a document's non-null field that fails (sync, async)
        # nulls the document
        rows = [item("a1"), item("a2", "bad"), item("a3", "late-bad"), item("a4", "boom"), item("a5", None)]
        failing = [item("m1", "must-bad"), item("m2", "late-must-bad")]
        return Page(total_count=len(rows), edges=[*rows, item("odd", "none"), *failing])

    @strawberry.field
    async def broken_page(self) -> Page | None:
        # a null number in a non-null field: the shape refuses before any slot has run, and graphql-core's
        # path answers (the page is null, each error reported once, each resolver called once)
        return Page(total_count=2, edges=[item("b1"), item(None)])

    @strawberry.field
    def strict_page(self) -> Page:
        # ``must`` keeps a row from a shape; its attachment (a basic field) has one of its own, whose
        # non-null fields' failures null the attachment
        edges = [
            item("s1", attached="ok"),
            item("s2", attached="must-bad"),
            item("s3", attached="late-must-bad"),
        ]
        return Page(total_count=3, edges=edges)


SLOTS = """
{
  page {
    totalCount
    edges {
      cursor
      node { number size total { value } doc { title link laterLink mustLink laterMust } parts { label } }
    }
  }
  brokenPage { edges { node { size number doc { title link } } } }
  strictPage {
    edges { node { number must doc { title } attachment { title laterLink mustLink laterMust } } }
  }
}
"""


def slots_answer(schema: strawberry.Schema) -> tuple[dict[str, Any], list[str]]:
    CALLS.clear()
    result = asyncio.run(schema.execute(SLOTS))
    errors = sorted(
        (e.message, tuple(e.path or ()), tuple((loc.line, loc.column) for loc in e.locations or ()))
        for e in result.errors or ()
    )
    return {"data": result.data, "errors": errors}, sorted(CALLS)


def test_slots_give_the_same_data_errors_and_resolver_calls_as_graphql_core() -> None:
    fast_schema = strawberry.Schema(query=SlotsQuery, execution_context_class=ShortcutExecutionContext)
    fast, fast_calls = slots_answer(fast_schema)
    plain, plain_calls = slots_answer(strawberry.Schema(query=SlotsQuery))
    assert fast == plain
    assert fast_calls == plain_calls  # no resolver is called twice, none skipped
    paths = {path for _, path, _ in plain["errors"]}
    assert {
        ("page", "edges", 1, "node", "doc", "link"),
        ("page", "edges", 2, "node", "doc", "laterLink"),
        ("page", "edges", 3, "node", "doc"),
        ("page", "edges", 5, "node", "size"),
        ("page", "edges", 6, "node", "doc", "mustLink"),
        ("page", "edges", 7, "node", "doc", "laterMust"),
        ("strictPage", "edges", 1, "node", "attachment", "mustLink"),
        ("strictPage", "edges", 2, "node", "attachment", "laterMust"),
        ("brokenPage", "edges", 1, "node", "number"),
        ("brokenPage", "edges", 1, "node", "size"),  # len(None)
    } == paths
    edges = plain["data"]["page"]["edges"]
    assert edges[0] == {
        "cursor": "c-a1",
        "node": {
            "number": "a1",
            "size": 2,
            "total": {"value": "1"},
            "doc": {
                "title": "t",
                "link": "/d/t",
                "laterLink": "/l/t",
                "mustLink": "/m/t",
                "laterMust": "/lm/t",
            },
            "parts": [{"label": "a1"}],
        },
    }
    assert list(edges[0]["node"]) == ["number", "size", "total", "doc", "parts"]  # the selection's order
    assert edges[4]["node"]["doc"] is None and edges[5]["node"]["doc"]["laterLink"] is None
    assert edges[6]["node"]["doc"] is None and edges[7]["node"]["doc"] is None
    strict = [edge["node"]["attachment"] for edge in plain["data"]["strictPage"]["edges"]]
    assert strict == [
        {"title": "ok", "laterLink": "/l/ok", "mustLink": "/m/ok", "laterMust": "/lm/ok"},
        None,
        None,
    ]
    assert plain["data"]["brokenPage"] is None
    # Which selections became deep shapes: the page (its rows' documents and sizes are slots), the broken
    # page (refused at run time, then graphql-core's), a document (its non-null fields are slots of its own
    # object) and an attachment; not the strict page (``must`` is non-null, in a row, not the page's object)
    kept = _SHAPES[fast_schema._schema].items()
    deep = {nodes[0].name.value for key, (nodes, shape) in kept if shape is not None and shape.deep}
    assert {"page", "brokenPage", "doc", "attachment"} <= deep
    assert "strictPage" not in deep


# Slots resolved ahead: a row's field that its page has fetched already is built with the row, without the
# resolver's call; where the mark gives nothing or its value does not build, the resolver is called.

RESOLVER_CALLS: list[str] = []


@strawberry.type
class Part:
    name: str

    @strawberry.field
    def loud(self) -> str | None:
        RESOLVER_CALLS.append(f"loud {self.name}")
        return self.name.upper()


@strawberry.type
class Holder:
    key: str
    # The parts' names as the page fetched them; None: not fetched; "raise": what breaks the mark.
    fetched: strawberry.Private[Any]

    def _parts_ahead(self) -> list[Part]:
        if self.fetched is None:
            return NOT_AHEAD  # type: ignore[no-any-return]
        if self.fetched == "raise":
            raise ValueError("mark failed")
        return [Part(name=name) for name in self.fetched]

    @strawberry.field
    @resolved_ahead(_parts_ahead)
    def parts(self) -> list[Part] | None:
        RESOLVER_CALLS.append(f"parts {self.key}")
        if self.fetched == "raise":
            raise ValueError("parts failed")
        names = [f"late-{self.key}"] if self.fetched is None else self.fetched
        return [Part(name=name) for name in names]


@strawberry.type
class AheadQuery:
    @strawberry.field
    def holders(self) -> list[Holder]:
        return [
            Holder(key="k1", fetched=["a", "b"]),  # built ahead
            Holder(key="k2", fetched=None),  # the resolver fetches
            Holder(key="k3", fetched="raise"),  # the resolver reports the error
            Holder(key="k4", fetched=["c", None]),  # a null name: the resolver's value, graphql-core's error
            Holder(key="k5", fetched=[]),
        ]


def ahead_answer(schema: strawberry.Schema, query: str) -> tuple[dict[str, Any], list[str]]:
    RESOLVER_CALLS.clear()
    result = asyncio.run(schema.execute(query))
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or ())
    return {"data": result.data, "errors": errors}, sorted(RESOLVER_CALLS)


@pytest.mark.parametrize("selection", ["name", "name loud"])  # a shallow value, and one with slots of its own
def test_slots_resolved_ahead_give_the_same_answers_without_the_resolvers_call(selection: str) -> None:
    query = f"{{ holders {{ key parts {{ {selection} }} }} }}"
    fast_schema = strawberry.Schema(query=AheadQuery, execution_context_class=ShortcutExecutionContext)
    fast, fast_calls = ahead_answer(fast_schema, query)
    plain, plain_calls = ahead_answer(strawberry.Schema(query=AheadQuery), query)
    assert fast == plain
    assert {path for _, path in plain["errors"]} == {
        ("holders", 2, "parts"),
        ("holders", 3, "parts", 1, "name"),
    }
    parts = [holder["parts"] for holder in plain["data"]["holders"]]
    assert [p and [part["name"] for part in p] for p in parts] == [["a", "b"], ["late-k2"], None, None, []]
    # The resolver runs only where the mark gave nothing or its value did not build; every part's own
    # resolver (``loud``) runs once, whichever way its part was built.
    assert [c for c in plain_calls if c.startswith("parts")] == [f"parts k{n}" for n in range(1, 6)]
    assert [c for c in fast_calls if c.startswith("parts")] == ["parts k2", "parts k3", "parts k4"]
    assert [c for c in fast_calls if c.startswith("loud")] == [c for c in plain_calls if c.startswith("loud")]


# Inline leaves: a leaf whose resolver needs only its parent and the request's context is answered where it
# stands, by its mark; where the mark raises, graphql-core's path calls the resolver, which reports it.

INLINE_CALLS: list[str] = []


def _signed(attachment: Attachment, context: dict[str, Any]) -> str:
    user = context["user"]
    if user is None or attachment.title == "secret":
        raise PermissionError(f"no link to {attachment.title}")
    return f"/s/{attachment.title}?for={user}"


@strawberry.type
class Attachment:
    title: str

    @strawberry.field
    @resolved_inline(_signed)
    def link(self, info: strawberry.Info) -> str:
        INLINE_CALLS.append(f"link {self.title}")
        return _signed(self, info.context)

    @strawberry.field
    @resolved_inline(lambda attachment, context: None if attachment.title == "none" else attachment.title)
    def maybe(self) -> str | None:
        INLINE_CALLS.append(f"maybe {self.title}")
        return None if self.title == "none" else self.title


@strawberry.type
class Letter:
    key: str
    attached: strawberry.Private[list[str] | None]  # what the page fetched; None: not fetched

    def _attachments_ahead(self) -> list[Attachment]:
        if self.attached is None:
            return NOT_AHEAD  # type: ignore[no-any-return]
        return [Attachment(title=title) for title in self.attached]

    @strawberry.field
    @resolved_ahead(_attachments_ahead)
    def attachments(self) -> list[Attachment] | None:
        INLINE_CALLS.append(f"attachments {self.key}")
        return [Attachment(title=title) for title in self.attached or [f"late-{self.key}"]]


@strawberry.type
class InlineQuery:
    @strawberry.field
    def letters(self) -> list[Letter]:
        return [
            Letter(key="l1", attached=["a", "none"]),  # built ahead, links inline
            Letter(key="l2", attached=None),  # the attachments' resolver runs; links inline all the same
            Letter(key="l3", attached=["b", "secret"]),  # a link's mark raises: the resolvers report it
        ]

    @strawberry.field
    def attachments(self) -> list[Attachment] | None:
        return [Attachment(title="x"), Attachment(title="none")]


INLINE = "{ letters { key attachments { title link maybe } } attachments { title link maybe } }"


def inline_answer(schema: strawberry.Schema, user: str | None) -> tuple[dict[str, Any], list[str]]:
    INLINE_CALLS.clear()
    result = asyncio.run(schema.execute(INLINE, context_value={"user": user}))
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or ())
    return {"data": result.data, "errors": errors}, sorted(INLINE_CALLS)


@pytest.mark.parametrize("user", ["u1", None])  # a caller the marks serve; one every link's mark refuses
def test_inline_leaves_give_the_same_answers_without_the_resolvers_call(user: str | None) -> None:
    fast_schema = strawberry.Schema(query=InlineQuery, execution_context_class=ShortcutExecutionContext)
    fast, fast_calls = inline_answer(fast_schema, user)
    plain, plain_calls = inline_answer(strawberry.Schema(query=InlineQuery), user)
    assert fast == plain
    letters = plain["data"]["letters"]
    assert [letter["key"] for letter in letters] == ["l1", "l2", "l3"]
    if user is not None:
        assert plain["errors"] == [("no link to secret", ("letters", 2, "attachments", 1, "link"))]
        assert letters[0]["attachments"] == [
            {"title": "a", "link": "/s/a?for=u1", "maybe": "a"},
            {"title": "none", "link": "/s/none?for=u1", "maybe": None},
        ]
        assert letters[1]["attachments"] == [
            {"title": "late-l2", "link": "/s/late-l2?for=u1", "maybe": "late-l2"}
        ]
        assert letters[2]["attachments"] is None  # the non-null link's error nulls the list
        # The attachments' resolver runs where they were not fetched ahead (l2) and where a link's mark
        # raised in them (l3); of the links' resolvers only the one whose mark raised (each row of a list
        # graphql-core completes is tried by its shape again).
        assert [c for c in fast_calls if c.startswith("attachments")] == ["attachments l2", "attachments l3"]
        assert [c for c in fast_calls if c.startswith(("link", "maybe"))] == ["link secret"]
        assert {"link a", "maybe a", "link late-l2", "link x"} <= set(plain_calls)
    else:  # every link's mark and resolver refuse: each list's first error nulls it
        assert [letter["attachments"] for letter in letters] == [None, None, None]
        assert plain["data"]["attachments"] is None
        assert {path for _, path in plain["errors"]} == {
            ("letters", 0, "attachments", 0, "link"),
            ("letters", 1, "attachments", 0, "link"),
            ("letters", 2, "attachments", 0, "link"),
            ("attachments", 0, "link"),
        }


# A row's type is checked as Strawberry checks it: an instance of the type's own class is accepted without
# asking, one cast to another type (``strawberry.cast``) or of another class is asked about as before.


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Dog(Named):
    barks: bool


@strawberry.type
class Cat(Named):
    purrs: bool


@strawberry.type
class PetsQuery:
    @strawberry.field
    def dogs(self) -> list[Dog | None]:
        stray: Any = Cat(name="c", purrs=True)
        cast_away = strawberry.cast(Cat, Dog(name="d2", barks=False))
        return [Dog(name="d1", barks=True), cast_away, stray]


def test_rows_of_the_types_own_class_are_accepted_and_others_asked_about() -> None:
    query = "{ dogs { name barks } }"
    fast = strawberry.Schema(query=PetsQuery, types=[Cat], execution_context_class=ShortcutExecutionContext)
    plain = strawberry.Schema(query=PetsQuery, types=[Cat])
    answers = [s.execute_sync(query) for s in (fast, plain)]
    assert answers[0].data == answers[1].data == {"dogs": [{"name": "d1", "barks": True}, None, None]}
    errors = [sorted((e.message, tuple(e.path or ())) for e in a.errors or ()) for a in answers]
    assert errors[0] == errors[1]
    # the cast dog is refused; the cat, a Named (the interface Dog implements), is taken and lacks ``barks``
    assert {path for _, path in errors[0]} == {("dogs", 1), ("dogs", 2, "barks")}
