"""The gateway's own errors. Each carries the ``extensions.code`` of the public contract.

::

    GatewayError                  code INTERNAL (never shown: masked)
    ├── Unauthenticated           UNAUTHENTICATED: no valid session or token
    ├── Forbidden                 FORBIDDEN: a client within reach, a scope missing
    ├── NotFound                  NOT_FOUND: absent, or outside the caller's reach (no existence oracle)
    ├── BadUserInput              BAD_USER_INPUT: the request's own data is wrong
    ├── PasswordChangeRequired    PASSWORD_CHANGE_REQUIRED
    ├── UpstreamUnavailableError  UPSTREAM_UNAVAILABLE: a company system is down or slow
    ├── RateLimited               RATE_LIMITED
    ├── Maintenance               MAINTENANCE
    └── QueryTooComplex           QUERY_TOO_COMPLEX

Adapter errors (``adapters.errors``) are translated by ``from_upstream``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from adapters.errors import UpstreamError, UpstreamNotFound, UpstreamRejected, UpstreamUnavailable


class GatewayError(Exception):
    """An expected error: its message is for the person reading it and says what to do next."""

    code: ClassVar[str] = "INTERNAL"
    # What graphql-core's located_error reads from each error it places in the answer (a GraphQLError's
    # document, positions and nodes; ours have none): present, it asks without an AttributeError each.
    source: ClassVar[None] = None
    positions: ClassVar[None] = None
    nodes: ClassVar[None] = None

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"


class Forbidden(GatewayError):
    code = "FORBIDDEN"


class NotFound(GatewayError):
    code = "NOT_FOUND"


class BadUserInput(GatewayError):
    code = "BAD_USER_INPUT"


class PasswordChangeRequired(GatewayError):
    code = "PASSWORD_CHANGE_REQUIRED"


class UpstreamUnavailableError(GatewayError):
    code = "UPSTREAM_UNAVAILABLE"


class RateLimited(GatewayError):
    code = "RATE_LIMITED"


class Maintenance(GatewayError):
    code = "MAINTENANCE"


class QueryTooComplex(GatewayError):
    code = "QUERY_TOO_COMPLEX"


SYSTEM_NAMES = {
    "billing": "the billing system",
    "permits": "the permit registry",
    "documents": "the document store",
}


def from_upstream(error: UpstreamError) -> GatewayError:
    """Translate an adapter error into the gateway's own, without the upstream's detail (API.md: none ever
    reaches a client)."""
    system = SYSTEM_NAMES.get(error.system, error.system)
    if isinstance(error, UpstreamNotFound):
        return NotFound("Not found, or not within your reach.")
    if isinstance(error, UpstreamRejected):
        # Its reason is the system's own text: logged with the request id (``schema.errors``), never sent.
        return BadUserInput(
            f"{system.capitalize()} refused the request as invalid. Check what you sent; if it is right, "
            "tell support the request id."
        )
    if isinstance(error, UpstreamUnavailable):
        return UpstreamUnavailableError(
            f"{system.capitalize()} is not answering right now; this part of the answer is missing. "
            "Try again in a minute.",
            system=error.system,
        )
    return UpstreamUnavailableError(f"{system.capitalize()} failed; try again later.", system=error.system)
