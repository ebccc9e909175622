"""graphql-core's executor with shortcuts for the commonest fields of every answer: the basic ones.

Most fields of an answer are read straight off the object: an invoice's number, its total (a Money object),
a station's list of assignments. Strawberry marks them "basic" (no resolver, no extensions; here also no
arguments), but graphql-core still builds a resolve-info object, looks for arguments, calls Strawberry's
wrapper, which calls the default resolver, and runs the generic completion for each of them and for each
row of a list: measured, most of the CPU of a large answer. ``ShortcutExecutionContext`` does less, in
these ways, each ending exactly where graphql-core's path would:

- a basic **leaf** is read with ``getattr`` and serialised by its scalar or enum type (a Strawberry enum by a
  table of its members' names);
- a basic field whose whole selection is basic fields (a ``Money``, ``pageInfo``, a list of assignments) is
  built as plain dicts and lists by a ``Shape`` worked out once per query document (by a Python function
  written out for the shape when it is made, a ``str`` String or ID as itself); nothing in such a subtree has
  a resolver, so building it has no effect but its result;
- any other basic **object** field (an edge's ``node``) is read with ``getattr`` and handed to graphql-core's
  completion of its selection, with graphql-core's error handling;
- a **resolver's value** whose whole selection is basic fields (a permit's list of stations) is built by its
  shape too, instead of graphql-core completing each row and each of its fields;
- a **field with a resolver** in such a selection (a permit's stations within a page of permits, an
  invoice's document, a document's download link) is a *slot* of the shape: the whole value's basic fields
  are built first, then each slot is executed by graphql-core's own ``execute_field`` (resolver, errors,
  completion) and the awaitable ones are awaited together. A page of rows is then one walk, not graphql-core's
  calls per edge and node. A nullable slot may be anywhere: its errors null only itself. A non-null one only
  in the object being completed, whose answer its error nulls: it is raised to graphql-core, which nulls that
  object as its own completion would; deeper, it would have to null an object already built. A shape that
  refuses does so before any slot has run, so no resolver is ever called twice;
- a slot whose resolver is marked ``resolved_ahead`` (a row's field that its page's resolver has already
  fetched for every row, ``resolvers.rows``) is built with the rest of its row when the mark gives its
  value: the value the resolver would return, without the resolver's call, its ``Info`` and graphql-core's
  completion around it. When the mark gives nothing (no outcome, or an error to report) or the value does
  not build, the slot is executed as any other, by the resolver;
- a leaf field whose resolver is marked ``resolved_inline`` (a document's download link: a value worked out
  from its parent and the request's context alone) is answered where it stands, by the mark, without the
  resolver's call and graphql-core's around it. Where the mark raises, the value it stands in is not built
  by its shape: graphql-core's path builds it, calls the resolver and reports the error as usual.

Whatever a shortcut cannot finish the same way (a null, a value its type refuses, a directive that depends
on variables, middleware around the fields) goes down graphql-core's own path, which then answers and
reports it as usual; so answers and errors are the same, only cheaper (``tests/unit/test_execution.py`` and
``tests/contract/test_execution.py`` compare them).
"""

from __future__ import annotations

import keyword
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from typing import Any, cast
from weakref import WeakKeyDictionary

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import collect_subfields
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.field import StrawberryField

_MISSING = object()
# What a ``resolved_ahead`` mark gives when it has no value for the parent: the resolver is called instead.
NOT_AHEAD: Any = object()
_AHEAD = "resolved_ahead"  # the attribute of a resolver function that holds its mark
_INLINE = "resolved_inline"  # the attribute of a resolver function that holds its inline mark
# The serialisers of String and ID, which give back any ``str`` as it is.
_OWN_STR = (GraphQLString.serialize, GraphQLID.serialize)
# Shapes kept across requests, per schema, keyed by the identity of their field nodes; each entry holds its
# nodes, so no other node can take their ids while it lives. Cleared when full: documents come and go with the
# parse cache.
_SHAPES_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class Basic:
    """A basic field of an object type: no resolver, no extensions, no arguments."""

    attribute: str
    nullable: bool
    # A leaf's serialiser (its scalar or enum type); None for an object or a list.
    serialize: Callable[[Any], Any] | None
    type: GraphQLOutputType  # the field's type
    output: GraphQLOutputType  # the field's type without non-null


# (type name, field name) → the basic field
Plan = dict[tuple[str, str], Basic]
_PLANS: WeakKeyDictionary[GraphQLSchema, Plan] = WeakKeyDictionary()
_ENUM_SERIALIZERS: WeakKeyDictionary[GraphQLEnumType, Callable[[Any], Any]] = WeakKeyDictionary()
Shapes = dict[tuple[Any, ...], tuple[tuple[FieldNode, ...], "Shape | None"]]
_SHAPES: WeakKeyDictionary[GraphQLSchema, Shapes] = WeakKeyDictionary()


def resolved_ahead(take: Callable[[Any], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Marks a resolver whose value some parents hold already: ``take(parent)`` gives exactly what the
    resolver would return for that parent, or ``NOT_AHEAD`` (then the resolver is called as usual). Only for
    a resolver without arguments or field extensions, whose call has no effect but its value."""

    def mark(resolver: Callable[..., Any]) -> Callable[..., Any]:
        setattr(resolver, _AHEAD, take)
        return resolver

    return mark


def resolved_inline(take: Callable[[Any, Any], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Marks a resolver of a leaf whose value needs only its parent and the request's context:
    ``take(parent, context)`` gives exactly what the resolver would return, or raises where the resolver
    would (then graphql-core's path calls the resolver, which reports it). Only for a synchronous resolver
    without arguments or field extensions, whose call has no effect but its value."""

    def mark(resolver: Callable[..., Any]) -> Callable[..., Any]:
        setattr(resolver, _INLINE, take)
        return resolver

    return mark


def basic_fields(schema: GraphQLSchema) -> Plan:
    """The basic fields of a schema's object types, worked out once per schema."""
    plan = _PLANS.get(schema)
    if plan is None:
        plan = {}
        for type_name, graphql_type in schema.type_map.items():
            if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
                continue
            for field_name, field in graphql_type.fields.items():
                definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
                if isinstance(definition, StrawberryField) and definition.is_basic_field and not field.args:
                    output = get_nullable_type(field.type)
                    serialize = _serializer(output) if is_leaf_type(output) else None
                    nullable = not is_non_null_type(field.type)
                    plan[type_name, field_name] = Basic(
                        definition.python_name, nullable, serialize, field.type, output
                    )
        _PLANS[schema] = plan
    return plan


def _serializer(leaf: Any) -> Callable[[Any], Any]:
    """A leaf type's serialiser; for a Strawberry enum, one that finds a member's name in a table.

    Strawberry's own compares the member's value with each of the enum's values in turn, on every call;
    anything but a member of the enum still goes to it, so errors are its own.
    """
    serialize: Callable[[Any], Any] = leaf.serialize
    if not isinstance(leaf, CustomGraphQLEnumType):
        return serialize
    fast = _ENUM_SERIALIZERS.get(leaf)
    if fast is None:
        members: Any = leaf.wrapped_cls
        names = {member: serialize(member) for member in members}

        def fast(value: Any) -> Any:
            return names[value] if type(value) is members else serialize(value)

        _ENUM_SERIALIZERS[leaf] = fast
    return fast


def _mark(field: GraphQLField, attribute: str) -> Any:
    """A mark (``resolved_ahead``, ``resolved_inline``) of a field's resolver; None when it has none, or
    arguments, field extensions or (an inline mark) a resolver that is not synchronous."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.extensions or field.args:
        return None
    resolver = definition.base_resolver
    if resolver is None or (attribute == _INLINE and resolver.is_async):
        return None
    return getattr(resolver.wrapped_func, attribute, None)


def _is_type(object_type: GraphQLObjectType, value: Any) -> bool:
    """True when the type has no ``is_type_of`` or it accepts ``value`` (Strawberry's ignores the info). An
    instance of the type's own class not cast to another (``strawberry.cast``) is one Strawberry's accepts:
    that is answered without asking it (a station, a permit: every row of a page)."""
    if object_type.is_type_of is None:
        return True
    definition = object_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    own = type(value) is getattr(definition, "origin", None)
    if own and TYPE_CAST_ATTRIBUTE not in getattr(value, "__dict__", ()):
        return True
    try:
        return object_type.is_type_of(value, None) is True  # type: ignore[arg-type]
    except Exception:
        return False


class _Refused(Exception):
    """A value a shape cannot build as graphql-core would; graphql-core's path builds it instead."""


@dataclass(frozen=True, slots=True)
class Shape:
    """How to build the answer of a field from its value, for a selection of basic fields and slots."""

    key: str  # the response key
    attribute: str
    nullable: bool
    serialize: Callable[[Any], Any] | None  # a leaf
    fields: tuple[Shape, ...] | None  # an object: its selected fields, in answer order
    object_type: GraphQLObjectType | None  # an object: its type (for ``is_type_of``)
    item: Shape | None  # a list: the shape of its items (attribute unused)
    typename: str | None = None  # ``__typename`` of an object type: that name
    own_str: bool = False  # a String or an ID: a ``str`` is its own answer, as graphql-core serialises it
    # A slot: a field with a resolver, executed by graphql-core's ``execute_field`` once the basic fields
    # around it are built (its parent type and field details, as collected for this document).
    slot: tuple[GraphQLObjectType, Any] | None = None
    # A slot whose resolver is marked ``resolved_ahead``: the mark and the shape of the field's value.
    ahead: tuple[Callable[[Any], Any], Shape] | None = None
    # A leaf whose resolver is marked ``resolved_inline``: the mark, called with the parent and the context.
    inline: Callable[[Any, Any], Any] | None = None
    deep: bool = False  # this shape or one below it has a slot: built with paths, slots listed
    # A shallow shape's ``build`` written out as a Python function (``_builder``); None for a deep one.
    fast: Callable[[Any], Any] | None = dataclass_field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.deep and self.typename is None:
            object.__setattr__(self, "fast", _builder(self))

    def build(self, value: Any, path: Path, slots: list[Slot], context: Any, ahead: bool = True) -> Any:
        """The answer for ``value`` by a deep shape (a shallow one has ``fast``); ``_Refused`` when
        graphql-core would answer differently (an error). Its slots are added to ``slots`` (left ``None`` in
        the answer), with their paths under ``path``, in the order graphql-core would execute them; with
        ``ahead``, those their resolvers' marks give a value for are built here instead. Inline leaves are
        answered by their marks, given ``context`` (the request's).
        """
        if value is None:
            if self.nullable:
                return None
            raise _Refused
        if self.item is not None:
            if not isinstance(value, list | tuple):
                raise _Refused
            item = self.item
            if item.fast is not None:
                return list(map(item.fast, value))
            return [
                item.build(row, Path(path, index, None), slots, context, ahead)
                for index, row in enumerate(value)
            ]
        object_type = self.object_type
        assert object_type is not None  # a deep shape is a list or an object
        if not _is_type(object_type, value):
            raise _Refused
        answer: dict[str, Any] = {}
        # A leaf is answered here, not by a call of its shape: most of what a shape builds is leaves.
        for field in self.fields or ():
            if field.typename is not None:
                answer[field.key] = field.typename
                continue
            if field.inline is not None:
                answer[field.key] = field._inlined(value, context)
                continue
            if field.slot is not None:
                try_ahead = ahead and field.ahead is not None
                if try_ahead and self._ahead(field, value, answer, path, slots, context):
                    continue
                answer[field.key] = None  # keeps the answer's order until the slot's value is in
                slots.append((answer, field.key, field, value, Path(path, field.key, object_type.name)))
                continue
            field_value = getattr(value, field.attribute, _MISSING)
            if field.own_str and type(field_value) is str:
                answer[field.key] = field_value
            elif field_value is _MISSING:
                raise _Refused
            elif field.serialize is not None and field_value is not None:
                answer[field.key] = _serialized(field.serialize, field_value)
            elif field.fast is not None:
                answer[field.key] = field.fast(field_value)
            else:
                answer[field.key] = field.build(
                    field_value, Path(path, field.key, object_type.name), slots, context, ahead
                )
        return answer

    def _inlined(self, parent: Any, context: Any) -> Any:
        """An inline leaf's answer from its mark; ``_Refused`` where the mark raises or its value would be
        an error (the resolver, called on graphql-core's path, reports it)."""
        assert self.inline is not None and self.serialize is not None
        try:
            value = self.inline(parent, context)
        except Exception:
            raise _Refused from None
        if value is None:
            if self.nullable:
                return None
            raise _Refused
        if self.own_str and type(value) is str:
            return value
        return _serialized(self.serialize, value)

    @staticmethod
    def _ahead(
        field: Shape, value: Any, answer: dict[str, Any], path: Path | None, slots: list[Slot], context: Any
    ) -> bool:
        """Builds a slot's answer from the value its resolver's mark gives, when it gives one and it builds;
        False leaves the slot to its resolver (whatever this built of it, slots included, is dropped)."""
        assert field.ahead is not None and field.object_type is None
        take, shape = field.ahead
        listed = len(slots)
        try:
            taken = take(value)
            if taken is NOT_AHEAD:
                return False
            if shape.fast is not None:
                answer[field.key] = shape.fast(taken)
            else:
                parent = field.slot[0].name if field.slot is not None else None
                answer[field.key] = shape.build(taken, Path(path, field.key, parent), slots, context)
        except Exception:  # the resolver, called instead, reports it as graphql-core would
            del slots[listed:]
            return False
        return True


# A slot to execute: the answer and key it goes in, its shape, the parent's value and its path.
Slot = tuple[dict[str, Any], str, Shape, Any, Path]
# A slot's answer still to come: where it goes, and the awaitable that gives it.
Pending = tuple[dict[str, Any], str, Awaitable[Any]]


def _serialized(serialize: Callable[[Any], Any], value: Any) -> Any:
    """A leaf's answer, by its type's serialiser; ``_Refused`` where graphql-core would report an error."""
    try:
        serialized = serialize(value)
    except Exception:
        raise _Refused from None
    if serialized is None or serialized is Undefined:
        raise _Refused
    return serialized


def _refuse() -> Any:
    raise _Refused


def _builder(shape: Shape) -> Callable[[Any], Any]:
    """The answer of a shallow shape (no slots), written out as a function: its fields read and answered in
    straight lines, no loop over them and no test of what kind each is (a page of stations is most of a
    large answer).

    It refuses where ``Shape.build`` refuses: a null where the type has none, a missing attribute, a value
    its type refuses; anything else a read raises goes up as from ``Shape.build``."""
    names: dict[str, Any] = {"_Refused": _Refused, "_refuse": _refuse, "_serialized": _serialized}
    lines = [
        "def build(value):",
        f"    if value is None: {'return None' if shape.nullable else 'raise _Refused'}",
    ]
    if shape.serialize is not None:
        names["serialize"] = shape.serialize
        if shape.own_str:
            lines.append("    if type(value) is str: return value")
        lines.append("    return _serialized(serialize, value)")
    elif shape.item is not None:
        names["item"] = shape.item.fast
        lines += [
            "    if not isinstance(value, (list, tuple)): raise _Refused",
            "    return list(map(item, value))",
        ]
    else:
        if shape.object_type is not None and shape.object_type.is_type_of is not None:
            names["_is_type"], names["object_type"] = _is_type, shape.object_type
            lines.append("    if not _is_type(object_type, value): raise _Refused")
        reads, entries = [], []
        for n, sub in enumerate(shape.fields or ()):
            if sub.typename is not None:
                entries.append(f"{sub.key!r}: {sub.typename!r}")
                continue
            if not sub.attribute.isidentifier() or keyword.iskeyword(sub.attribute):
                names[f"attribute{n}"] = sub.attribute
                reads.append(f"        v{n} = getattr(value, attribute{n})")
            else:
                reads.append(f"        v{n} = value.{sub.attribute}")
            if sub.serialize is not None:
                names[f"serialize{n}"] = sub.serialize
                leaf = f"_serialized(serialize{n}, v{n})"
                none = "None" if sub.nullable else "_refuse()"
                answer = f"{none} if v{n} is None else {leaf}"
                if sub.own_str:
                    answer = f"v{n} if type(v{n}) is str else ({answer})"
            else:
                names[f"build{n}"] = sub.fast
                answer = f"build{n}(v{n})"
            entries.append(f"{sub.key!r}: {answer}")
        if reads:
            lines += ["    try:", *reads, "    except AttributeError:", "        raise _Refused from None"]
        lines.append("    return {" + ", ".join(entries) + "}")
    exec("\n".join(lines), names)  # noqa: S102 (the text is made here from names and keys GraphQL allows)
    return cast(Callable[[Any], Any], names["build"])


def _plain(selection_set: SelectionSetNode | None, fragments: dict[str, Any], seen: set[str]) -> bool:
    """True when no selection below has a directive: what is collected then does not depend on variables."""
    if selection_set is None:
        return True
    for selection in selection_set.selections:
        if selection.directives:
            return False
        if isinstance(selection, FieldNode):
            if selection.arguments or not _plain(selection.selection_set, fragments, seen):
                return False
        elif isinstance(selection, InlineFragmentNode):
            if not _plain(selection.selection_set, fragments, seen):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen:
                continue
            seen.add(name)
            details = fragments.get(name)
            definition = getattr(details, "definition", details)
            if definition is None or definition.directives:
                return False
            if getattr(definition, "variable_definitions", None):
                return False
            if not _plain(definition.selection_set, fragments, seen):
                return False
        else:
            return False
    return True


def _execution_over(*_: Any) -> Any:
    raise RuntimeError("the operation's execution is over: no more work can be gathered or tracked")


_SPENT_HELPERS = GraphQLResolveInfoHelpers(gather=_execution_over, track=_execution_over)


class ShortcutExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with basic fields read and completed directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._basic = {} if manager is not None and manager.middlewares else basic_fields(self.schema)
        self._shapes = _SHAPES.setdefault(self.schema, {})
        self._mine: dict[int, tuple[Any, Shape | None]] = {}
        self._values: dict[tuple[int, int], tuple[Any, Shape | None]] = {}

    def build_response(self, data: Any) -> Any:
        """graphql-core's answer, and the end of the executor's cycle with its helpers for resolvers.

        The helpers are bound methods of the executor, which holds them: a reference cycle that kept every
        request's objects (context, loaders, records, futures) from being freed when the request ended, for
        the garbage collector to find (bench/README.md). Once the answer is built, nothing calls them.
        """
        response = super().build_response(data)
        if isinstance(response, ExecutionResult) and not self.background_futures:
            self.async_helpers = _SPENT_HELPERS
        return response

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        basic = self._basic.get((parent_type.name, field_details_list[0].node.name.value))
        if basic is not None:
            value = getattr(source, basic.attribute, _MISSING)
            if value is None:
                if basic.nullable:
                    return None
            elif value is not _MISSING:
                if basic.serialize is not None:
                    try:
                        return _serialized(basic.serialize, value)
                    except _Refused:  # graphql-core's path below reports it as usual
                        pass
                else:
                    shape = self._shape(parent_type, field_details_list)
                    if shape is not None:
                        try:
                            completed = self._built(shape, value, path, position_context)
                        except _Refused:
                            pass
                        except Exception as raw_error:  # a non-null slot failed: null here, as graphql-core
                            self.handle_field_error(raw_error, basic.type, field_details_list, path)
                            return None
                        else:
                            if self.is_awaitable(completed):
                                return self._await_completed(completed, basic.type, field_details_list, path)
                            return completed
                    elif isinstance(basic.output, GraphQLObjectType) and _is_type(basic.output, value):
                        return self._complete_object(basic, field_details_list, path, value, position_context)
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's completion, unless the value's selection is all basic fields: then its shape."""
        # Called for every value graphql-core completes, each row of a list included (with the row's type).
        mine = self._values.get((id(field_details_list), id(return_type)))
        shape = mine[1] if mine is not None else self._value_shape(return_type, field_details_list)
        if shape is not None and not isinstance(result, Exception):
            try:
                return self._built(shape, result, path, position_context)
            except _Refused:
                pass
        return super().complete_value(return_type, field_details_list, info, path, result, position_context)

    def _built(self, shape: Shape, value: Any, path: Any, position_context: Any) -> Any:
        """``value``'s answer by ``shape``: ``_Refused`` before anything has run, else the answer or an
        awaitable of it. A deep shape's basic fields are all built first; only then are its slots executed,
        each by graphql-core's ``execute_field`` (its resolver, errors and completion as usual), and those
        that return awaitables are awaited together.

        A non-null slot (only in the value's own object) that fails raises its located error, here or from
        the awaitable, for the caller to null this value, as graphql-core's completion of the object would;
        the slots still pending are then settled in the background, as graphql-core settles them.

        A value with ``rows_loading`` not ``done()`` (a page whose rows' field is still being fetched)
        has its slots run once that is in."""
        if shape.fast is not None:
            return shape.fast(value)
        slots: list[Slot] = []
        loading = getattr(value, "rows_loading", None)
        if loading is not None and not loading.done():  # the rows' marks give nothing yet: not tried
            answer = shape.build(value, path, slots, self.context_value, ahead=False)
            if slots:
                return self._slots_later(loading, answer, slots, position_context)
        else:
            answer = shape.build(value, path, slots, self.context_value)
        return self._run_slots(answer, slots, position_context, ahead=False)

    async def _slots_later(
        self, loading: Awaitable[Any], answer: Any, slots: list[Slot], position_context: Any
    ) -> Any:
        """The slots of a value whose rows' resolvers wait for ``loading`` (a page's ``rows_loading``), run
        once it is in: the rest of the value is built meanwhile, and its rows' resolvers need not wait
        each on its own."""
        await loading
        completed = self._run_slots(answer, slots, position_context, ahead=True)
        return await completed if self.is_awaitable(completed) else completed

    def _run_slots(self, answer: Any, slots: list[Slot], position_context: Any, ahead: bool) -> Any:
        """Each slot's answer by graphql-core's ``execute_field``, or with ``ahead`` (the value was built
        before its rows' field was in, so its marks were not tried) from its resolver's mark when that gives
        one; an awaitable when any is pending."""
        pending: list[Pending] = []
        execute_field = super().execute_field
        try:
            for container, key, field, source, field_path in slots:  # an ahead slot may add slots of its own
                if (
                    ahead
                    and field.ahead
                    and Shape._ahead(field, source, container, field_path.prev, slots, self.context_value)
                ):
                    continue
                assert field.slot is not None
                parent_type, field_details_list = field.slot
                result = execute_field(parent_type, source, field_details_list, field_path, position_context)
                if self.is_awaitable(result):
                    pending.append((container, key, result))
                else:
                    container[key] = result
        except Exception:
            if pending:
                self.settle_in_background([awaitable for _, _, awaitable in pending])
            raise
        return self._filled(answer, pending) if pending else answer

    async def _filled(self, answer: Any, pending: list[Pending]) -> Any:
        if len(pending) == 1:
            container, key, awaitable = pending[0]
            container[key] = await awaitable
        else:
            results = await gather_with_cancel(*(awaitable for _, _, awaitable in pending))
            for (container, key, _), result in zip(pending, results, strict=True):
                container[key] = result
        return answer

    def _complete_object(
        self, basic: Basic, field_details_list: Any, path: Any, value: Any, position_context: Any
    ) -> Any:
        """What graphql-core's ``execute_field`` does with an object value, less the resolver call."""
        object_type = cast(GraphQLObjectType, basic.output)
        try:
            completed = self.collect_and_execute_subfields(
                object_type, field_details_list, path, value, position_context
            )
            if self.is_awaitable(completed):
                return self._await_completed(completed, basic.type, field_details_list, path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, basic.type, field_details_list, path)
            return None
        return completed

    async def _await_completed(
        self, completed: Awaitable[Any], return_type: GraphQLOutputType, field_details_list: Any, path: Any
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None

    def _shape(self, parent_type: GraphQLObjectType, field_details_list: Any) -> Shape | None:
        """The shape of a basic field's answer, when its selection is all basic fields; else None."""
        # graphql-core hands every row of a list the same field details list, so within a request its
        # identity finds the shape; the entry holds the list, so that no other object takes its id.
        mine = self._mine.get(id(field_details_list))
        if mine is not None:
            return mine[1]
        shape = self._kept_shape(parent_type, field_details_list)
        self._mine[id(field_details_list)] = (field_details_list, shape)
        return shape

    def _value_shape(self, return_type: GraphQLOutputType, field_details_list: Any) -> Shape | None:
        """The shape of a value of ``return_type`` under these fields, when their selection is all basic."""
        shape = None
        if not is_leaf_type(get_nullable_type(return_type)):  # a leaf costs graphql-core little
            shape = self._kept(
                ("value", id(return_type)),
                field_details_list,
                lambda: self._compile_value(return_type, field_details_list, top=True),
            )
        # the entry holds the list, so that no other object takes its id within the request
        self._values[id(field_details_list), id(return_type)] = (field_details_list, shape)
        return shape

    def _kept_shape(self, parent_type: GraphQLObjectType, field_details_list: Any) -> Shape | None:
        return self._kept(
            (parent_type.name,),
            field_details_list,
            lambda: self._compile_value_of(parent_type, field_details_list),
        )

    def _compile_value_of(self, parent_type: GraphQLObjectType, field_details_list: Any) -> Shape | None:
        """The shape of a basic field's value, the top of what it builds."""
        basic = self._basic.get((parent_type.name, field_details_list[0].node.name.value))
        return None if basic is None else self._compile_value(basic.type, field_details_list, top=True)

    def _kept(
        self, kind: tuple[Any, ...], field_details_list: Any, compile: Callable[[], Shape | None]
    ) -> Shape | None:
        """A shape kept across requests for these field nodes (``kind`` tells what it is the shape of)."""
        nodes = tuple(details.node for details in field_details_list)
        key = (*kind, *map(id, nodes))
        cached = self._shapes.get(key)
        if cached is not None:
            return cached[1]
        shape = compile()
        if len(self._shapes) >= _SHAPES_LIMIT:
            self._shapes.clear()
        self._shapes[key] = (nodes, shape)
        return shape

    def _compile(
        self, parent_type: GraphQLObjectType, field_details_list: Any, top: bool = False
    ) -> Shape | None:
        """The shape of a field of ``parent_type``; ``top``: the field is one of the value's own object."""
        first = field_details_list[0]
        name = first.node.name.value
        key = first.node.alias.value if first.node.alias else name
        if name == "__typename":
            return Shape(key, "", False, None, None, None, None, typename=parent_type.name)
        basic = self._basic.get((parent_type.name, name))
        if basic is None:
            return self._compile_slot(parent_type, name, key, field_details_list, top)
        shape = self._compile_value(basic.type, field_details_list)
        return None if shape is None else replace(shape, key=key, attribute=basic.attribute)

    def _compile_slot(
        self, parent_type: GraphQLObjectType, name: str, key: str, field_details_list: Any, top: bool
    ) -> Shape | None:
        """A field with a resolver, as a slot of its parent's shape. A nullable one anywhere: its errors null
        only itself. A non-null one only in the value's own object (``top``), whose answer its error nulls:
        ``_built`` raises it to the caller, as graphql-core's completion of that object would; deeper, it
        would null an object already built (None: graphql-core's path). A leaf whose resolver is marked
        ``resolved_inline`` is no slot but an inline leaf, anywhere: where its mark fails, the whole value is
        refused before any slot has run."""
        field = parent_type.fields.get(name)
        if not self._basic or field is None:
            return None
        inline = self._compile_inline(field, key)
        if inline is not None:
            return inline
        if is_non_null_type(field.type) and not top:
            return None
        slot = (parent_type, field_details_list)
        ahead = self._compile_ahead(field, field_details_list)
        return Shape(key, "", True, None, None, None, None, slot=slot, deep=True, ahead=ahead)

    def _compile_ahead(
        self, field: GraphQLField, field_details_list: Any
    ) -> tuple[Callable[[Any], Any], Shape] | None:
        """The mark of a field's resolver (``resolved_ahead``) and the shape of its value, when it has one,
        no arguments and no extensions, and its value has a shape."""
        take = _mark(field, _AHEAD)
        if take is None:
            return None
        shape = self._compile_value(field.type, field_details_list)
        return None if shape is None else (take, shape)

    @staticmethod
    def _compile_inline(field: GraphQLField, key: str) -> Shape | None:
        """An inline leaf: a leaf field whose synchronous resolver is marked ``resolved_inline``."""
        take = _mark(field, _INLINE)
        output = get_nullable_type(field.type)
        if take is None or not is_leaf_type(output):
            return None
        return Shape(
            key,
            "",
            not is_non_null_type(field.type),
            _serializer(output),
            None,
            None,
            None,
            own_str=output.serialize in _OWN_STR,
            inline=take,
            deep=True,  # built with the context, by ``Shape.build``
        )

    def _compile_value(
        self, return_type: GraphQLOutputType, field_details_list: Any, top: bool = False
    ) -> Shape | None:
        """The shape of a value of ``return_type`` (a list, an object or a leaf) under these fields; ``top``:
        the value is the one being completed (its own object may hold non-null slots)."""
        for details in field_details_list:
            if details.defer_usage is not None or details.fragment_variable_values is not None:
                return None
            if any(d.name.value not in ("include", "skip") for d in details.node.directives or ()):
                return None  # @stream and the like: graphql-core's list completion reads them
            if not _plain(details.node.selection_set, self.fragment_definitions, set()):
                return None
        nullable = not is_non_null_type(return_type)
        output = get_nullable_type(return_type)
        if isinstance(output, GraphQLList):
            row = output.of_type
            item = self._compile_type(get_nullable_type(row), not is_non_null_type(row), field_details_list)
            return None if item is None else Shape("", "", nullable, None, None, None, item, deep=item.deep)
        return self._compile_type(output, nullable, field_details_list, top)

    def _compile_type(
        self, output: Any, nullable: bool, field_details_list: Any, top: bool = False
    ) -> Shape | None:
        """The shape of a value of ``output`` (a leaf or an object type) under these field nodes."""
        if is_leaf_type(output):
            own_str = output.serialize in _OWN_STR
            return Shape("", "", nullable, _serializer(output), None, None, None, own_str=own_str)
        if not isinstance(output, GraphQLObjectType):
            return None  # lists of lists, interfaces and unions go graphql-core's way
        grouped, defer_usages, _ = collect_subfields(
            self.schema,
            self.fragments,
            self.variable_values,
            self.operation,
            output,
            field_details_list,
            self.hide_suggestions,
        )
        if defer_usages:
            return None
        fields = []
        for sub_details in grouped.values():
            sub = self._compile(output, sub_details, top)
            if sub is None:
                return None
            fields.append(sub)
        deep = any(sub.deep for sub in fields)
        return Shape("", "", nullable, None, tuple(fields), output, None, deep=deep)
