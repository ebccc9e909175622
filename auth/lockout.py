"""Lockout after consecutive failures (terms 12.1), counted in the shared store so every instance agrees.

Counted per e-mail, known or not, so that the answers never tell which e-mails have accounts.
"""

from __future__ import annotations

import hashlib

from gateway.store import Store


class Lockout:
    def __init__(self, store: Store, threshold: int, seconds: int) -> None:
        self.store = store
        self.threshold = threshold
        self.seconds = seconds

    @staticmethod
    def _key(email: str) -> str:
        return "lockout:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()

    async def retry_after(self, email: str) -> int | None:
        """Seconds until the e-mail may try again, or None when it is not locked."""
        key = self._key(email)
        count = await self.store.get(key)
        if count is None or int(count) < self.threshold:
            return None
        return await self.store.ttl(key) or self.seconds

    async def failed(self, email: str) -> int:
        return await self.store.incr(self._key(email), ttl=self.seconds)

    async def succeeded(self, email: str) -> None:
        await self.store.delete(self._key(email))
