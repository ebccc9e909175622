"""Builds the per-request ``Context``: the Principal from the session or bearer token, fresh loaders."""

from __future__ import annotations

import uuid

from starlette.requests import HTTPConnection

from auth.principal import Principal, accesses_of
from auth.sessions import COOKIE_NAME
from gateway.db import utcnow
from resolvers.context import Context
from resolvers.loaders import Loaders
from resolvers.services import Services

_SIMPLE_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def session_token(request: HTTPConnection) -> tuple[str | None, bool]:
    """The token and whether it came from the cookie (which needs CSRF care) rather than a header."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(COOKIE_NAME)
    return (cookie, True) if cookie else (None, False)


def csrf_safe(request: HTTPConnection) -> bool:
    """A cookie may authorise a state change only when a browser could not have sent it cross-site unasked:
    a non-simple content type (which needs a CORS preflight) or the ``X-Requested-With`` header."""
    if request.scope.get("method", "GET") in ("GET", "HEAD", "OPTIONS"):
        return True
    if request.headers.get("x-requested-with"):
        return True
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return bool(content_type) and content_type not in _SIMPLE_CONTENT_TYPES


async def principal_for_user(services: Services, user_id: str, loaders: Loaders) -> Principal:
    """The Principal of a user, read fresh from the database: account state and mandates as they are now."""
    account = await services.accounts.by_id(user_id)
    if account is None or account.state != "ACTIVE":
        return Principal.anonymous()
    mandates = await services.accounts.mandates_of_user(account.id)
    return Principal(
        kind="staff" if account.is_staff else "user",
        account=account,
        accesses=accesses_of(account, mandates, utcnow().date()),
        policy=services.policy,
        lookup_client=loaders.client_by_id.load,
    )


async def resolve_principal(services: Services, request: HTTPConnection, loaders: Loaders) -> Principal:
    token, from_cookie = session_token(request)
    if token is None or (from_cookie and not csrf_safe(request)):
        return Principal.anonymous()
    session = await services.sessions.resolve(token)
    if session is None:
        return Principal.anonymous()
    return await principal_for_user(services, session.user_id, loaders)


def new_loaders(services: Services) -> Loaders:
    return Loaders(services.billing, services.permits, services.documents, batch=services.settings.batching)


async def build_context(services: Services, request: HTTPConnection) -> Context:
    loaders = new_loaders(services)
    return Context(
        principal=await resolve_principal(services, request, loaders),
        services=services,
        loaders=loaders,
        request_id=request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex,
        client_ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
