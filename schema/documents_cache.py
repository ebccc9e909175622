"""The parse and validation caches: each query text parsed and validated once.

Strawberry's ``ParserCache`` and ``ValidationCache`` do the same, with two costs left on every request:

- the validation cache is keyed by the parsed document, and graphql-core's nodes are frozen dataclasses whose
  hash walks the whole tree (about 30 µs for the dashboard's document); here the key is the document itself,
  by identity, which the parse cache makes the same object for the same text;
- a parsed document's ``Source`` finds an error's line and column by scanning the text from its start for
  every error: an answer with twenty ``FORBIDDEN`` rows scans it twenty times. Here the text's line breaks
  are found once per document, on its first error, and each location is a binary search.

Answers and locations stay the same (``tests/unit/test_documents_cache.py``).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, Source, SourceLocation, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

# graphql-core's own line break (graphql/language/location.py)
_NEWLINE = re.compile(r"\r\n|[\n\r]")


class IndexedSource(Source):
    """A query text that finds its line breaks once."""

    _breaks: tuple[list[int], list[int]] | None = None  # (starts, ends) of the line breaks

    def get_location(self, position: int) -> SourceLocation:
        if self._breaks is None:
            matches = list(_NEWLINE.finditer(self.body))
            self._breaks = [m.start() for m in matches], [m.end() for m in matches]
        starts, ends = self._breaks
        # graphql-core counts the breaks that start before the position
        before = bisect_left(starts, position)
        return SourceLocation(before + 1, position + 1 - (ends[before - 1] if before else 0))


@dataclass(frozen=True, slots=True, eq=False)
class _Same:
    """A key that is equal only to a key of the very same object (and keeps the object alive)."""

    value: object

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.value is self.value


class Documents:
    """Parsed and validated documents, ``maxsize`` of each, shared by every request of a schema."""

    def __init__(self, maxsize: int) -> None:
        @lru_cache(maxsize=maxsize)
        def parsed(query: str, **options: Any) -> DocumentNode:
            return parse(IndexedSource(query), **options)

        @lru_cache(maxsize=maxsize)
        def errors(schema: _Same, document: _Same, rules: tuple[type, ...]) -> list[GraphQLError]:
            return validate_document(schema.value, document.value, rules)  # type: ignore[arg-type]

        self.parse: Callable[..., DocumentNode] = parsed
        self._errors = errors

    def validate(
        self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[type, ...]
    ) -> list[GraphQLError]:
        """The validation errors of a document, found once per document and rules."""
        return self._errors(_Same(schema), _Same(document), rules)


class DocumentCache(SchemaExtension):
    """Parses and validates through ``documents``."""

    def __init__(self, documents: Documents) -> None:
        super().__init__()
        self.documents = documents

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        execution.graphql_document = self.documents.parse(execution.query, **execution.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        assert execution.graphql_document is not None
        execution.pre_execution_errors = self.documents.validate(
            execution.schema._schema, execution.graphql_document, execution.validation_rules
        )
        yield
