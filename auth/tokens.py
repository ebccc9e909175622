"""One-time tokens for mailed links (password reset, first password): random, stored hashed, single use."""

from __future__ import annotations

import hashlib
import secrets

from gateway.store import Store


class OneTimeTokens:
    def __init__(self, store: Store, purpose: str) -> None:
        self.store = store
        self.purpose = purpose

    def _key(self, token: str) -> str:
        return f"ott:{self.purpose}:{hashlib.sha256(token.encode()).hexdigest()}"

    async def issue(self, user_id: str, ttl_seconds: int) -> str:
        token = secrets.token_urlsafe(32)
        await self.store.put(self._key(token), user_id, ttl=ttl_seconds)
        return token

    async def peek(self, token: str) -> str | None:
        """The user of a live token, without using it up (to check a new password before spending it)."""
        return await self.store.get(self._key(token)) if token else None

    async def take(self, token: str) -> str | None:
        """The user of a live token, which is gone afterwards; None when unknown, used or expired."""
        return await self.store.take(self._key(token)) if token else None
