"""The typed per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auth.principal import Principal
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from resolvers.services import Services


@dataclass
class Context:
    """Built once per request by ``gateway.context``: who is asking, the shared services, fresh loaders."""

    principal: Principal
    services: Services
    loaders: Loaders
    request_id: str
    session_id: str | None = None
    retry_after: int | None = None  # the session's user is over the per-user rate limit for this long
    client_ip: str | None = None
    user_agent: str | None = None
    http_response: Any = None  # the HTTP response being built, for headers such as Retry-After
    extra: dict[str, Any] = field(default_factory=dict)
