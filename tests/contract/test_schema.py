"""The exported SDL is committed, follows the public contract's outline, and describes every field."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

from schema.build import create_schema, export_sdl

ROOT = Path(__file__).resolve().parents[2]
OUTLINE = Path(__file__).with_name("schema-outline.graphql")


def test_committed_sdl_equals_the_export() -> None:
    committed = (ROOT / "schema" / "schema.graphql").read_text()
    assert committed == export_sdl(), "schema/schema.graphql is stale: run `make schema`"


def test_outline_copy_is_the_shared_contract_when_present() -> None:
    shared = ROOT.parent / "shared" / "contract" / "schema-outline.graphql"
    if shared.exists():
        assert shared.read_text() == OUTLINE.read_text()


def _outline() -> tuple[GraphQLSchema, set[str]]:
    """The outline as a schema; connection types it names but leaves out are stubbed, not compared."""
    text = OUTLINE.read_text()
    stubs: set[str] = set()
    while True:
        try:
            return build_schema(text + "".join(f"\ntype {s} {{ stub: Int }}" for s in stubs)), stubs
        except TypeError as exc:
            unknown = set(re.findall(r"Unknown type '(\w+)'", str(exc)))
            if not unknown or unknown <= stubs:
                raise
            stubs |= unknown


def _missing_from_ours() -> set[str]:
    outline, stubs = _outline()
    ours = create_schema()._schema
    missing: set[str] = set()
    for name, expected in outline.type_map.items():
        if name.startswith("__"):
            continue
        actual = ours.type_map.get(name)
        if name in stubs:
            assert actual is not None, name
            continue
        if actual is None:
            missing.add(name)
            continue
        assert isinstance(actual, type(expected)), name
        if isinstance(expected, GraphQLEnumType):
            assert isinstance(actual, GraphQLEnumType)
            assert set(expected.values) <= set(actual.values), name
        if isinstance(expected, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            assert isinstance(actual, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType)
            for field_name, field in expected.fields.items():
                mine = actual.fields.get(field_name)
                if mine is None:
                    missing.add(f"{name}.{field_name}")
                    continue
                assert str(mine.type) == str(field.type), f"{name}.{field_name}: {mine.type} != {field.type}"
                expected_args = set(getattr(field, "args", {}))
                assert expected_args <= set(getattr(mine, "args", {})), f"{name}.{field_name} arguments"
        if isinstance(expected, GraphQLObjectType):
            assert isinstance(actual, GraphQLObjectType)
            assert {i.name for i in expected.interfaces} <= {i.name for i in actual.interfaces}, name
    return missing


def test_schema_has_every_name_of_the_outline() -> None:
    assert _missing_from_ours() == set()


def test_every_type_and_field_has_a_description() -> None:
    ours = create_schema()._schema
    undescribed = []
    for name, graphql_type in ours.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not graphql_type.description:
            undescribed.append(name)
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            if not field.description:
                undescribed.append(f"{name}.{field_name}")
    assert undescribed == []
