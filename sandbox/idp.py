"""The sandbox unified-login identity broker (a Latvija.lv stand-in): an OpenID Connect provider.

Endpoints, relative to where the app is mounted (``/sandbox/idp`` in the gateway):
``GET /.well-known/openid-configuration``, ``GET /authorize``, ``POST /token``, ``GET /jwks``,
``GET|POST /userinfo`` and ``POST /_rotate`` (test hook: a new signing key, the old ones stay published).

The issuer is fixed when ``create_idp_app(issuer=...)`` is given; otherwise it is derived from each request as
its scheme and host plus the ASGI ``root_path`` (the mount prefix), so the same app works mounted at
``/sandbox/idp`` on any host and served alone. Every URL in the discovery document is built from it.

Grants: authorization code with PKCE (S256, required) for the gateway; client credentials for the partner
banks, whose access token is an RS256 JWT (header ``typ`` = ``at+jwt``, RFC 9068). The gateway's own access
tokens are opaque (only ``/userinfo`` understands them), so they can never be mistaken for a bank's token.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.identities import (
    GATEWAY_AUDIENCE,
    SETTLEMENT_SCOPE,
    OidcClient,
    Person,
    clients_by_id,
    default_clients,
    default_persons,
    normalize_code,
    persons_by_code,
)
from sandbox.keys import ALGORITHM, SigningKeys
from sandbox.oauth import NO_STORE, PKCE_VALUE, OAuthError, authenticate_client, pkce_matches, redirect_with
from sandbox.pages import page

CODE_TTL = 300  # seconds an authorization code lives
TOKEN_TTL = 300  # seconds every token (ID, access, client credentials) lives
CLAIMS = (
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "name", "given_name", "family_name",
    "personal_code", "representation",
)  # fmt: skip


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    person: Person
    scope: str
    nonce: str | None
    code_challenge: str
    auth_time: int
    expires_at: float


@dataclass(frozen=True)
class _UserToken:
    person: Person
    client_id: str
    scope: str
    expires_at: float


class IdentityBroker:
    """The broker's state and logic: clients, persons, signing keys, live codes and access tokens."""

    def __init__(
        self,
        *,
        issuer: str | None = None,
        clients: Iterable[OidcClient] | None = None,
        persons: Iterable[Person] | None = None,
        audience: str = GATEWAY_AUDIENCE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer.rstrip("/") if issuer else None
        self.clients: Mapping[str, OidcClient] = clients_by_id(
            default_clients() if clients is None else clients
        )
        self.persons: dict[str, Person] = persons_by_code(default_persons() if persons is None else persons)
        self.audience = audience  # the `aud` of client-credentials access tokens
        self.clock = clock
        self.keys = SigningKeys()
        self._codes: dict[str, _Grant] = {}
        self._tokens: dict[str, _UserToken] = {}

    def issuer_for(self, request: Request) -> str:
        """The fixed issuer, or this request's scheme, host and mount prefix."""
        if self.issuer is not None:
            return self.issuer
        base = request.url.replace(path=request.scope.get("root_path", ""), query="", fragment="")
        return str(base).rstrip("/")

    def rotate_keys(self) -> str:
        """A new current signing key; the old ones stay in the JWKS. Returns the new ``kid``."""
        return self.keys.rotate()

    def metadata(self, issuer: str) -> dict[str, Any]:
        """The OpenID Provider metadata (discovery document) for ``issuer``."""
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "subject_types_supported": ["public"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", SETTLEMENT_SCOPE],
            "claims_supported": list(CLAIMS),
        }

    def client_credentials_token(
        self,
        client_id: str,
        *,
        issuer: str,
        scope: str = SETTLEMENT_SCOPE,
        iat: int | None = None,
        exp: int | None = None,
        aud: str | None = None,
        jti: str | None = None,
    ) -> str:
        """A client-credentials access token, as ``POST /token`` issues it; tests may forge odd ones."""
        now = int(self.clock()) if iat is None else iat
        claims = {
            "iss": issuer,
            "aud": self.audience if aud is None else aud,
            "sub": client_id,
            "client_id": client_id,
            "scope": scope,
            "iat": now,
            "exp": now + TOKEN_TTL if exp is None else exp,
            "jti": jti or secrets.token_urlsafe(16),
        }
        return self.keys.sign(claims, typ="at+jwt")

    def person_claims(self, person: Person) -> dict[str, Any]:
        """The identity claims shared by the ID token and ``/userinfo``."""
        claims: dict[str, Any] = {
            "sub": person.sub,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "name": person.name,
            "personal_code": person.personal_code,
            "amr": list(person.amr),
        }
        if person.representation:
            claims["representation"] = list(person.representation)
        return claims

    # -- authorization endpoint -----------------------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        """``GET /authorize``: checks the client and redirect URI first (a bad one gets a page, never a
        redirect, RFC 6749 section 4.1.2.1), then answers errors and codes by redirect."""
        params = request.query_params
        client = self.clients.get(params.get("client_id", ""))
        if client is None:
            return _page("Unknown client", "<p>The service that sent you here is not registered.</p>", 400)
        redirect_uri = params.get("redirect_uri", "")
        if not client.allows_redirect(redirect_uri):
            body = "<p>The return address is not registered for this service, so you are not sent back.</p>"
            return _page("Invalid redirect URI", body, 400)
        state = params.get("state")

        def error(code: str, description: str) -> Response:
            extra = {"error": code, "error_description": description}
            return redirect_with(redirect_uri, extra, state)

        if "authorization_code" not in client.grant_types:
            return error("unauthorized_client", "the client may not use the authorization code grant")
        if params.get("response_type") != "code":
            return error("unsupported_response_type", "only response_type=code is supported")
        scope = params.get("scope", "")
        if "openid" not in scope.split():
            return error("invalid_scope", "scope must include openid")
        challenge = params.get("code_challenge", "")
        if params.get("code_challenge_method") != "S256" or not PKCE_VALUE.fullmatch(challenge):
            return error(
                "invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256"
            )
        hint = params.get("login_hint")
        if hint:
            person = self.persons.get(normalize_code(hint))
            if person is not None:
                code = self._issue_code(client, redirect_uri, person, scope, params.get("nonce"), challenge)
                return redirect_with(redirect_uri, {"code": code}, state)
        elif params.get("prompt") == "none":
            # The broker keeps no login session, so it can never authenticate without asking.
            return error("login_required", "no one is logged in at the identity broker")
        return self._chooser(request, unknown_hint=hint or None)

    def _issue_code(
        self,
        client: OidcClient,
        redirect_uri: str,
        person: Person,
        scope: str,
        nonce: str | None,
        challenge: str,
    ) -> str:
        now = self.clock()
        self._codes = {k: g for k, g in self._codes.items() if g.expires_at > now}
        code = secrets.token_urlsafe(32)
        self._codes[code] = _Grant(
            client.client_id, redirect_uri, person, scope, nonce, challenge, int(now), now + CODE_TTL
        )
        return code

    def _chooser(self, request: Request, unknown_hint: str | None) -> Response:
        # One GET form per person: the current query plus login_hint, so picking a person is the hint flow.
        hidden = "".join(
            f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
            for k, v in request.query_params.multi_items()
            if k != "login_hint"
        )
        buttons = "".join(
            f'<form method="get" action="{escape(str(request.url.path))}">{hidden}'
            f'<button type="submit" name="login_hint" value="{escape(p.personal_code)}">'
            f"{escape(p.name)} ({escape(p.personal_code)})</button></form>"
            for p in self.persons.values()
        )
        message = ""
        if unknown_hint is not None:
            message = (
                f'<p class="error">No person with the personal code {escape(unknown_hint)} is known.</p>'
            )
        return _page("Log in (sandbox)", f"{message}<p>Choose who you are:</p>{buttons}")

    # -- token endpoint -------------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        """``POST /token``: authenticates the client, then runs the grant."""
        try:
            if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
            form = {k: str(v) for k, v in (await request.form()).items()}
            client = authenticate_client(request, form, self.clients)
            grant_type = form.get("grant_type")
            if not grant_type:
                raise OAuthError("invalid_request", "grant_type is required")
            if grant_type not in ("authorization_code", "client_credentials"):
                raise OAuthError("unsupported_grant_type", f"grant_type {grant_type} is not supported")
            if grant_type not in client.grant_types:
                raise OAuthError("unauthorized_client", f"the client may not use {grant_type}")
            issuer = self.issuer_for(request)
            if grant_type == "authorization_code":
                body = self._code_grant(client, form, issuer)
            else:
                body = self._client_credentials_grant(client, form, issuer)
        except OAuthError as exc:
            return exc.response()
        return JSONResponse(body, headers=NO_STORE)

    def _code_grant(self, client: OidcClient, form: Mapping[str, str], issuer: str) -> dict[str, Any]:
        code, verifier = form.get("code", ""), form.get("code_verifier", "")
        if not code or not form.get("redirect_uri"):
            raise OAuthError("invalid_request", "code and redirect_uri are required")
        # Any presented code is spent, right or wrong, so that a stolen one cannot be retried (single use).
        grant = self._codes.pop(code, None)
        now = self.clock()
        if grant is None or grant.expires_at <= now:
            raise OAuthError("invalid_grant", "the code is unknown, used or expired")
        if grant.client_id != client.client_id or grant.redirect_uri != form["redirect_uri"]:
            raise OAuthError("invalid_grant", "the code was issued to another client or redirect_uri")
        if not pkce_matches(verifier, grant.code_challenge):
            raise OAuthError("invalid_grant", "PKCE verification failed")
        iat = int(now)
        access_token = secrets.token_urlsafe(32)
        self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > now}
        self._tokens[access_token] = _UserToken(grant.person, client.client_id, grant.scope, now + TOKEN_TTL)
        claims = {
            **self.person_claims(grant.person),
            "iss": issuer,
            "aud": client.client_id,
            "iat": iat,
            "exp": iat + TOKEN_TTL,
            "auth_time": grant.auth_time,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL,
            "scope": grant.scope,
            "id_token": self.keys.sign(claims),
        }

    def _client_credentials_grant(
        self, client: OidcClient, form: Mapping[str, str], issuer: str
    ) -> dict[str, Any]:
        requested = set(form.get("scope", "").split()) or set(client.scopes)
        if not requested <= client.scopes:
            raise OAuthError(
                "invalid_scope", f"the client may ask only for: {' '.join(sorted(client.scopes))}"
            )
        scope = " ".join(sorted(requested))
        token = self.client_credentials_token(client.client_id, issuer=issuer, scope=scope)
        return {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL, "scope": scope}

    # -- userinfo -------------------------------------------------------------------------------------------

    def userinfo(self, request: Request) -> Response:
        """``GET|POST /userinfo`` with ``Authorization: Bearer <access token of a code flow>``."""
        header = request.headers.get("authorization", "")
        found = self._tokens.get(header[7:].strip()) if header[:7].lower() == "bearer " else None
        if found is None or found.expires_at <= self.clock():
            return JSONResponse(
                {"error": "invalid_token", "error_description": "missing, unknown or expired access token"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return JSONResponse(self.person_claims(found.person), headers=NO_STORE)


def _page(title: str, body: str, status: int = 200) -> Response:
    return page("Latvija.lv (sandbox)", title, body, status)


def broker_of(app: Starlette) -> IdentityBroker:
    """The broker behind an app made by ``create_idp_app``."""
    broker = app.state.broker
    assert isinstance(broker, IdentityBroker)
    return broker


def create_idp_app(
    *,
    issuer: str | None = None,
    clients: Iterable[OidcClient] | None = None,
    persons: Iterable[Person] | None = None,
    audience: str = GATEWAY_AUDIENCE,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The identity broker as a Starlette app (``None`` means the defaults of ``sandbox.identities``).

    ``issuer``: fixed issuer URL; ``None`` derives it per request (see the module docstring).
    ``audience``: the ``aud`` of client-credentials access tokens.
    ``clock``: seconds since the epoch (tests move time).
    The broker object is ``app.state.broker`` (or ``broker_of(app)``).
    """
    broker = IdentityBroker(issuer=issuer, clients=clients, persons=persons, audience=audience, clock=clock)

    async def discovery(request: Request) -> Response:
        return JSONResponse(broker.metadata(broker.issuer_for(request)))

    async def authorize(request: Request) -> Response:
        return broker.authorize(request)

    async def jwks(request: Request) -> Response:
        return JSONResponse(dict(broker.keys.jwks()))

    async def userinfo(request: Request) -> Response:
        return broker.userinfo(request)

    async def rotate(request: Request) -> Response:
        kid = broker.rotate_keys()
        return JSONResponse({"kid": kid, "kids": [k["kid"] for k in broker.keys.jwks()["keys"]]})

    app = Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
            Route("/authorize", authorize, methods=["GET"]),
            Route("/token", broker.token, methods=["POST"]),
            Route("/jwks", jwks, methods=["GET"]),
            Route("/userinfo", userinfo, methods=["GET", "POST"]),
            Route("/_rotate", rotate, methods=["POST"]),
        ]
    )
    app.state.broker = broker
    return app
