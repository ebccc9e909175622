"""Rate limits counted in the shared store, so that every instance counts together (terms 12.2).

Each limit is a sliding window approximated from two fixed windows (the current one and the previous one,
weighted by how much of it still overlaps): one atomic increment per request and no clock agreement beyond
the store's. Used for the partner banks' queries (``auth.banks.RateLimits``), the login endpoints per client
address, password-reset mails per address and per e-mail, support reports per user, and every request of a
session's user (counted in the same store step that reads the session, ``auth.sessions``) or, without one,
of a client address at ``/graphql``.
"""

from __future__ import annotations

import logging
import time

from gateway.metrics import count_rate_limited
from gateway.store import Store

log = logging.getLogger("gateway.rate_limits")


def parse_limit(text: str) -> tuple[int, int]:
    """``120/60`` → 120 requests per 60 seconds."""
    count, _, seconds = text.partition("/")
    try:
        parsed = int(count), int(seconds or "60")
    except ValueError:
        raise SystemExit(f"a rate limit is REQUESTS/SECONDS, such as 120/60; got {text!r}") from None
    if parsed[0] < 1 or parsed[1] < 1:
        raise SystemExit(f"a rate limit needs positive numbers; got {text!r}")
    return parsed


def window_of(limit: tuple[int, int], now: float) -> int:
    """The number of the fixed window ``now`` falls in; a count under ``rate:{key}:{number}``."""
    return int(now // limit[1])


def retry_after(count: int, before: int, limit: tuple[int, int], now: float) -> int | None:
    """None when ``count`` requests in the current window and ``before`` in the one before are within
    ``limit``, the older ones weighted by how much of their window still overlaps; else the seconds until
    the window has room again."""
    allowed, window = limit
    elapsed = (now % window) / window
    if before * (1 - elapsed) + count <= allowed:
        return None
    return max(1, int(window - now % window))


async def over_limit(store: Store, key: str, limit: tuple[int, int], now: float | None = None) -> int | None:
    """Count one request under ``key``; None when it is within ``limit`` (requests, seconds), else the seconds
    until the window has room again."""
    now = time.time() if now is None else now
    current = window_of(limit, now)
    base = f"rate:{key}:"
    count, before = await store.incr_and_get(f"{base}{current}", 2 * limit[1], f"{base}{current - 1}")
    return retry_after(count, int(before or 0), limit, now)


def refused(limit: str, who: str, retry_after: int | None) -> None:
    """The anomaly hook: a request the limit ``limit`` refused (or dropped), counted in ``/metrics``
    (``gateway_rate_limited_total{limit}``, for alerts) and logged with who sent it."""
    count_rate_limited(limit)
    wait = "" if retry_after is None else f" for {retry_after} s"
    log.warning("rate limit %s: %s refused%s", limit, who, wait)
