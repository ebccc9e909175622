"""graphql-core's executor with a shortcut for the commonest field of every answer.

Most fields of an answer are leaves read straight off the object: an invoice's number, an amount, a status.
Strawberry marks them "basic" (no resolver, no extensions, no arguments), but graphql-core still builds a
resolve-info object, looks for arguments, calls Strawberry's wrapper, which calls the default resolver, and
runs the generic completion for each of them: measured, most of the CPU of a large answer.

``LeafShortcutExecutionContext`` reads such a field with ``getattr`` and serialises it with its scalar or enum
type, exactly what that path ends in. Whatever it cannot finish the same way (a null, a value the type
refuses, a field with middleware around it) goes down graphql-core's own path, which then reports it as
usual; so answers and errors are the same, only cheaper (``tests/contract/test_execution.py`` compares them).
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# (type name, field name) → (attribute, serialise, nullable)
Plan = dict[tuple[str, str], tuple[str, Any, bool]]
_PLANS: WeakKeyDictionary[GraphQLSchema, Plan] = WeakKeyDictionary()
_MISSING = object()


def leaf_plan(schema: GraphQLSchema) -> Plan:
    """The basic leaf fields of a schema, worked out once per schema."""
    plan = _PLANS.get(schema)
    if plan is None:
        plan = {}
        for type_name, graphql_type in schema.type_map.items():
            if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
                continue
            for field_name, field in graphql_type.fields.items():
                definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
                leaf = get_nullable_type(field.type)
                if (
                    isinstance(definition, StrawberryField)
                    and definition.is_basic_field
                    and not field.args
                    and is_leaf_type(leaf)
                ):
                    nullable = not is_non_null_type(field.type)
                    plan[type_name, field_name] = (definition.python_name, leaf.serialize, nullable)
        _PLANS[schema] = plan
    return plan


class LeafShortcutExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with basic leaf fields read and serialised directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._leaves = {} if manager is not None and manager.middlewares else leaf_plan(self.schema)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        shortcut = self._leaves.get((parent_type.name, field_details_list[0].node.name.value))
        if shortcut is not None:
            attribute, serialize, nullable = shortcut
            value = getattr(source, attribute, _MISSING)
            if value is None:
                if nullable:
                    return None
            elif value is not _MISSING:
                try:
                    serialized = serialize(value)
                except Exception:  # graphql-core's path below reports it as usual
                    serialized = None
                if serialized is not None and serialized is not Undefined:
                    return serialized
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
