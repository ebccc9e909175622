"""The schema's parse and validation caches: same documents, same errors, same locations, each found once."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import Source, parse, validate

import schema.documents_cache
from schema.build import create_schema
from schema.documents_cache import Documents, IndexedSource

# Unknown fields on several lines, with every kind of line break graphql-core knows
BROKEN = "query Q {\r\n  viewer {\r    nope\n    fullName\n\n    alsoNope }\r\n  nothing\n}\n"


def test_locations_are_graphql_cores_at_every_position() -> None:
    for body in (BROKEN, "", "\n", "\r\n\r\n", "{ a }", "\n\r\r\n{\n a\r}"):
        indexed, plain = IndexedSource(body), Source(body)
        for position in range(len(body) + 1):
            assert indexed.get_location(position) == plain.get_location(position), (body, position)


def test_a_query_text_is_parsed_and_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    validated: list[object] = []
    validate_document = schema.documents_cache.validate_document

    def counting(*args: Any) -> Any:
        validated.append(args[1])
        return validate_document(*args)

    monkeypatch.setattr(schema.documents_cache, "validate_document", counting)
    gateway = create_schema()
    documents = Documents(8)
    rules: tuple[type, ...] = ()
    first = documents.parse(BROKEN)
    assert documents.parse(BROKEN) is first
    errors = documents.validate(gateway._schema, first, rules)
    assert documents.validate(gateway._schema, first, rules) is errors
    assert validated == [first]
    # an equal document parsed apart is another key: it is validated on its own
    documents.validate(gateway._schema, parse(BROKEN), rules)
    assert len(validated) == 2


async def test_the_schemas_errors_have_graphql_cores_messages_and_locations() -> None:
    gateway = create_schema()
    expected = validate(gateway._schema, parse(BROKEN))
    assert len({e.locations[0].line for e in expected if e.locations}) == 4
    for _ in range(2):  # the second answer comes from the caches
        result = await gateway.execute(BROKEN)
        assert result.errors is not None
        assert [(e.message, e.locations) for e in result.errors] == [
            (e.message, e.locations) for e in expected
        ]
