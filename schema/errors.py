"""Every error leaves with ``extensions.code``; anything unexpected is masked and logged."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError

from adapters.errors import UpstreamError, UpstreamRejected
from gateway.errors import GatewayError, from_upstream
from schema.cost import COST_MESSAGE

log = logging.getLogger("gateway.errors")

# The messages of graphql-core's and Strawberry's limit rules (depth, aliases, tokens).
_TOO_COMPLEX = re.compile(
    r"exceeds maximum operation depth|aliases found\. Allowed|Document contains more than \d+ tokens"
    rf"|{COST_MESSAGE}"
)
_VALIDATION_ABORTED = "Validation aborted."


def classify(error: GraphQLError) -> tuple[str, str, dict[str, Any]]:
    """(code, message a person can act on, further extensions) for one error."""
    original = error.original_error
    if isinstance(original, UpstreamError):
        original = from_upstream(original)
    if isinstance(original, GatewayError):
        return original.code, original.message, original.extensions
    # graphql-core's own errors: the document refused, or a variable's value its type refused (that one
    # carries the type's refusal as a GraphQLError inside, with the scalar's reason in the message). With a
    # path, such an error is a value of ours its type refused while answering: a fault of the gateway's.
    if original is None or (isinstance(original, GraphQLError) and error.path is None):
        if _TOO_COMPLEX.search(error.message):
            return "QUERY_TOO_COMPLEX", f"{error.message}. Ask for less in one query.", {}
        if error.message == _VALIDATION_ABORTED:  # graphql-core ran out of stack checking the document
            return "QUERY_TOO_COMPLEX", "The document is too large to check; ask for less in one query.", {}
        return "BAD_USER_INPUT", error.message, {}
    return "INTERNAL", "Internal error. If it persists, tell support the request id.", {}


def is_expected(error: GraphQLError) -> bool:
    """Not a fault of the gateway's (it is not logged as one): anything but ``INTERNAL``."""
    return classify(error)[0] != "INTERNAL"


def _upstream_refusal(error: GraphQLError) -> UpstreamRejected | None:
    """The upstream refusal behind an error (raised as it is, or translated by ``from_upstream``)."""
    original = error.original_error
    cause = original if isinstance(original, UpstreamRejected) else getattr(original, "__cause__", None)
    return cause if isinstance(cause, UpstreamRejected) else None


def format_error(error: GraphQLError, request_id: str | None) -> dict[str, Any]:
    """The error as the client sees it: the contract's code, a message to act on, no internal detail."""
    code, message, extra = classify(error)
    extensions: dict[str, Any] = {"code": code, **extra}
    refusal = _upstream_refusal(error)
    if refusal is not None:
        log.warning("request %s: %s refused it: %s", request_id, refusal.system, refusal.detail)
    if (code == "INTERNAL" or refusal is not None) and request_id:
        extensions["requestId"] = request_id
    formatted: dict[str, Any] = {"message": message, "extensions": extensions}
    if error.locations:
        formatted["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        formatted["path"] = error.path
    return formatted
