"""Opaque session tokens kept in the shared store, with idle and absolute timeouts.

The token is the bearer token for API clients and the value of the HttpOnly cookie for browsers. Only its
SHA-256 is stored, so a leaked store dump gives no usable token. Each user's session ids are indexed, so that
a password change, a block or a termination ends all of them at once, on every instance.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass

from auth.accounts import STAMP_PREFIX
from auth.throttle import over_limit, retry_after, window_of
from gateway.store import Store, Tally

COOKIE_NAME = "esakari_session"
# The user limit's keys, ``over_limit``'s ``rate:<key>:<window>`` with the key ``user:<id>``: counted in the
# session's read (a ``Tally``) and, for a request without a session, by ``count_request``.
USER_LIMIT = "user:"


@dataclass(frozen=True, slots=True)
class Session:
    id: str  # the SHA-256 of the token
    user_id: str
    created_at: float
    absolute_expiry: float
    # The user's account stamp as the store had it when the session was read ("" for none; see auth/accounts)
    account_stamp: str | None = None
    # Seconds until the user's requests are within their rate limit again; None while they are
    retry_after: int | None = None


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    """Create, resolve (and keep alive) and end sessions."""

    def __init__(
        self,
        store: Store,
        idle_seconds: int,
        absolute_seconds: int,
        request_limit: tuple[int, int] | None = None,
    ) -> None:
        self.store = store
        self.idle = idle_seconds
        self.absolute = absolute_seconds
        # Requests per seconds of each user, all sessions and instances together (terms 12.2); None: no limit
        self.request_limit = request_limit

    async def create(self, user_id: str) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = time.time()
        session = Session(_session_id(token), user_id, now, now + self.absolute)
        payload = json.dumps({"u": user_id, "c": now, "a": session.absolute_expiry})
        await self.store.put(f"sess:{session.id}", payload, ttl=self.idle)
        await self.store.set_add(f"usess:{user_id}", session.id, ttl=self.absolute)
        return token, session

    async def resolve(self, token: str) -> Session | None:
        """The live session of a token, its idle timer restarted and the request counted against its user's
        rate limit; None when unknown or expired."""
        sid = _session_id(token)
        now = time.time()
        limit = self.request_limit
        tally = None if limit is None else Tally(f"rate:{USER_LIMIT}", window_of(limit, now), 2 * limit[1])
        # One round trip: the idle timer restarts as the session is read, and the user's account stamp and
        # request count come with it. Near the absolute expiry the key may outlive it by up to the idle
        # timeout; the check below refuses it all the same.
        touched = await self.store.get_touch_linked(f"sess:{sid}", self.idle, "u", STAMP_PREFIX, tally)
        if touched.value is None:
            return None
        data = json.loads(touched.value)
        if now >= data["a"]:
            await self.store.delete(f"sess:{sid}")
            return None
        wait = None
        if limit is not None and touched.counted is not None:
            wait = retry_after(touched.counted, int(touched.before or 0), limit, now)
        return Session(sid, data["u"], data["c"], data["a"], touched.linked or "", wait)

    async def count_request(self, user_id: str) -> int | None:
        """Count a request the user makes without a session (a signed download link) under the same limit
        as ``resolve``'s; the seconds until there is room again when it is over, else None."""
        if self.request_limit is None:
            return None
        return await over_limit(self.store, f"{USER_LIMIT}{user_id}", self.request_limit)

    async def end(self, token: str) -> str | None:
        """End one session; returns its user id when there was one."""
        session = await self.resolve(token)
        if session is None:
            return None
        await self.store.delete(f"sess:{session.id}")
        await self.store.set_remove(f"usess:{session.user_id}", session.id)
        return session.user_id

    async def end_all(self, user_id: str, *, keep: str | None = None) -> int:
        """End every session of the user, on every instance; ``keep`` spares one (the caller's own)."""
        ids = await self.store.set_members(f"usess:{user_id}") - {keep}
        for sid in ids:
            await self.store.set_remove(f"usess:{user_id}", sid)
        await self.store.delete(*(f"sess:{sid}" for sid in ids))
        return len(ids)
