"""OAuth 2.0 pieces of the sandbox identity broker: errors, client authentication, PKCE, redirects."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import unquote_plus, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse

from sandbox.identities import OidcClient

PKCE_VALUE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 4.1: a verifier; an S256 challenge fits too
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 5.1: token responses are not cached


class OAuthError(Exception):
    """An RFC 6749 error, answered as JSON ``{"error", "error_description"}`` (401: ``WWW-Authenticate``)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> JSONResponse:
        """The error as the token endpoint answers it."""
        headers = dict(NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="idp"'
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)


def authenticate_client(
    request: Request, form: Mapping[str, str], clients: Mapping[str, OidcClient]
) -> OidcClient:
    """The client authenticated by ``client_secret_basic`` or ``client_secret_post`` (exactly one of them).

    Raises ``OAuthError``: ``invalid_client`` (401) for missing, malformed, unknown or wrong credentials.
    """
    header = request.headers.get("authorization", "")
    basic = header[6:].strip() if header[:6].lower() == "basic " else None
    if basic is not None:
        if "client_secret" in form:
            raise OAuthError("invalid_request", "use one client authentication method, not two")
        try:
            client_id, _, secret = base64.b64decode(basic, validate=True).decode().partition(":")
        except ValueError:
            raise OAuthError("invalid_client", "malformed Basic credentials", 401) from None
        if form.get("client_id", client_id) != client_id:
            raise OAuthError("invalid_request", "client_id differs from the authenticated client")
    elif "client_secret" in form:
        client_id, secret = form.get("client_id", ""), form["client_secret"]
    else:
        raise OAuthError("invalid_client", "client authentication is required", 401)
    # Basic credentials should be form-encoded (RFC 6749 2.3.1), but many clients (authlib too) send them raw.
    client = clients.get(client_id) or clients.get(unquote_plus(client_id))
    if client is None or not any(
        hmac.compare_digest(candidate.encode(), client.client_secret.encode())
        for candidate in {secret, unquote_plus(secret)}
    ):
        raise OAuthError("invalid_client", "unknown client or wrong secret", 401)
    return client


def s256(verifier: str) -> str:
    """The PKCE S256 code challenge of ``verifier``."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def pkce_matches(verifier: str, challenge: str) -> bool:
    """True when ``verifier`` is well formed and its S256 challenge is ``challenge``."""
    return PKCE_VALUE.fullmatch(verifier) is not None and hmac.compare_digest(s256(verifier), challenge)


def redirect_with(uri: str, params: Mapping[str, str], state: str | None) -> RedirectResponse:
    """A 302 to ``uri`` with ``params`` and ``state`` added to its query."""
    query = dict(params)
    if state is not None:
        query["state"] = state
    separator = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{separator}{urlencode(query)}", status_code=302)
