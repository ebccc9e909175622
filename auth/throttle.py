"""Rate limits counted in the shared store, so that every instance counts together (terms 12.2).

Each limit is a sliding window approximated from two fixed windows (the current one and the previous one,
weighted by how much of it still overlaps): one atomic increment per request and no clock agreement beyond
the store's. Used for the partner banks' queries (``auth.banks.RateLimits``), the login endpoints per client
address, password-reset mails per address and per e-mail, and support reports per user.
"""

from __future__ import annotations

import time

from gateway.store import Store


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


async def over_limit(store: Store, key: str, limit: tuple[int, int], now: float | None = None) -> int | None:
    """Count one request under ``key``; None when it is within ``limit`` (requests, seconds), else the seconds
    until the window has room again."""
    allowed, window = limit
    now = time.time() if now is None else now
    current = int(now // window)
    count, before = await store.incr_and_get(f"rate:{key}:{current}", 2 * window, f"rate:{key}:{current - 1}")
    elapsed = (now % window) / window
    if int(before or 0) * (1 - elapsed) + count <= allowed:
        return None
    return max(1, int(window - now % window))
