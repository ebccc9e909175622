"""The errors an adapter may raise. No ``httpx`` exception ever crosses the adapter edge.

::

    UpstreamError                 base: something went wrong talking to a company system
    ├── UpstreamUnavailable       connect error, timeout, 5xx/503, an open circuit breaker
    ├── UpstreamNotFound          404: the system does not know the thing asked for
    └── UpstreamRejected          400/422: the system refused the input (``detail`` says why)
        └── UpstreamConflict      409: e.g. an idempotency key reused with other content

The gateway maps them to ``UPSTREAM_UNAVAILABLE``, ``NOT_FOUND`` and ``BAD_USER_INPUT``.
"""

from __future__ import annotations


class UpstreamError(Exception):
    """Base of every adapter error; ``system`` names the company system."""

    def __init__(self, system: str, detail: str = "") -> None:
        super().__init__(f"{system}: {detail}" if detail else system)
        self.system = system
        self.detail = detail


class UpstreamUnavailable(UpstreamError):
    """The system could not be reached, timed out, failed, or its circuit breaker is open."""


class UpstreamNotFound(UpstreamError):
    """The system answered 404."""


class UpstreamRejected(UpstreamError):
    """The system refused the request as invalid (400/422)."""


class UpstreamConflict(UpstreamRejected):
    """The system answered 409."""
