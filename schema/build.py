"""The Schema object with its limits and error handling."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.types import ExecutionContext

from schema.cost import cost_limit
from schema.documents_cache import DocumentCache, Documents
from schema.errors import is_expected
from schema.execution import ShortcutExecutionContext
from schema.guards import OperationGuards
from schema.mutation import Mutation
from schema.query import Query
from schema.resolving import lean_resolvers

log = logging.getLogger("gateway.graphql")

# Well above Strawberry's default of 128: a portal has a few hundred distinct documents in use.
_CACHE_SIZE = 2048


class GatewaySchema(strawberry.Schema):
    """Logs only unexpected errors, with the request id and trace; expected ones are the caller's business."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        request_id = getattr(getattr(execution_context, "context", None), "request_id", None)
        for error in errors:
            if not is_expected(error):
                log.error(
                    "unexpected error in %s (request %s)",
                    error.path,
                    request_id,
                    exc_info=error.original_error,
                )
            _drop_tracebacks(error)


def _drop_tracebacks(error: BaseException) -> None:
    """Logged or not, an error needs its traceback no more. Its frames hold the executor, which holds the
    errors: a reference cycle that kept the whole request (loaders, records, answers) alive until the
    garbage collector's next pass, which then took 10 to 20 ms to free it (bench/README.md)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [getattr(current, "original_error", None), current.__cause__, current.__context__]


def create_schema(
    *,
    introspection: bool = True,
    max_depth: int = 12,
    max_aliases: int = 20,
    max_tokens: int = 3000,
    max_cost: int = 300_000,
) -> GatewaySchema:
    # The limit rules are built once: fresh rule classes per request would make every request a miss in the
    # validation cache, whose key includes the rules (measured: the largest cost in the profile).
    limits = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
        cost_limit(max_cost),
    ]
    # Factories, not instances: an extension holds the execution context, so each request needs its own.
    # The parse and validation caches are the schema's, shared all the same.
    documents = Documents(_CACHE_SIZE)
    extensions: list[Callable[[], SchemaExtension]] = [
        OperationGuards,
        partial(MaxTokensLimiter, max_token_count=max_tokens),
        partial(DocumentCache, documents),
        partial(AddValidationRules, limits),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        execution_context_class=ShortcutExecutionContext,
    )
    lean_resolvers(schema)
    return schema


def export_sdl() -> str:
    return create_schema().as_str() + "\n"
