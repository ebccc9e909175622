"""Leaner resolver calls for the fields whose arguments need no converting.

For every field with a resolver, Strawberry hands graphql-core a wrapper that, on each call, builds the
``Info`` object, converts the arguments, builds the chain of field extensions (even when there is none)
and only then calls the resolver; an async resolver gets one more coroutine around it. For a field without
extensions or exception handlers whose arguments are all scalars or enums (each perhaps optional), all of
that comes down to three things: the resolver gets the parent object as ``self``, the arguments graphql-core
has already coerced under their Python names (Strawberry's conversion returns such values as they are) and,
when it asks for it, the ``Info``. ``lean_resolvers`` replaces the wrapper of such fields with a function
that does just these, decided once when the schema is built. Everything else stays Strawberry's: fields with
an argument of a list, input, ``GlobalID`` or ``Maybe`` type, with extensions (permission classes among
them), resolvers that take ``root`` or ``parent``, and every schema with exception handlers.

What graphql-core does around the call (errors, completion, awaiting) is unchanged, and so are the answers
and errors (``tests/unit/test_resolving.py`` compares them with Strawberry's own wrappers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import strawberry
from graphql import GraphQLObjectType
from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField


def lean_resolvers(schema: strawberry.Schema) -> list[str]:
    """Give the eligible fields of ``schema`` the lean call; returns their names (``Type.field``)."""
    if schema.exception_handlers:
        return []  # a handler may turn a resolver's exception into a result: Strawberry's wrapper does that
    info_class = schema.config.info_class
    registry = schema.schema_converter.scalar_registry
    replaced = []
    for type_name, graphql_type in schema._schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, graphql_field in graphql_type.fields.items():
            field = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(field, StrawberryField) or not _eligible(field, registry):
                continue
            renamed = {schema.config.name_converter.from_argument(a): a.python_name for a in field.arguments}
            graphql_field.resolve = _lean(field, info_class, renamed)
            replaced.append(f"{type_name}.{field_name}")
    return replaced


def _eligible(field: StrawberryField, registry: Mapping[object, Any]) -> bool:
    resolver = field.base_resolver
    return (
        resolver is not None
        and not field.extensions
        and all(_as_coerced(argument, registry) for argument in field.arguments)
        and not field.is_subscription
        and resolver.root_parameter is None
        and resolver.parent_parameter is None
        and callable(resolver.wrapped_func)
    )


def _as_coerced(argument: StrawberryArgument, registry: Mapping[object, Any]) -> bool:
    """Whether Strawberry passes this argument's value on as graphql-core coerced it: a scalar or an enum,
    perhaps optional (``convert_argument`` returns those, and ``None``, unchanged)."""
    type_ = argument.type
    if isinstance(type_, StrawberryMaybe):
        return False  # wrapped in Some()
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    if type_ is GlobalID:
        return False  # decoded from its string
    return isinstance(type_, StrawberryEnumDefinition) or is_scalar(type_, registry)


def _lean(field: StrawberryField, info_class: type[Any], renamed: dict[str, str]) -> Callable[..., Any]:
    """The call of ``field``'s resolver as Strawberry makes it, without the per-call machinery.
    ``renamed`` maps each argument's GraphQL name to its Python name."""
    resolver = field.base_resolver
    assert resolver is not None
    function = cast(Callable[..., Any], resolver.wrapped_func)  # callable: checked by _eligible
    if any(graphql != python for graphql, python in renamed.items()):
        plain = function

        def function(*args: Any, **kwargs: Any) -> Any:
            return plain(*args, **{renamed.get(name, name): value for name, value in kwargs.items()})

    takes_self = resolver.self_parameter is not None
    info_parameter = resolver.info_parameter
    if info_parameter is None:
        if takes_self:
            return lambda source, info, **kwargs: function(source, **kwargs)
        return lambda source, info, **kwargs: function(**kwargs)
    info_name = info_parameter.name

    if takes_self:

        def with_self_and_info(source: Any, info: Any, **kwargs: Any) -> Any:
            return function(source, **kwargs, **{info_name: info_class(_raw_info=info, _field=field)})

        return with_self_and_info

    def with_info(source: Any, info: Any, **kwargs: Any) -> Any:
        return function(**kwargs, **{info_name: info_class(_raw_info=info, _field=field)})

    return with_info
