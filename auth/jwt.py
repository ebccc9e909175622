"""Verifying JWTs signed by others (partner banks' assertions, the identity broker's access tokens).

Keys come from a JWKS endpoint, cached; an unknown ``kid`` fetches the set again (at most every few seconds),
so a key rotation is followed without letting a stream of forged ``kid`` values hammer the endpoint. Only the
asymmetric algorithms we expect are accepted: ``alg: none`` and HMAC with a public key as secret never pass.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from joserfc import jwt
from joserfc._rfc7519.claims import ClaimsOption
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

ALGORITHMS = ["RS256", "ES256", "PS256"]


class InvalidJwt(Exception):
    """The token is not acceptable; the message is for logs, never for the caller."""


class RemoteKeys:
    """A JWKS fetched by ``fetch`` and kept for ``ttl`` seconds."""

    def __init__(
        self, fetch: Callable[[], Awaitable[dict[str, Any]]], ttl: float = 300, min_refetch: float = 5
    ):
        self._fetch = fetch
        self.ttl = ttl
        self.min_refetch = min_refetch
        self._keys: KeySet | None = None
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def get(self, *, refresh: bool = False) -> KeySet:
        async with self._lock:
            now = time.monotonic()
            stale = self._keys is None or now - self._fetched > self.ttl
            if stale or (refresh and now - self._fetched >= self.min_refetch):
                self._keys = KeySet.import_key_set(await self._fetch())  # type: ignore[arg-type]
                self._fetched = now
            assert self._keys is not None
            return self._keys

    def current(self) -> KeySet | None:
        """The set held now if it is within its ``ttl``, else None; never fetches, never waits."""
        if self._keys is None or time.monotonic() - self._fetched > self.ttl:
            return None
        return self._keys


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload without any check: only to pick whose keys to verify with."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise InvalidJwt("not a JWT") from exc
    if not isinstance(data, dict):
        raise InvalidJwt("not a JWT")
    return data


async def verify(
    token: str,
    keys: RemoteKeys,
    *,
    issuers: Iterable[str],
    audience: str,
    max_age: int | None = None,
    leeway: int = 30,
    required: Iterable[str] = (),
    typ: str | None = None,
) -> dict[str, Any]:
    """The claims of a token signed by one of ``keys``, from one of ``issuers``, for ``audience``, unexpired.

    ``max_age`` bounds how long ago it was issued (``iat``); ``required`` names more claims it must hold;
    ``typ`` is the header type it must declare (``at+jwt`` for access tokens, so an ID token never passes).
    """
    try:
        try:
            decoded = jwt.decode(token, await keys.get(), algorithms=ALGORITHMS)
        except InvalidKeyIdError:
            decoded = jwt.decode(token, await keys.get(refresh=True), algorithms=ALGORITHMS)
        claims = dict(decoded.claims)
        if typ is not None and str(decoded.header.get("typ", "")).lower() != typ:
            raise InvalidJwt(f"not a {typ} token")
        options: dict[str, ClaimsOption] = {
            "iss": {"essential": True, "values": list(issuers)},
            "aud": {"essential": True, "value": audience},
            "exp": {"essential": True},
        }
        options.update({name: {"essential": True} for name in required})
        registry = jwt.JWTClaimsRegistry(None, leeway, **options)
        registry.validate(claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidJwt(f"{type(exc).__name__}: {exc}") from exc
    if max_age is not None:
        issued = claims.get("iat")
        if not isinstance(issued, int | float) or issued < time.time() - max_age - leeway:
            raise InvalidJwt("issued too long ago (or without iat)")
        if issued > time.time() + leeway:
            raise InvalidJwt("issued in the future")
    return claims
