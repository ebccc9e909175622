"""The query cost limit (DESIGN.md's request path, step 3): a document whose estimated answer is too large is
refused before anything runs, with ``QUERY_TOO_COMPLEX``.

Depth, aliases and tokens bound a document's text; they do not bound its answer: twenty aliases of a client's
100 permits with their stations and assignments stay within them. The estimate is the number of values the
answer could hold: each field counts once for every row it can appear in. A connection (a field with a
``first`` argument) has ``first`` rows in its ``edges`` (capped at 100, as the connections cap it; 100 when it
comes from a variable, which validation does not see), and one ``totalCount`` and ``pageInfo``; any other
list multiplies what is below it by ``LIST_GUESS``. Fragments count where they are spread.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLError,
    GraphQLList,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    is_composite_type,
)

from resolvers.paging import MAX_PAGE

LIST_GUESS = 10  # rows assumed in a list without `first` (a permit's stations, a station's assignments)
DEFAULT_FIRST = 20
COST_MESSAGE = "estimated cost"  # in every refusal's message: ``schema.errors`` maps it to QUERY_TOO_COMPLEX


def cost_limit(max_cost: int) -> type[ValidationRule]:
    """The rule refusing operations whose estimated cost is over ``max_cost`` (built once per schema)."""

    class QueryCostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            context: ValidationContext = self.context
            root = context.schema.get_root_type(node.operation)
            if root is None:
                return
            cost = _cost(context, root, node.selection_set, 1, set())
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"The query's {COST_MESSAGE} is {cost:,} values, over the limit of {max_cost:,}: ask "
                        "for fewer rows (`first`) or fields at once, or split it into several queries.",
                        node,
                    )
                )

    return QueryCostLimit


def _cost(
    context: ValidationContext,
    parent: GraphQLCompositeType,
    selection_set: SelectionSetNode | None,
    rows: int,
    spreading: set[str],
    page: int | None = None,
) -> int:
    """The values a selection set can give for ``rows`` parents of type ``parent`` (a connection, with
    ``page`` rows in its edges)."""
    total = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            total += _field_cost(context, parent, selection, rows, spreading, page)
        elif isinstance(selection, InlineFragmentNode):
            own = parent
            if selection.type_condition is not None:
                named = context.schema.get_type(selection.type_condition.name.value)
                own = named if is_composite_type(named) else parent
            total += _cost(context, own, selection.selection_set, rows, spreading, page)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is None or name in spreading:  # unknown or cyclic: other rules report it
                continue
            named = context.schema.get_type(fragment.type_condition.name.value)
            own = named if is_composite_type(named) else parent
            total += _cost(context, own, fragment.selection_set, rows, spreading | {name}, page)
    return total


def _field_cost(
    context: ValidationContext,
    parent: GraphQLCompositeType,
    node: FieldNode,
    rows: int,
    spreading: set[str],
    page: int | None,
) -> int:
    field = getattr(parent, "fields", {}).get(node.name.value)  # a union has none of its own
    if field is None:  # __typename, or an unknown field (another rule reports it)
        return rows
    below, its_page = rows, None
    if "first" in field.args:
        its_page = _first(node)
    elif node.name.value == "edges" and page is not None:
        below = rows * page
    elif isinstance(get_nullable_type(field.type), GraphQLList):
        below = rows * LIST_GUESS
    named = get_named_type(field.type)
    if not is_composite_type(named):
        return below
    return rows + _cost(context, named, node.selection_set, below, spreading, its_page)


def _first(node: FieldNode) -> int:
    """The rows a connection field asks for: its ``first`` as the connections read it."""
    given = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
    if given is None:
        return DEFAULT_FIRST
    if isinstance(given, IntValueNode):
        return max(1, min(int(given.value), MAX_PAGE))
    return MAX_PAGE
