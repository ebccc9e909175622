"""Start the loads a client's fields will make as soon as the client ids are known: a hint, not a door.

A field that returns clients has to wait for their records before GraphQL resolves anything below them
(``viewer.clients`` sorts by name; ``Permit.holder`` and ``client(id:)`` build the client from its record).
Left alone, a client's invoices, permits or balance would be asked for only once the records are in: one more
dependent upstream round trip per query. ``prefetch_client_fields`` looks ahead at the selection and calls the
resolvers those fields will call, with the same arguments, concurrently with the record lookup.

Nothing reaches the caller this way. The calls go through the same resolvers, which authorise first, and their
answers only warm this request's DataLoaders: each field still calls its resolver later, which authorises
again and takes the answer from the loader's cache. A call the caller may not make fails here quietly (the
field reports it), and no upstream call is made for a client outside the caller's reach.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    value_from_ast,
)
from strawberry.types.nodes import get_variable_values

from resolvers.context import Context

# A client field's resolver call: (context, client id, the field's coerced arguments by GraphQL name).
ClientLoad = Callable[[Context, str, dict[str, Any]], Awaitable[object]]


def prefetch_client_fields(
    info: strawberry.Info[Context, None],
    client_ids: Iterable[str],
    loads: dict[str, ClientLoad],
    path: Sequence[str] = (),
) -> None:
    """Start ``loads`` for each client in ``client_ids`` and each of its fields the query selects.

    ``path`` leads from the current field to the client-typed field (``("client",)`` from
    ``Viewer.clients``; empty when the current field is the client).
    """
    raw = info._raw_info
    nodes = _nodes_at(raw, path)
    if not nodes:
        return
    client_type = raw.schema.get_type("Client")
    assert isinstance(client_type, GraphQLObjectType)
    variables = get_variable_values(raw)
    calls: list[tuple[ClientLoad, dict[str, Any]]] = []
    for field_name, load in loads.items():
        definition = client_type.fields[field_name]
        for node in (c for n in nodes for c in _selected(raw, n.selection_set, field_name)):
            arguments = {}
            for arg_name, arg in definition.args.items():
                given = next((a.value for a in node.arguments or () if a.name.value == arg_name), None)
                value = Undefined if given is None else value_from_ast(given, arg.type, variables)
                arguments[arg_name] = arg.default_value if value is Undefined else value
            calls.append((load, arguments))
    ctx = info.context
    for client_id in dict.fromkeys(client_ids):
        for load, arguments in calls:
            _start(ctx, load(ctx, client_id, arguments))


def selects(info: strawberry.Info[Context, None], *path: str) -> bool:
    """True when the query selects ``path`` (field names) below the current field, in any fragment."""
    return bool(_nodes_at(info._raw_info, path))


def _nodes_at(raw: GraphQLResolveInfo[Any], path: Sequence[str]) -> list[FieldNode]:
    """The field nodes ``path`` leads to from the current field (several when fragments repeat a field)."""
    nodes = list(raw.field_nodes)
    for name in path:
        nodes = [child for node in nodes for child in _selected(raw, node.selection_set, name)]
    return nodes


def _selected(
    raw: GraphQLResolveInfo[Any], selection_set: SelectionSetNode | None, name: str
) -> Iterator[FieldNode]:
    """The fields called ``name`` in a selection set, fragments included."""
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            if selection.name.value == name:
                yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _selected(raw, selection.selection_set, name)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = raw.fragments.get(selection.name.value)
            if fragment is not None:
                yield from _selected(raw, fragment.selection_set, name)


def _start(ctx: Context, call: Awaitable[object]) -> None:
    task = asyncio.ensure_future(call)
    # Held until done (the loop keeps only weak references); the outcome is the field's business.
    pending: set[asyncio.Future[object]] = ctx.extra.setdefault("prefetch", set())
    pending.add(task)
    task.add_done_callback(_forget(pending))


def _forget(pending: set[asyncio.Future[object]]) -> Callable[[asyncio.Future[object]], None]:
    def done(task: asyncio.Future[object]) -> None:
        pending.discard(task)
        if not task.cancelled():
            task.exception()

    return done
