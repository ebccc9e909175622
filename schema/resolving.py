"""Leaner resolver calls for the fields whose resolvers take no arguments.

For every field with a resolver, Strawberry hands graphql-core a wrapper that, on each call, builds the
``Info`` object, converts the arguments, builds the chain of field extensions (even when there is none)
and only then calls the resolver; an async resolver gets one more coroutine around it. For a field without
arguments, extensions or exception handlers all of that comes down to two things: the resolver gets the
parent object as ``self`` and, when it asks for it, the ``Info``. ``lean_resolvers`` replaces the wrapper of
such fields with a function that does just these, decided once when the schema is built. Everything else
stays Strawberry's: fields with arguments, with extensions (permission classes among them), resolvers that
take ``root`` or ``parent``, and every schema with exception handlers.

What graphql-core does around the call (errors, completion, awaiting) is unchanged, and so are the answers
and errors (``tests/unit/test_resolving.py`` compares them with Strawberry's own wrappers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import strawberry
from graphql import GraphQLObjectType
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField


def lean_resolvers(schema: strawberry.Schema) -> list[str]:
    """Give the eligible fields of ``schema`` the lean call; returns their names (``Type.field``)."""
    if schema.exception_handlers:
        return []  # a handler may turn a resolver's exception into a result: Strawberry's wrapper does that
    info_class = schema.config.info_class
    replaced = []
    for type_name, graphql_type in schema._schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, graphql_field in graphql_type.fields.items():
            field = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(field, StrawberryField) or not _eligible(field):
                continue
            graphql_field.resolve = _lean(field, info_class)
            replaced.append(f"{type_name}.{field_name}")
    return replaced


def _eligible(field: StrawberryField) -> bool:
    resolver = field.base_resolver
    return (
        resolver is not None
        and not field.extensions
        and not field.arguments
        and not field.is_subscription
        and resolver.root_parameter is None
        and resolver.parent_parameter is None
        and callable(resolver.wrapped_func)
    )


def _lean(field: StrawberryField, info_class: type[Any]) -> Callable[..., Any]:
    """The call of ``field``'s resolver as Strawberry makes it, without the per-call machinery."""
    resolver = field.base_resolver
    assert resolver is not None
    function = cast(Callable[..., Any], resolver.wrapped_func)  # callable: checked by _eligible
    takes_self = resolver.self_parameter is not None
    info_parameter = resolver.info_parameter
    if info_parameter is None:
        if takes_self:
            return lambda source, info: function(source)
        return lambda source, info: function()
    info_name = info_parameter.name

    if takes_self:

        def with_self_and_info(source: Any, info: Any) -> Any:
            return function(source, **{info_name: info_class(_raw_info=info, _field=field)})

        return with_self_and_info

    def with_info(source: Any, info: Any) -> Any:
        return function(**{info_name: info_class(_raw_info=info, _field=field)})

    return with_info
