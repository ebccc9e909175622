"""Unified login (terms 2.8, 10): OpenID Connect authorization code with PKCE at the identity broker.

authlib's Starlette client does the protocol; the flow's state and PKCE verifier wait in the shared store
(any instance may receive the callback), tied to the browser by a short-lived signed cookie. The identity's
personal code must belong to an ACTIVE portal account; a refusal says so in plain words and reveals nothing
about other accounts.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gateway.audit_routes import audit_login
from gateway.auth_routes import start_browser_session
from gateway.context import client_ip
from gateway.store import Store
from resolvers.services import Services

log = logging.getLogger("gateway.unified_login")

FLOW_SECONDS = 600


class StoreCache:
    """authlib's cache interface over the gateway's store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, key: str) -> str | None:
        return await self.store.get(f"oidc:{key}")

    async def set(self, key: str, value: str, expires: int | None = None) -> None:
        await self.store.put(f"oidc:{key}", value, ttl=expires or FLOW_SECONDS)

    async def delete(self, key: str) -> None:
        await self.store.delete(f"oidc:{key}")


def refusal(message: str, status: int = 403) -> HTMLResponse:
    """The page a person sees when a redirect-based login is refused."""
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Login refused</title></head>'
        '<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto">'
        f"<h1>You are not logged in</h1><p>{escape(message)}</p>"
        "<p>Questions: the radioatlaujas.lv client support, by phone or e-mail.</p>"
        '<p><a href="/">Back</a></p>'
        "</body></html>",
        status_code=status,
    )


class UnifiedLogin:
    """The broker as an authlib client; ``transport`` reaches an in-process sandbox broker."""

    def __init__(
        self,
        services: Services,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.services = services
        self.oauth = OAuth(cache=StoreCache(services.store))
        client_kwargs: dict[str, Any] = {
            "scope": "openid profile",
            "code_challenge_method": "S256",
            "timeout": 10,
        }
        if transport is not None:
            client_kwargs["transport"] = transport
        self.client: Any = self.oauth.register(
            "unified",
            client_id=client_id,
            client_secret=client_secret,
            server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
        )

    def callback_url(self) -> str:
        return self.services.settings.public_url.rstrip("/") + "/auth/unified/callback"

    async def login(self, request: Request) -> Response:
        extra = {}
        hint = request.query_params.get("login_hint")
        if hint:
            extra["login_hint"] = hint
        try:
            response: Response = await self.client.authorize_redirect(request, self.callback_url(), **extra)
        except (OAuthError, httpx.HTTPError) as exc:
            log.warning("unified login could not start: %s", exc)
            await audit_login(request, "auth.unified", "unavailable", error=str(exc))
            return refusal(
                "The unified login service is not answering right now. Try again in a few minutes.", 503
            )
        return response

    async def callback(self, request: Request) -> Response:
        try:
            token = await self.client.authorize_access_token(request)
        except (OAuthError, httpx.HTTPError) as exc:
            log.info("unified login not completed: %s", exc)
            await audit_login(request, "auth.unified", "not_completed", error=str(exc))
            return refusal("The login at the unified login service was not completed. Please start again.")
        claims = token.get("userinfo") or {}
        code = claims.get("personal_code")
        accounts = self.services.accounts
        account = await accounts.by_personal_code(code) if isinstance(code, str) else None
        if account is None or account.state != "ACTIVE":
            # The code is masked by the journal to its birth-date part (terms 9).
            await audit_login(
                request,
                "auth.unified",
                "no_matching_account",
                identity=code if isinstance(code, str) else None,
            )
            return refusal(
                "Your identity was confirmed, but it does not match an active portal account. An account is "
                "opened after the company checks your application (terms 10); if you have one, call support."
            )
        await audit_login(
            request, "auth.unified", "ok", principal=account.id, kind="staff" if account.is_staff else "user"
        )
        return await start_browser_session(self.services, account.id, client_ip(request))
