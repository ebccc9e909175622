"""Builds the per-request ``Context``: the Principal from the session or bearer token, fresh loaders."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import NamedTuple

from starlette.requests import HTTPConnection

from auth.banks import looks_like_jwt
from auth.jwt import InvalidJwt
from auth.principal import Principal, accesses_of
from auth.sessions import COOKIE_NAME
from gateway.db import utcnow
from resolvers.context import Context
from resolvers.loaders import Loaders
from resolvers.services import Services

log = logging.getLogger("gateway.context")

_SIMPLE_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def session_token(request: HTTPConnection) -> tuple[str | None, bool]:
    """The token and whether it came from the cookie (which needs CSRF care) rather than a header."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(COOKIE_NAME)
    return (cookie, True) if cookie else (None, False)


def client_ip(request: HTTPConnection) -> str | None:
    """The caller's address: the peer's, or, when the peer is a trusted proxy (``TRUSTED_PROXIES``), the
    nearest address in ``X-Forwarded-For`` that is not a trusted proxy itself (terms 23.1 records it)."""
    trusted = request.app.state.services.settings.trusted_proxies if "app" in request.scope else ()
    return address_behind(request, trusted)


def address_behind(request: HTTPConnection, trusted: Sequence[str]) -> str | None:
    """``client_ip`` with the trusted proxies given."""
    peer = request.client.host if request.client else None
    if peer is None or peer not in trusted:
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return peer


def csrf_safe(request: HTTPConnection) -> bool:
    """A cookie may authorise a state change only when a browser could not have sent it cross-site unasked:
    a non-simple content type (which needs a CORS preflight) or the ``X-Requested-With`` header."""
    if request.scope.get("method", "GET") in ("GET", "HEAD", "OPTIONS"):
        return True
    if request.headers.get("x-requested-with"):
        return True
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return bool(content_type) and content_type not in _SIMPLE_CONTENT_TYPES


async def principal_for_user(
    services: Services, user_id: str, loaders: Loaders, stamp: str | None = None
) -> Principal:
    """The Principal of a user: account state and mandates as they are now (from the database, or as this
    worker last read them when the user's account ``stamp``, read with the session, is unchanged)."""
    found = await services.accounts.with_mandates(user_id, stamp)
    if found is None or found[0].state != "ACTIVE":
        return Principal.anonymous()
    account, mandates = found
    return Principal(
        kind="staff" if account.is_staff else "user",
        account=account,
        accesses=accesses_of(account, mandates, utcnow().date()),
        policy=services.policy,
        lookup_client=loaders.client_by_id.load,
    )


class Caller(NamedTuple):
    principal: Principal
    session_id: str | None = None
    # A session's user over the per-user rate limit: the seconds to wait (``auth.sessions``)
    retry_after: int | None = None


async def resolve_principal(services: Services, request: HTTPConnection, loaders: Loaders) -> Caller:
    """The caller and its session; anonymous without a live session."""
    token, from_cookie = session_token(request)
    if token is None or (from_cookie and not csrf_safe(request)):
        return Caller(Principal.anonymous())
    if not from_cookie and looks_like_jwt(token):
        return Caller(await bank_principal(services, token))
    session = await services.sessions.resolve(token)
    if session is None:
        return Caller(Principal.anonymous())
    principal = await principal_for_user(services, session.user_id, loaders, session.account_stamp)
    return Caller(principal, session.id, session.retry_after)


async def bank_principal(services: Services, token: str) -> Principal:
    """A partner bank by its access token; a token that fails any check is simply no one."""
    try:
        bank_id = await services.bank_tokens.bank_of(token)
    except InvalidJwt as exc:
        log.info("bank token refused: %s", exc)
        return Principal.anonymous()
    return Principal(kind="bank", bank_id=bank_id)


def new_loaders(services: Services) -> Loaders:
    return Loaders(services.billing, services.permits, services.documents, batch=services.settings.batching)


async def build_context(services: Services, request: HTTPConnection) -> Context:
    loaders = new_loaders(services)
    principal, session_id, retry_after = await resolve_principal(services, request, loaders)
    return Context(
        principal=principal,
        session_id=session_id,
        retry_after=retry_after,
        services=services,
        loaders=loaders,
        request_id=request.scope.get("state", {}).get("request_id") or uuid.uuid4().hex,
        client_ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )
