"""Partner banks as machine clients: access tokens from the identity broker, and per-bank rate limits.

A bank gets a token by the client-credentials grant (scope ``settlement:read``) and sends it as a bearer
token. It is accepted when it is an access token (``typ: at+jwt``, so an ID token with the same audience
never passes), signed by the broker's current keys, from the broker, for the gateway, unexpired, issued to a
registered bank, and carrying the scope.

A bank sends the same token for its whole life (minutes), and checking its signature was about an eighth of
the CPU of a settlement query. So an accepted token is remembered with its bank and expiry and the key set
that accepted it: it is accepted again without a second check until it expires, and checked afresh once the
key set is fetched again (a rotation, or its ``ttl``), just as a key dropped from the set stops working now.
Only accepted tokens are remembered, at most ``remembered`` of them, so forged ones cost a check each as
before and cannot fill the memory.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from joserfc.jwk import KeySet

from auth.jwt import InvalidJwt, RemoteKeys, verify
from auth.throttle import over_limit
from gateway.store import Store

SETTLEMENT_SCOPE = "settlement:read"


class BankTokens:
    def __init__(
        self,
        keys: RemoteKeys,
        *,
        issuer: str,
        audience: str,
        banks: Iterable[str],
        remembered: int = 1024,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.banks = frozenset(banks)
        self.remembered = remembered
        # token → (bank id, its exp, the key set that accepted it), oldest first
        self._accepted: dict[str, tuple[str, float, KeySet]] = {}

    async def bank_of(self, token: str) -> str:
        """The bank id the token was issued to; ``InvalidJwt`` for anything not acceptable."""
        known = self._accepted.get(token)
        if known is not None:
            bank_id, expires, accepted_by = known
            if time.time() < expires and self.keys.current() is accepted_by:
                return bank_id
            del self._accepted[token]
        before = self.keys.current() or await self.keys.get()
        bank_id, expires = await self._check(token)
        keys = self.keys.current()
        # Remembered only when no fetch came between: then ``keys`` is surely the set that accepted it.
        if keys is not None and keys is before:
            if len(self._accepted) >= self.remembered:
                del self._accepted[next(iter(self._accepted))]
            self._accepted[token] = (bank_id, expires, keys)
        return bank_id

    async def _check(self, token: str) -> tuple[str, float]:
        """The bank id and expiry of a token, checked in full."""
        claims = await verify(
            token,
            self.keys,
            issuers=[self.issuer],
            audience=self.audience,
            required=("client_id", "scope"),
            typ="at+jwt",
        )
        bank_id = claims.get("client_id")
        if not isinstance(bank_id, str) or bank_id not in self.banks:
            raise InvalidJwt(f"not a registered bank: {bank_id!r}")
        if SETTLEMENT_SCOPE not in str(claims.get("scope", "")).split():
            raise InvalidJwt(f"the token lacks the scope {SETTLEMENT_SCOPE}")
        return bank_id, float(claims["exp"])


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


class RateLimits:
    """A sliding window per bank (``auth.throttle``): 120 queries a minute unless the bank has its own."""

    def __init__(
        self, store: Store, default: tuple[int, int], per_bank: Mapping[str, tuple[int, int]]
    ) -> None:
        self.store = store
        self.default = default
        self.per_bank = dict(per_bank)

    async def retry_after(self, bank_id: str, now: float | None = None) -> int | None:
        """Count one request; None when it is within the limit, else the seconds to wait."""
        return await over_limit(self.store, bank_id, self.per_bank.get(bank_id, self.default), now)
