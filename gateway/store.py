"""The shared key-value store: Redis when ``REDIS_URL`` is set, an in-process one otherwise.

Sessions, lockout counters, rate limits, short caches and maintenance mode live here, so that with Redis any
number of gateway instances see the same state. The in-memory store serves one instance only.
"""

from __future__ import annotations

import json
import time
from typing import NamedTuple, Protocol

import redis.asyncio as aioredis
from redis.maint_notifications import MaintNotificationsConfig


class Tally(NamedTuple):
    """A request to count with a read: under ``prefix + link + ":" + window`` (the key ``auth.throttle``'s
    ``over_limit`` would use), its time to live ``ttl`` set by the first count; the window before is read."""

    prefix: str
    window: int
    ttl: int


class Touched(NamedTuple):
    """What ``get_touch_linked`` read: the value, the linked key's value and, when asked, the tally's new
    count and the window before's (``None`` for what is absent or was not asked)."""

    value: str | None
    linked: str | None = None
    counted: int | None = None
    before: str | None = None


class Store(Protocol):
    """The operations the gateway needs; every key may carry a time to live in seconds."""

    async def get(self, key: str) -> str | None: ...

    async def get_touch_linked(
        self, key: str, ttl: int, field: str, prefix: str, tally: Tally | None = None
    ) -> Touched:
        """Read a value and restart its time to live (a session's idle timer) and, in the same step, read the
        key ``prefix + value[field]`` of that value, a JSON object (the session's user's account stamp) and,
        with a ``tally``, count a request under that same field (the user's rate limit)."""
        ...

    async def put(self, key: str, value: str, ttl: int | None = None, *, only_new: bool = False) -> bool:
        """Store ``value``; with ``only_new`` only when the key is absent. True when written."""
        ...

    async def delete(self, *keys: str) -> None: ...

    async def take(self, key: str) -> str | None:
        """Read and delete in one step: of two callers racing for a one-time value, one gets it."""
        ...

    async def count_unless(self, key: str, ttl: int, blocker: str) -> int | None:
        """Add one to ``key`` and return the new count, its time to live set to ``ttl`` again on each
        increment; None, counting nothing, while ``blocker`` is present. One step: of a count and a blocker
        set together, no caller sees the count without the blocker."""
        ...

    async def incr_and_get(self, key: str, ttl: int, other: str) -> tuple[int, str | None]:
        """Add one to ``key`` and return the new count, with ``get(other)``, in one step (a rate limit's
        window and the one before); the time to live starts with the first increment."""
        ...

    async def ttl(self, key: str) -> int | None: ...

    async def set_add(self, key: str, member: str, ttl: int) -> None: ...

    async def set_members(self, key: str) -> set[str]: ...

    async def set_remove(self, key: str, member: str) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryStore:
    """A dict with expiry: the embedded default for a single instance."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[object, float | None]] = {}

    def _live(self, key: str) -> object | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= time.monotonic():
            del self._values[key]
            return None
        return value

    @staticmethod
    def _expiry(ttl: int | None) -> float | None:
        return time.monotonic() + ttl if ttl else None

    async def get(self, key: str) -> str | None:
        value = self._live(key)
        return value if isinstance(value, str) else None

    async def get_touch_linked(
        self, key: str, ttl: int, field: str, prefix: str, tally: Tally | None = None
    ) -> Touched:
        value = self._live(key)
        if not isinstance(value, str):
            return Touched(None)
        self._values[key] = (value, self._expiry(ttl))
        try:
            link = json.loads(value).get(field)
        except (ValueError, AttributeError):
            link = None
        if not isinstance(link, str):
            return Touched(value)
        linked = await self.get(prefix + link)
        if tally is None:
            return Touched(value, linked)
        base = f"{tally.prefix}{link}:"
        window = tally.window
        count, before = await self.incr_and_get(f"{base}{window}", tally.ttl, f"{base}{window - 1}")
        return Touched(value, linked, count, before)

    async def put(self, key: str, value: str, ttl: int | None = None, *, only_new: bool = False) -> bool:
        if only_new and self._live(key) is not None:
            return False
        self._values[key] = (value, self._expiry(ttl))
        return True

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._values.pop(key, None)

    async def take(self, key: str) -> str | None:
        value = await self.get(key)
        self._values.pop(key, None)
        return value

    def _incr(self, key: str, ttl: int, *, renew: bool) -> int:
        current = self._live(key)
        count = int(current) + 1 if isinstance(current, str) else 1
        expires = self._values[key][1] if current is not None and not renew else self._expiry(ttl)
        self._values[key] = (str(count), expires)
        return count

    async def count_unless(self, key: str, ttl: int, blocker: str) -> int | None:
        if self._live(blocker) is not None:
            return None
        return self._incr(key, ttl, renew=True)

    async def incr_and_get(self, key: str, ttl: int, other: str) -> tuple[int, str | None]:
        return self._incr(key, ttl, renew=False), await self.get(other)

    async def ttl(self, key: str) -> int | None:
        if self._live(key) is None:
            return None
        expires = self._values[key][1]
        return None if expires is None else max(0, round(expires - time.monotonic()))

    async def set_add(self, key: str, member: str, ttl: int) -> None:
        current = self._live(key)
        members = set(current) if isinstance(current, set) else set()
        members.add(member)
        self._values[key] = (members, self._expiry(ttl))

    async def set_members(self, key: str) -> set[str]:
        current = self._live(key)
        return set(current) if isinstance(current, set) else set()

    async def set_remove(self, key: str, member: str) -> None:
        current = self._live(key)
        if isinstance(current, set):
            current.discard(member)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._values.clear()


# INCR with the time to live set by the first increment (EXPIRE NX: Redis 7) and GET of a second key: one
# command and one answer, where a MULTI/EXEC pipeline (and a GET) took three answers (and a round trip) more.
# A script runs whole, so the count and its expiry are set together.
_COUNT = """
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
return {count, redis.call('GET', KEYS[2])}
"""

# INCR with the time to live set again on each increment, unless the blocker key exists (then nothing):
# the check and the count in one step.
_COUNT_UNLESS = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  return false
end
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return count
"""


# GETEX (Redis 6.2 or newer) of a JSON value and GET of the key one of its fields names and, when ARGV[4] (a
# tally's prefix) is not empty, _COUNT's work on the keys that field names (a session, its user's account
# stamp and the user's rate-limit window, read on every request), in one round trip. The keys built here are
# not in KEYS: fine on one Redis, not on a cluster.
_GET_TOUCH_LINKED = """
local value = redis.call('GETEX', KEYS[1], 'EX', ARGV[1])
if not value then
  return {false, false, false, false}
end
local ok, decoded = pcall(cjson.decode, value)
if not ok or type(decoded) ~= 'table' or type(decoded[ARGV[2]]) ~= 'string' then
  return {value, false, false, false}
end
local link = decoded[ARGV[2]]
local linked = redis.call('GET', ARGV[3] .. link)
if ARGV[4] == '' then
  return {value, linked, false, false}
end
local counted = ARGV[4] .. link .. ':' .. ARGV[5]
local count = redis.call('INCR', counted)
redis.call('EXPIRE', counted, ARGV[7], 'NX')
return {value, linked, count, redis.call('GET', ARGV[4] .. link .. ':' .. ARGV[6])}
"""


CLIENT_NAME = "esakari-gateway"


class RedisStore:
    """Redis through redis-py's asyncio client; keys are prefixed so that a database can be shared."""

    def __init__(self, url: str, prefix: str = "gw:") -> None:
        # Each new connection names itself (CLIENT LIST shows the gateway's) and asks nothing a Redis before
        # 7.2 refuses: redis-py's CLIENT SETINFO and its maintenance notifications (a Redis Cloud feature)
        # cost three refused commands per connection there, each an error left for the garbage collector.
        self._redis = aioredis.Redis.from_url(
            url,
            decode_responses=True,
            health_check_interval=30,
            client_name=CLIENT_NAME,
            driver_info=None,
            maint_notifications_config=MaintNotificationsConfig(enabled=False),
        )
        self._prefix = prefix
        # Sent by its SHA1 (EVALSHA); redis-py loads it again when the server has forgotten it.
        self._count = self._redis.register_script(_COUNT)
        self._count_unless = self._redis.register_script(_COUNT_UNLESS)
        self._get_touch_linked = self._redis.register_script(_GET_TOUCH_LINKED)

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._k(key))
        return value if value is None else str(value)

    async def get_touch_linked(
        self, key: str, ttl: int, field: str, prefix: str, tally: Tally | None = None
    ) -> Touched:
        counting: list[str | int] = ["", "", "", ""]
        if tally is not None:
            counting = [self._k(tally.prefix), tally.window, tally.window - 1, tally.ttl]
        value, linked, count, before = await self._get_touch_linked(
            keys=[self._k(key)], args=[ttl, field, self._k(prefix), *counting]
        )
        return Touched(value, linked, None if count is None else int(count), before)

    async def put(self, key: str, value: str, ttl: int | None = None, *, only_new: bool = False) -> bool:
        written = await self._redis.set(self._k(key), value, ex=ttl or None, nx=only_new)
        return bool(written)

    async def delete(self, *keys: str) -> None:
        if keys:
            await self._redis.delete(*(self._k(k) for k in keys))

    async def take(self, key: str) -> str | None:
        value = await self._redis.getdel(self._k(key))
        return value if value is None else str(value)

    async def count_unless(self, key: str, ttl: int, blocker: str) -> int | None:
        count = await self._count_unless(keys=[self._k(key), self._k(blocker)], args=[ttl])
        return None if count is None else int(count)

    async def incr_and_get(self, key: str, ttl: int, other: str) -> tuple[int, str | None]:
        count, value = await self._count(keys=[self._k(key), self._k(other)], args=[ttl])
        return int(count), value if value is None else str(value)

    async def ttl(self, key: str) -> int | None:
        remaining = int(await self._redis.ttl(self._k(key)))
        return remaining if remaining >= 0 else None

    async def set_add(self, key: str, member: str, ttl: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self._k(key), member)
            pipe.expire(self._k(key), ttl)
            await pipe.execute()

    async def set_members(self, key: str) -> set[str]:
        return {str(m) for m in await self._redis.smembers(self._k(key))}

    async def set_remove(self, key: str, member: str) -> None:
        await self._redis.srem(self._k(key), member)

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def create_store(redis_url: str | None, prefix: str = "gw:") -> Store:
    """The one place that picks the store."""
    return RedisStore(redis_url, prefix) if redis_url else MemoryStore()
