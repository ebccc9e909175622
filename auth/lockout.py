"""Lockout after consecutive failures (terms 12.1), counted in the shared store so every instance agrees.

Counted per e-mail, known or not, so that the answers never tell which e-mails have accounts.

Failures count "in a row" while each comes within ``seconds`` of the one before (the count's time to live
starts again with each); the failure that reaches ``threshold`` locks the e-mail for ``seconds`` from then,
and a success ends the row. A try is counted *before* its password is checked, in one step with the check of
the lock: tries sent in parallel get ``threshold`` password checks between them, not one each.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from gateway.store import Store


@dataclass(frozen=True, slots=True)
class Attempt:
    """A login try as the lockout saw it: its place in the row, or the seconds to wait when refused."""

    email: str
    number: int
    retry_after: int | None


class Lockout:
    def __init__(self, store: Store, threshold: int, seconds: int) -> None:
        self.store = store
        self.threshold = threshold
        self.seconds = seconds

    @staticmethod
    def _keys(email: str) -> tuple[str, str]:
        """The e-mail's count of failures in a row and its lock."""
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return "lockout:" + digest, "lockout:lock:" + digest

    async def retry_after(self, email: str) -> int | None:
        """Seconds until the e-mail may try again, or None when it is not locked."""
        _, lock = self._keys(email)
        if await self.store.get(lock) is None:
            return None
        return await self.store.ttl(lock) or self.seconds

    async def begin(self, email: str) -> Attempt:
        """Counts a try before its password is checked; ``retry_after`` set: refused, check nothing.

        A try beyond the threshold (sent while the threshold's own was being checked) locks the e-mail
        itself, so that no count passes the threshold without a lock to end it."""
        count, lock = self._keys(email)
        number = await self.store.count_unless(count, self.seconds, lock)
        if number is None:
            return Attempt(email, 0, await self.store.ttl(lock) or self.seconds)
        attempt = Attempt(email, number, None)
        if number > self.threshold:
            await self._lock(attempt, only_new=True)
            return Attempt(email, number, self.seconds)
        return attempt

    async def failed(self, attempt: Attempt) -> None:
        """A wrong password or an unknown e-mail: the one that reaches the threshold locks the e-mail."""
        if attempt.number >= self.threshold:
            await self._lock(attempt)

    async def succeeded(self, attempt: Attempt) -> None:
        """The right password: the row ends (a lock set meanwhile by a parallel try stays)."""
        await self.store.delete(self._keys(attempt.email)[0])

    async def _lock(self, attempt: Attempt, only_new: bool = False) -> None:
        count, lock = self._keys(attempt.email)
        await self.store.put(lock, "1", ttl=self.seconds, only_new=only_new)
        await self.store.delete(count)
